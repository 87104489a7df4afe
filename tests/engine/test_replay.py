"""Replay rebuilds, from the events alone, the state the engine had after every operation.

The scenarios are the features' own (features/*.feature, read with the Gherkin parser): their
actions run against the real engine on SQLite and PostgreSQL, the stored view is captured after each
operation, and replay must give exactly that view at the operation's last event, for every
operation of every procedure in bpmn/ — supplementations, timers, parallel branches and apologies
included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner

import run
from engine import audit_store
from engine.cases import find_case
from engine.clock import FixedClock
from engine.replay import CaseState, Mode, ReplayEvent, ReplayResult, comparable_view, replay
from engine.service import CaseView, Engine
from features.conftest import PEOPLE, local
from tests.support.fixtures import VN, vn

FEATURES = Path(__file__).resolve().parents[2] / "features"
# The auditor's own feature tampers with rows on purpose; the legal-time rules compute dates only; the
# digital one-stop feature works two dossiers of one citizen at once (its events — identity, digitising,
# reuse, cash payment — are replayed from tests/golden/digital_reuse.json and cash_at_desk.json).
NOT_PROCEDURES = {"audit", "legal_time_rules", "digital_one_stop"}


@dataclass(frozen=True)
class Scenario:
    feature: str
    name: str
    steps: tuple[tuple[str, str, str | None], ...]  # (keyword type, text, doc string)


def scenarios() -> list[Scenario]:
    found: list[Scenario] = []
    for path in sorted(FEATURES.glob("*.feature")):
        if path.stem in NOT_PROCEDURES:
            continue
        feature = Parser().parse(TokenScanner(path.read_text(encoding="utf-8")))["feature"]
        background: list[tuple[str, str, str | None]] = []
        for child in feature["children"]:
            block = child.get("background") or child.get("scenario")
            steps: list[tuple[str, str, str | None]] = []
            kind = "Context"
            for step in block["steps"]:
                kind = kind if step["keywordType"] == "Conjunction" else step["keywordType"]
                steps.append((kind, step["text"], (step.get("docString") or {}).get("content")))
            if "background" in child:
                background = steps
            else:
                found.append(Scenario(path.stem, block["name"], tuple(background + steps)))
    return found


ACTIONS: list[tuple[re.Pattern[str], Callable[..., str | None]]] = []


def action(pattern: str) -> Callable[[Callable[..., str | None]], Callable[..., str | None]]:
    def register(fn: Callable[..., str | None]) -> Callable[..., str | None]:
        ACTIONS.append((re.compile(pattern), fn))
        return fn

    return register


@action(r'^(?:thời điểm hiện tại là|thời gian trôi tới) "(?P<moment>[^"]+)"$')
def _time(engine: Engine, clock: FixedClock, code: str | None, doc: str | None, moment: str) -> str | None:
    clock.set(local(moment))
    return code


@action(r'^công dân nộp hồ sơ trực tuyến thủ tục "(?P<procedure>[^"]+)" với người nộp "(?P<name>[^"]+)"$')
def _online(
    engine: Engine, clock: FixedClock, code: str | None, doc: str | None, procedure: str, name: str
) -> str:
    request = {"procedure_id": procedure, "applicant": {"name": name}, "channel": 2}
    return engine.start_case(request, engine.actor("citizen")).code


@action(
    r'^cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "(?P<procedure>[^"]+)" '
    r'với người nộp "(?P<name>[^"]+)"$'
)
def _counter(
    engine: Engine, clock: FixedClock, code: str | None, doc: str | None, procedure: str, name: str
) -> str:
    request = {"procedure_id": procedure, "applicant": {"name": name}, "channel": 1}
    return engine.start_case(request, engine.actor("clerk")).code


@action(r'^(?P<person>.+) hoàn thành bước "(?P<element>[^"]+)" với dữ liệu:$')
def _complete(
    engine: Engine, clock: FixedClock, code: str | None, doc: str | None, person: str, element: str
) -> str | None:
    assert code is not None and doc is not None
    engine.complete_task(code, element, json.loads(doc), engine.actor(PEOPLE[person]))
    return code


@action(r"^hệ thống kích hoạt các hẹn giờ đến hạn$")
def _timers(engine: Engine, clock: FixedClock, code: str | None, doc: str | None) -> str | None:
    engine.fire_due_timers()
    return code


@action(
    r'^(?P<person>.+) ban hành phiếu xin lỗi hẹn lại ngày "(?P<moment>[^"]+)" với lý do "(?P<reason>[^"]+)"'
    r'(?: do lỗi của "(?P<unit>[^"]+)")?$'
)
def _apology(
    engine: Engine,
    clock: FixedClock,
    code: str | None,
    doc: str | None,
    person: str,
    moment: str,
    reason: str,
    unit: str | None,
) -> str | None:
    assert code is not None
    actor = engine.actor(PEOPLE[person])
    engine.apologise(code, local(moment), reason, unit or actor.unit or "", actor)
    return code


@action(r'^(?P<person>.+) phê duyệt yêu cầu bổ sung lần thứ hai với lý do "(?P<reason>[^"]+)"$')
def _approve_supplement(
    engine: Engine, clock: FixedClock, code: str | None, doc: str | None, person: str, reason: str
) -> str | None:
    assert code is not None
    engine.approve_supplement(code, reason, engine.actor(PEOPLE[person]))
    return code


@action(
    r'^quản trị hệ thống khai báo ngày "(?P<day>[^"]+)" là (?P<kind>ngày nghỉ|ngày làm bù) '
    r'theo "(?P<basis>[^"]+)"$'
)
def _declare_day(
    engine: Engine, clock: FixedClock, code: str | None, doc: str | None, day: str, kind: str, basis: str
) -> str | None:
    change = "off" if kind == "ngày nghỉ" else "work"
    engine.add_calendar_override(date.fromisoformat(day), change, basis, engine.actor("admin"))
    return code


@action(
    r'^(?P<person>.+) ban hành phiếu xin lỗi vì sai sót "(?P<reason>[^"]+)" '
    r'(?:không hẹn lại|hẹn lại ngày "(?P<moment>[^"]+)")$'
)
def _mistake(
    engine: Engine,
    clock: FixedClock,
    code: str | None,
    doc: str | None,
    person: str,
    reason: str,
    moment: str | None,
) -> str | None:
    assert code is not None
    actor = engine.actor(PEOPLE[person])
    new_due = local(moment) if moment else None
    engine.apologise(code, new_due, reason, actor.unit or "", actor, kind="mistake")
    return code


@action(r'^(?P<person>.+) ban hành phiếu xin lỗi hẹn lại do điều chỉnh lịch ngày "(?P<moment>[^"]+)"$')
def _calendar_apology(
    engine: Engine, clock: FixedClock, code: str | None, doc: str | None, person: str, moment: str
) -> str | None:
    assert code is not None
    actor = engine.actor(PEOPLE[person])
    reason = "Ngày hẹn trùng ngày nghỉ mới"
    engine.apologise(code, local(moment), reason, actor.unit or "", actor, kind="calendar")
    return code


def view_comparable(view: CaseView) -> dict[str, Any]:
    return comparable_view(
        status=view.status,
        data=view.data,
        receipt_due_at=view.receipt_due_at,
        received_at=view.received_at,
        due_at=view.due_at,
        finished_at=view.finished_at,
        returned_at=view.returned_at,
        completed=view.completed,
        outcome=view.outcome,
        sla=view.sla,
        tasks=[(t.task_id, t.element_id, t.role, t.ready_at, t.due_at, t.assignee) for t in view.tasks],
    )


def play(engine: Engine, clock: FixedClock, scenario: Scenario) -> tuple[str, dict[int, CaseView]]:
    """Run the scenario's Given/When steps; the stored view after each operation, by event count."""
    code: str | None = None
    seen: dict[int, CaseView] = {}
    for kind, text, doc in scenario.steps:
        if kind == "Outcome":
            continue  # assertions (even "may not complete…", which change nothing) are the features' job
        for pattern, fn in ACTIONS:
            match = pattern.match(text)
            if match:
                code = fn(engine, clock, code, doc, **match.groupdict())
                break
        else:
            pytest.fail(f"bước hành động chưa được hỗ trợ trong test phát lại: {text}")
        if code is not None:
            view = engine.get_case(code)
            seen[len(engine.events(code))] = view
    assert code is not None, "kịch bản không tạo hồ sơ nào"
    return code, seen


