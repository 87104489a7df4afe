"""Scripts and expressions under OS limits: payloads that hold a core in one C call, or eat memory,
are stopped by the worker process limits; the case operation fails clearly and changes nothing."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.db import Database
from engine.errors import MotcuaError, ProcedureError, SandboxError
from engine.models import Case, Timer
from engine.sandbox import SandboxedEnvironment, is_bounded
from engine.sandbox_pool import Limits, SandboxPool, load_data
from engine.service import Engine
from tests.engine.helpers import DESIGNER, FIXTURES, event_count, open_items

APPLICANT = {"name": "Nguyễn Văn An"}

#: One C-level call that runs for minutes: the trace budget never gets a chance to look.
CPU_SCRIPT = "b = [0] * 999999\nr = max([b] * 2000, key=sorted)"
#: 3,000 strings of 1 MB: each step is small, the sum is 3 GB.
MEMORY_SCRIPT = "r = len(['x' * 1000000 for i in range(3000)])"
#: sorted() on 200,000 references to two near-equal strings of a million characters.
STRINGS_SCRIPT = "a = 'x' * 999999 + 'b'\nc = 'x' * 999999 + 'a'\nr = len(sorted([a, c] * 100000))"
CPU_EXPRESSION = "max([[0] * 999999] * 2000, key=sorted)"

SCRIPT_PAYLOADS = {"cpu": CPU_SCRIPT, "memory": MEMORY_SCRIPT, "strings": STRINGS_SCRIPT}


@pytest.fixture(scope="module")
def pool() -> Any:
    own = SandboxPool(1, memory_mb=256)
    yield own
    own.close()


def env_on(pool: SandboxPool) -> SandboxedEnvironment:
    return SandboxedEnvironment({"double": lambda n: n * 2, "fail": lambda: 1 / 0}, pool=pool)


# ----------------------------------------------------------------------------- the pool itself


@pytest.mark.parametrize("name", sorted(SCRIPT_PAYLOADS))
def test_script_payload_is_stopped_and_task_data_kept(pool: SandboxPool, name: str) -> None:
    data = {"x": 1, "items": [1, 2]}
    with pytest.raises(SandboxError) as caught:
        env_on(pool).execute(SCRIPT_PAYLOADS[name], data)
    assert caught.value.details.get("limit") in {"wall_clock", "cpu", "memory", "resources"}
    assert data == {"x": 1, "items": [1, 2]}
    # The pool answers again (a killed worker was replaced).
    assert env_on(pool).evaluate("x + 1", {"x": 41}) == 42


def test_expression_payload_is_stopped(pool: SandboxPool) -> None:
    with pytest.raises(SandboxError) as caught:
        env_on(pool).evaluate(CPU_EXPRESSION, {})
    assert "đã bị dừng" in caught.value.message


def test_killed_worker_is_replaced_by_a_new_process(pool: SandboxPool) -> None:
    env = env_on(pool)
    env.execute("y = 1", {})
    before = {w.process.pid for w in pool._idle}
    with pytest.raises(SandboxError):
        env.execute(CPU_SCRIPT, {})
    env.execute("y = 1", {})
    after = {w.process.pid for w in pool._idle}
    assert after and not (after & before)


def test_scripts_see_task_data_and_engine_functions(pool: SandboxPool) -> None:
    data: dict[str, Any] = {"n": 4, "when": datetime(2026, 3, 2, tzinfo=UTC)}
    env_on(pool).execute("m = double(n) + 1\nlater = when\nnames = {'a', 'b'}", data)
    assert data["m"] == 9 and data["later"] == data["when"] and data["names"] == {"a", "b"}
    assert env_on(pool).evaluate("[double(i) for i in range(3)]", {}) == [0, 2, 4]


def test_errors_keep_their_type_and_functions_report_theirs(pool: SandboxPool) -> None:
    with pytest.raises(ZeroDivisionError):
        env_on(pool).execute("n = 1 / 0", {})
    with pytest.raises(NameError):
        env_on(pool).evaluate("missing + [1][0]", {})
    with pytest.raises(ZeroDivisionError):
        env_on(pool).evaluate("fail() + [0][0]", {})


def test_unpicklable_result_is_a_clear_error(pool: SandboxPool) -> None:
    with pytest.raises(SandboxError, match="không lưu được"):
        env_on(pool).execute("g = (i for i in range(3))", {})


def test_step_budget_still_applies_inside_the_worker(pool: SandboxPool) -> None:
    env = SandboxedEnvironment(max_steps=10, pool=pool)
    with pytest.raises(SandboxError, match="10 bước"):
        env.execute("for i in range(100):\n    x = i", {})


def test_answers_are_unpickled_as_plain_data_only() -> None:
    assert load_data(pickle.dumps({"a": [1, {2}], "t": datetime(2026, 1, 1, tzinfo=UTC)})) == {
        "a": [1, {2}],
        "t": datetime(2026, 1, 1, tzinfo=UTC),
    }
    with pytest.raises(SandboxError, match="posix.system"):
        load_data(pickle.dumps(os.system))
    with pytest.raises(SandboxError):
        load_data(pickle.dumps(Limits()))


@pytest.mark.parametrize(
    ("expression", "bounded"),
    [
        ('decision == "accept"', True),
        ("amount > 0 and found", True),
        ("not data['ok'] or x in ('a', 'b')", True),
        ("working_hours(8)", True),
        ("working_hours(hours)", False),
        ("sorted(x)", False),
        ("x * 2 > 3", False),
        ("[i for i in x]", False),
        ("x.upper() == 'A'", False),
        ("'" + "a" * 2000 + "' == x", False),
    ],
)
def test_only_provably_bounded_expressions_stay_in_process(expression: str, bounded: bool) -> None:
    assert is_bounded(expression, {"working_hours": len}) is bounded


# ----------------------------------------------------------------------------- through the engine


def deploy(engine: Engine, **parts: str) -> None:
    values = {
        "BEFORE_SCRIPT": "x = 1",
        "AFTER_SCRIPT": "y = 2",
        "LATE_SCRIPT": "z = 3",
        "TIMER_KIND": "timeDuration",
        "TIMER_VALUE": "PT2H",
        "WAIT_VALUE": "PT1H",
        **parts,
    }
    text = (FIXTURES / "payloads.bpmn").read_text(encoding="utf-8")
    for token, value in values.items():
        text = text.replace(token, value.replace("&", "&amp;").replace("<", "&lt;"))
    engine.deploy("payloads.bpmn", text.encode("utf-8"), {}, DESIGNER)


def case_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


START_PAYLOADS: dict[str, tuple[dict[str, str], dict[str, Any], type[MotcuaError]]] = {
    **{f"script-{k}": ({"BEFORE_SCRIPT": v}, {}, SandboxError) for k, v in SCRIPT_PAYLOADS.items()},
    "timer-expression-cpu": ({"TIMER_VALUE": CPU_EXPRESSION}, {}, SandboxError),
    "timer-far-future": ({"TIMER_VALUE": "period"}, {"period": "P999999999Y"}, ProcedureError),
    "timer-zero-cycle": (
        {"TIMER_KIND": "timeCycle", "TIMER_VALUE": "period"},
        {"period": "R/PT0S"},
        ProcedureError,
    ),
}


@pytest.mark.parametrize("name", sorted(START_PAYLOADS))
def test_start_case_with_a_payload_fails_and_opens_no_dossier(engine: Engine, name: str) -> None:
    parts, data, error = START_PAYLOADS[name]
    deploy(engine, **parts)
    with pytest.raises(error) as caught:
        engine.start_case(
            {"procedure_id": "payloads", "applicant": APPLICANT, "data": data}, engine.actor("clerk")
        )
    assert caught.value.message
    assert case_count(engine.db) == 0


@pytest.mark.parametrize("name", sorted(SCRIPT_PAYLOADS))
def test_completing_into_a_payload_fails_and_changes_nothing(engine: Engine, name: str) -> None:
    deploy(engine, AFTER_SCRIPT=SCRIPT_PAYLOADS[name])
    case = engine.start_case({"procedure_id": "payloads", "applicant": APPLICANT}, engine.actor("clerk"))
    events = event_count(engine.db, case.id)
    with pytest.raises(SandboxError):
        engine.complete_task(case.code, "review", {"ok": True}, engine.actor("specialist"))
    after = engine.get_case(case.code)
    assert (after.version, after.status, after.data, after.completed) == (
        case.version,
        case.status,
        case.data,
        False,
    )
    assert event_count(engine.db, case.id) == events
    assert open_items(engine.db, case.id) == ["review"]


TIMER_PATH_PAYLOADS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "script-cpu": ({"LATE_SCRIPT": CPU_SCRIPT}, {}),
    "script-memory": ({"LATE_SCRIPT": MEMORY_SCRIPT}, {}),
    "timer-expression-cpu": ({"WAIT_VALUE": CPU_EXPRESSION}, {}),
    "timer-far-future": ({"WAIT_VALUE": "period"}, {"period": "P999999999Y"}),
}


@pytest.mark.parametrize("name", sorted(TIMER_PATH_PAYLOADS))
def test_worker_firing_into_a_payload_changes_nothing(engine: Engine, clock: FixedClock, name: str) -> None:
    parts, data = TIMER_PATH_PAYLOADS[name]
    deploy(engine, **parts)
    case = engine.start_case(
        {"procedure_id": "payloads", "applicant": APPLICANT, "data": data}, engine.actor("clerk")
    )
    events = event_count(engine.db, case.id)
    clock.advance(timedelta(hours=3))
    result = engine.fire_due_timers()
    assert result.fired == 0 and result.skipped >= 1
    after = engine.get_case(case.code)
    assert (after.version, after.status, after.completed) == (case.version, case.status, False)
    assert event_count(engine.db, case.id) == events
    assert open_items(engine.db, case.id) == ["review"]
    with engine.db.read() as session:
        pending = session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.kind == "bpmn")).all()
        assert pending and all(t.fired_at is None for t in pending)


def test_bare_iso_timer_values_run(engine: Engine, clock: FixedClock) -> None:
    """PT2H written bare (as modellers write it) arms a timer two wall-clock hours ahead."""
    deploy(engine, TIMER_VALUE="PT2H", WAIT_VALUE="PT1H")
    case = engine.start_case({"procedure_id": "payloads", "applicant": APPLICANT}, engine.actor("clerk"))
    with engine.db.read() as session:
        due = session.scalars(
            select(Timer.due_at).where(Timer.case_id == case.id, Timer.kind == "bpmn")
        ).all()
    assert [d.astimezone(UTC) for d in due] == [clock.now() + timedelta(hours=2)]
    clock.advance(timedelta(hours=2))
    assert engine.fire_due_timers().fired == 1
    clock.advance(timedelta(hours=1))
    assert engine.fire_due_timers().fired == 1
    done = engine.get_case(case.code)
    assert done.completed and done.status == 8
    assert [e.element_id for e in engine.events(case.code) if e.kind == "timer_fired"] == [
        "review_deadline",
        "wait",
    ]


@pytest.mark.parametrize(
    ("kind", "value", "fragment"),
    [
        ("timeDuration", "P999999999Y", "quá dài"),
        ("timeDuration", "P11Y", "10 năm"),
        ("timeCycle", "R/PT0S", "bằng 0"),
        ("timeCycle", "R3/2026-01-01/PT0S", "bằng 0"),
        ("timeDuration", "'P20Y'", "10 năm"),
        ("timeDate", "2099-01-01T00:00:00+07:00", "10 năm"),
        ("timeDuration", "P-1D", "không hợp lệ"),
    ],
)
def test_unschedulable_timers_are_refused_at_deploy(
    engine: Engine, kind: str, value: str, fragment: str
) -> None:
    with pytest.raises(ProcedureError) as caught:
        deploy(engine, TIMER_KIND=kind, TIMER_VALUE=value)
    assert fragment in caught.value.message and "review_deadline" in caught.value.message
