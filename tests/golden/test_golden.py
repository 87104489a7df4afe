"""Golden histories: committed case histories that must keep replaying to their recorded state.

Each file is a real engine run with its BPMN files and the case as the engine stored it. The files
directly under tests/golden/ are written by ``python -m tests.golden.generate`` with the current
history format; format1/, format2/ and format3/ are frozen runs of earlier formats (format1/ written by the
engine before the case core), never regenerated: a case keeps replaying under the rules it started
with. Every run re-executes them through the runtime's rules (deep replay) and re-applies them
(rebuild); the current ones together must hold every event kind the engine can emit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from engine import audit_store
from engine.calendar import CalendarOverride, WorkingCalendar
from engine.domain.evolve import handled_kinds
from engine.domain.state import HISTORY_FORMAT
from engine.domain.vocab import EventKind
from engine.procedures import compile_files
from engine.replay import ReplayEvent, VersionSpec, rebuild, replay

HERE = Path(__file__).resolve().parent
GOLDENS = sorted(HERE.glob("*.json")) + sorted(HERE.glob("format*/*.json"))
CALENDAR = WorkingCalendar()


def calendar_of(path: Path) -> Callable[[datetime], WorkingCalendar]:
    """The working calendar at each moment of a golden's run: its recorded overrides from when each
    was entered (as engine.audit_store.calendar_history reads them from the database)."""
    rows = json.loads(path.read_text(encoding="utf-8")).get("overrides") or []
    if not rows:
        return lambda _at: CALENDAR

    def at(moment: datetime) -> WorkingCalendar:
        known = [r for r in rows if datetime.fromisoformat(r["created_at"]) <= moment]
        return CALENDAR.with_overrides(
            *(CalendarOverride(date.fromisoformat(r["day"]), r["kind"], r["note"]) for r in known)
        )

    return at


def load(path: Path) -> tuple[VersionSpec, list[ReplayEvent], dict[str, Any]]:
    golden = json.loads(path.read_text(encoding="utf-8"))
    version = compile_files(golden["procedure_id"], golden["files"])
    events = [
        ReplayEvent(
            kind=e["kind"],
            at=datetime.fromisoformat(e["at"]),
            actor=e["actor"],
            task_id=e["task_id"],
            element_id=e["element_id"],
            status_from=e["status_from"],
            status_to=e["status_to"],
            payload=e["payload"],
            seq=e["seq"],
        )
        for e in golden["events"]
    ]
    spec = VersionSpec(meta=version.meta, elements=version.elements, specs=version.specs)
    return spec, events, golden["final"]


def plain(value: Any) -> Any:
    """Tuples and lists alike, as JSON has them."""
    return json.loads(json.dumps(value))


def test_there_are_goldens() -> None:
    assert len(GOLDENS) >= 20
    assert sorted({p.parent.name for p in GOLDENS}) == ["format1", "format2", "format3", "golden"]


IDS = [f"{p.parent.name}/{p.stem}" for p in GOLDENS]


@pytest.mark.parametrize("path", GOLDENS, ids=IDS)
@pytest.mark.parametrize("mode", ["fast", "faithful"])
def test_golden_replays_to_its_recorded_state(path: Path, mode: str) -> None:
    spec, events, final = load(path)
    result = replay(spec, events, audit_store.script_engine_for, calendar_of(path), mode=mode)  # type: ignore[arg-type]
    assert result.divergence is None, result.divergence
    assert [s.seq for s in result.states] == [e.seq for e in events]
    assert plain(result.states[-1].comparable()) == plain(final)


@pytest.mark.parametrize("path", GOLDENS, ids=IDS)
def test_golden_rebuilds_to_its_recorded_state(path: Path) -> None:
    spec, events, final = load(path)
    result = rebuild(spec, events, calendar_of(path))
    assert result.divergence is None, result.divergence
    assert plain(result.states[-1].comparable()) == plain(final)


def test_goldens_hold_every_event_kind_and_the_core_handles_each() -> None:
    current = [p for p in GOLDENS if p.parent == HERE]
    seen = {e.kind for path in current for e in load(path)[1]}
    assert seen == {k.value for k in EventKind}  # the current format alone holds every kind
    assert handled_kinds() == {k.value for k in EventKind}


def test_goldens_hold_both_waits_and_both_breaches() -> None:
    events = [e for path in GOLDENS for e in load(path)[1]]
    assert {e.payload.get("waiting_for") for e in events if e.kind == "clock_paused"} == {
        "supplementation",
        "payment",
    }
    assert {e.payload.get("rule") for e in events if e.kind == "sla_breach"} == {
        "receipt_8_working_hours",
        "statutory_due",
    }
    reasons = {str(e.payload.get("reason")) for e in events if e.kind == "due_set"}
    assert {"accepted", "supplemented_restart", "paid_extend", "extended_bulk"} <= reasons


@pytest.mark.parametrize("at", [3, 10])
def test_an_unknown_event_kind_is_a_divergence_at_its_seq(at: int) -> None:
    spec, events, _ = load(HERE / "diploma_everything.json")
    assert events[0].payload["format"] == HISTORY_FORMAT
    forged = list(events)
    forged[at - 1] = ReplayEvent(**{**forged[at - 1].__dict__, "kind": "invented_kind"})
    for result in (
        replay(spec, forged, audit_store.script_engine_for, lambda _at: CALENDAR),  # type: ignore[arg-type]
        rebuild(spec, forged, lambda _at: CALENDAR),
    ):
        assert result.divergence is not None and result.divergence.seq == at
        assert len(result.states) == at - 1


def test_a_row_that_does_not_replay_is_a_divergence_at_its_seq() -> None:
    spec, events, _ = load(HERE / "diploma_everything.json")
    index = next(i for i, e in enumerate(events) if e.kind == "apology_issued")
    forged = list(events)
    forged[index] = ReplayEvent(**{**events[index].__dict__, "payload": {"new_due_at": "không phải ngày"}})
    for result in (
        replay(spec, forged, audit_store.script_engine_for, lambda _at: CALENDAR),  # type: ignore[arg-type]
        rebuild(spec, forged, lambda _at: CALENDAR),
    ):
        assert result.divergence is not None and result.divergence.seq == events[index].seq


def test_the_scripted_operations_verify_and_replay_on_both_databases(engine: Any, clock: Any) -> None:
    """Every operation the goldens hold, run again on SQLite and PostgreSQL: ``audit verify --all``
    finds nothing (chains, documents, rows against their histories) and each case replays."""
    from tests.golden.generate import SCRIPTED

    codes = [script(engine, clock) for script in SCRIPTED.values()]
    report = engine.verify_history()
    assert report.ok, [f.as_dict() for f in report.findings]
    for code in codes:
        replayed = engine.replay_case(code)
        assert replayed.ok, (code, replayed.divergence, replayed.snapshot_differences)