SCENARIOS = scenarios()


def test_the_features_cover_the_five_procedures() -> None:
    procedures = {p.stem for p in (FEATURES.parent / "bpmn").glob("*.bpmn")}
    assert len(procedures) == 5
    assert procedures <= {s.feature for s in SCENARIOS}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.feature}: {s.name}" for s in SCENARIOS])
def test_replay_equals_the_engine_after_every_operation(
    engine: Engine, clock: FixedClock, scenario: Scenario
) -> None:
    code, seen = play(engine, clock, scenario)
    events = engine.events(code)
    assert len(seen) >= 2 and max(seen) == len(events)
    report = engine.replay_case(code)
    assert report.divergence is None, report.divergence
    assert report.snapshot_differences == {}
    full = engine.replay_case(code, 1)  # the same run, asked for an early event
    assert full.state is not None and full.state.seq == 1 and full.state.status == 1
    for mode in ("faithful", "fast"):  # stored and reloaded between operations like the engine, or not
        states = _all_states(engine, code, mode)
        assert [s.seq for s in states] == [e.seq for e in events]
        for count, view in seen.items():
            assert states[count - 1].comparable() == view_comparable(view), f"{mode}: sau sự kiện {count}"
        for state, event in zip(states, events, strict=True):
            _check_event_state(state, event)


def _all_states(engine: Engine, code: str, mode: Mode = "auto") -> list[CaseState]:
    result = _replay(engine, code, stored_events(engine, code), history=True, mode=mode)
    assert result.divergence is None
    return list(result.states)


def stored_events(engine: Engine, code: str) -> list[ReplayEvent]:
    with engine.db.read() as session:
        return audit_store.case_events(session, find_case(session, code).id)


def _replay(
    engine: Engine, code: str, events: list[ReplayEvent], *, history: bool = False, mode: Mode = "auto"
) -> ReplayResult:
    """Replay a (possibly edited) event list of ``code`` with the engine's version and calendar."""
    with engine.db.read() as session:
        case = find_case(session, code)
        calendar = (
            audit_store.calendar_history(session, engine.calendar.current)
            if history
            else (lambda _at: engine.calendar.current)
        )
        return replay(
            audit_store.version_spec(session, engine.procedures, case),
            events,
            audit_store.script_engine_for,
            calendar,
            mode=mode,
        )


def _check_event_state(state: CaseState, event: Any) -> None:
    """What each event says must be visible in the state replayed at that event."""
    open_ids = {t.task_id for t in state.tasks}
    if event.kind == "status_changed":
        assert state.status == event.status_to
    elif event.kind == "task_ready":
        assert event.task_id in open_ids
    elif event.kind == "task_completed":
        assert event.task_id not in open_ids and event.element_id in state.path
    elif event.kind == "due_set":
        assert state.due_at is not None and state.due_at.isoformat() == event.payload["due_at"]
    elif event.kind == "case_finished":
        assert state.outcome == event.payload["outcome"] and state.finished_at == event.at
    elif event.kind == "clock_paused":
        assert state.sla["supplements"] == event.payload["supplements"] and state.sla_status == "paused"
    elif event.kind == "apology_issued" and event.payload["new_due_at"] is not None:
        assert state.due_at is not None and state.due_at.isoformat() == event.payload["new_due_at"]
    elif event.kind == "calendar_changed":
        dues = {t.task_id: t.due_at.isoformat() if t.due_at else None for t in state.tasks}
        assert all(dues[task_id] == due for task_id, due in event.payload["task_dues"].items())


# ------------------------------------------------------------------------- divergences (pure)


def _events(engine: Engine, clock: FixedClock) -> tuple[str, list[ReplayEvent]]:
    view = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Trần Thị Bình"}, "channel": 2},
        engine.actor("citizen"),
    )
    clock.advance(timedelta(minutes=30))
    engine.complete_task(
        view.code,
        "receipt_check",
        {"decision": "accept", "checked_documents": ["TP1", "TP2"]},
        engine.actor("clerk"),
    )
    clock.advance(timedelta(minutes=30))
    engine.complete_task(
        view.code,
        "verify_register",
        {"found": True, "register_ref": "A1", "copies": 1},
        engine.actor("specialist"),
    )
    return view.code, stored_events(engine, view.code)


def _edit(events: list[ReplayEvent], seq: int, **changes: Any) -> list[ReplayEvent]:
    return [replace(e, **changes) if e.seq == seq else e for e in events]


def _seq_of(events: list[ReplayEvent], kind: str, element: str | None = None) -> int:
    return next(e.seq for e in events if e.kind == kind and (element is None or e.element_id == element))


def test_a_recorded_due_date_the_rules_do_not_give_is_a_divergence(engine: Engine, clock: FixedClock) -> None:
    code, events = _events(engine, clock)
    seq = _seq_of(events, "due_set")
    forged = dict(events[seq - 1].payload, due_at=vn(2026, 3, 9, 17, 0).isoformat())
    for mode in ("fast", "faithful"):
        result = _replay(engine, code, _edit(events, seq, payload=forged), mode=mode)
        assert result.divergence is not None and result.divergence.seq == seq
        assert "nội dung" in result.divergence.reason
        assert len(result.states) == seq - 1  # the states before it are still there


def test_changed_task_data_changes_the_path_and_diverges(engine: Engine, clock: FixedClock) -> None:
    code, events = _events(engine, clock)
    seq = _seq_of(events, "task_completed", "verify_register")
    payload = dict(events[seq - 1].payload, data={"found": False})
    result = _replay(engine, code, _edit(events, seq, payload=payload))
    assert result.divergence is not None and result.divergence.seq == seq  # diff no longer matches the data


def test_a_missing_derived_event_is_a_divergence(engine: Engine, clock: FixedClock) -> None:
    code, events = _events(engine, clock)
    seq = _seq_of(events, "status_changed")
    kept = [e for e in events if e.seq != seq]
    result = _replay(engine, code, kept)
    assert result.divergence is not None and result.divergence.seq == seq + 1


def test_a_task_completed_that_was_never_ready_is_a_divergence(engine: Engine, clock: FixedClock) -> None:
    code, events = _events(engine, clock)
    seq = _seq_of(events, "task_completed", "verify_register")
    result = _replay(engine, code, _edit(events, seq, task_id="00000000-0000-0000-0000-000000000000"))
    assert result.divergence is not None and result.divergence.seq == seq
    assert "không đang mở" in result.divergence.reason


def test_replay_uses_the_calendar_known_at_each_moment(engine: Engine, clock: FixedClock) -> None:
    code, _ = _events(engine, clock)
    due = engine.get_case(code).due_at
    assert due is not None
    # Declared afterwards: the due date already computed must replay as it was computed.
    clock.advance(timedelta(minutes=1))
    basis = "QĐ số 9/QĐ-UBND ngày 01/01/2026"
    engine.add_calendar_override(due.astimezone(VN).date(), "off", basis, engine.actor("admin"))
    report = engine.replay_case(code)
    assert report.ok, (report.divergence, report.snapshot_differences)
    # Proof that the override matters: with today's calendar the recorded due date is not reproduced.
    engine.fresh_calendar()
    today = _replay(engine, code, stored_events(engine, code))
    assert today.divergence is not None and today.divergence.found is not None
    assert today.divergence.found["kind"] in ("due_set", "task_ready", "case_started")


def test_claims_reassignments_and_documents_replay(engine: Engine, clock: FixedClock) -> None:
    code, _ = _events(engine, clock)
    task = engine.list_tasks(code)[0]
    views: dict[int, CaseView] = {}

    def step(fn: Callable[[], Any]) -> None:
        fn()
        views[len(engine.events(code))] = engine.get_case(code)

    step(lambda: engine.claim_task(task.task_id, engine.actor("head")))
    step(lambda: engine.release_task(task.task_id, engine.actor("head")))
    step(lambda: engine.reassign_task(task.task_id, "head", engine.actor("director")))
    step(lambda: engine.add_document(code, "TP1", "don.pdf", b"%PDF-1.4 don de nghi", engine.actor("clerk")))
    clock.advance(timedelta(minutes=10))
    step(lambda: engine.complete_task(code, task.task_id, {"approved": True}, engine.actor("head")))
    states = _all_states(engine, code)
    for count, view in views.items():
        assert states[count - 1].comparable() == view_comparable(view), f"sau sự kiện {count}"
    claimed = next(s for s in states if s.kind == "task_claimed")
    assert [t.assignee for t in claimed.tasks] == ["head"]
    assert states[-1].documents[0]["sha256"] and states[-1].status == 9


def test_cli_replay_prints_the_state_at_event_n(engine: Engine, clock: FixedClock, capsys: Any) -> None:
    code, events = _events(engine, clock)
    n = _seq_of(events, "task_ready", "verify_register")
    assert run.main(["audit", "replay", code, "--at", str(n), "--json", "--db", engine.db.url]) == 0
    out = json.loads(capsys.readouterr().out)
    state = out["state"]
    assert state["seq"] == n and state["status"] == 4 and state["sla_status"] == "on_track"
    assert [t["element_id"] for t in state["tasks"]] == ["verify_register"]
    assert state["tasks"][0]["task_id"] == events[n - 1].task_id
    assert "receipt_check" in state["path"] and out["snapshot_differences"] is None
    assert run.main(["audit", "replay", code, "--db", engine.db.url]) == 0
    text = capsys.readouterr().out
    assert "Khớp với trạng thái hệ thống đang lưu" in text and "approve_copy" in text
