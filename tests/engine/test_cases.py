"""Case runtime on both databases: start, complete, validation, roles, timers, version pinning."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from engine.clock import FixedClock
from engine.errors import ConflictError, Forbidden, NotFound, ValidationError
from engine.service import Engine
from tests.engine.helpers import deploy_fixture, event_count, open_items
from tests.support.fixtures import vn

APPLICANT = {"name": "Nguyễn Văn An", "phone": "0912345678"}


def start(engine: Engine, channel: int = 1) -> str:
    deploy_fixture(engine)
    case = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT, "channel": channel, "data": {"copies": 2}},
        engine.actor("clerk"),
    )
    return case.code


def test_start_creates_dossier_code_events_and_open_task(engine: Engine) -> None:
    deploy_fixture(engine)
    first = engine.start_case({"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk"))
    second = engine.start_case({"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk"))
    assert re.fullmatch(r"H99\.12-260302-0001", first.code)
    assert second.code == "H99.12-260302-0002"
    assert first.secret and len(first.secret) == 16
    assert [t.element_id for t in first.tasks] == ["review"]
    assert first.tasks[0].role == "specialist"
    # Allocated 2 working hours from Monday 08:00 local.
    assert first.tasks[0].due_at == vn(2026, 3, 2, 10, 0)
    assert first.status == 4  # the review task carries status 4
    kinds = [e.kind for e in engine.events(first.code)]
    assert kinds[0] == "case_started" and "task_ready" in kinds and "status_changed" in kinds


def test_daily_sequence_restarts_on_a_new_local_day(engine: Engine, clock: FixedClock) -> None:
    deploy_fixture(engine)
    clock.set(vn(2026, 3, 2, 23, 59))
    a = engine.start_case({"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk"))
    clock.set(vn(2026, 3, 3, 0, 1))  # still 2 March in UTC, already 3 March locally
    b = engine.start_case({"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk"))
    assert a.code.endswith("-260302-0001") and b.code.endswith("-260303-0001")


def test_complete_runs_to_the_end_and_records_the_diff(engine: Engine, clock: FixedClock) -> None:
    code = start(engine)
    clock.advance(timedelta(hours=1))
    view = engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    assert view.completed and view.status == 10
    assert view.tasks == []
    assert view.data == {"copies": 2, "ok": True}
    done = [e for e in engine.events(code) if e.kind == "task_completed"][0]
    assert done.actor == "specialist"
    assert done.payload["diff"] == {"ok": [None, True]}
    assert done.element_id == "review"


def test_invalid_data_is_refused_and_changes_nothing(engine: Engine) -> None:
    code = start(engine)
    before = engine.get_case(code)
    n = event_count(engine.db, before.id)
    with pytest.raises(ValidationError) as err:
        engine.complete_task(code, "review", {"ok": "có"}, engine.actor("specialist"))
    assert "Đồng ý" in err.value.message
    with pytest.raises(ValidationError):
        engine.complete_task(code, "review", {}, engine.actor("specialist"))
    with pytest.raises(ValidationError):
        engine.complete_task(code, "review", {"__class__": 1, "ok": True}, engine.actor("specialist"))
    after = engine.get_case(code)
    assert after.version == before.version and after.status == before.status
    assert event_count(engine.db, before.id) == n
    assert open_items(engine.db, before.id) == ["review"]


def test_wrong_role_is_forbidden(engine: Engine) -> None:
    code = start(engine)
    with pytest.raises(Forbidden):
        engine.complete_task(code, "review", {"ok": True}, engine.actor("clerk"))
    assert engine.get_case(code).tasks[0].element_id == "review"


def test_completed_task_cannot_be_completed_again(engine: Engine) -> None:
    code = start(engine)
    task_id = engine.list_tasks(code)[0].task_id
    engine.complete_task(code, task_id, {"ok": True}, engine.actor("specialist"))
    with pytest.raises(ConflictError):
        engine.complete_task(code, task_id, {"ok": False}, engine.actor("specialist"))
    with pytest.raises(NotFound):
        engine.complete_task(code, "no_such_task", {}, engine.actor("specialist"))


def test_stale_expected_version_is_a_conflict(engine: Engine) -> None:
    code = start(engine)
    view = engine.get_case(code)
    with pytest.raises(ConflictError):
        engine.complete_task(
            code, "review", {"ok": True}, engine.actor("specialist"), expected_version=view.version - 1
        )


def test_bad_start_input_is_rejected_with_field_names(engine: Engine) -> None:
    deploy_fixture(engine)
    with pytest.raises(ValidationError) as err:
        engine.start_case({"procedure_id": "timer_demo", "applicant": {"name": ""}}, engine.actor("clerk"))
    assert "Họ và tên: bắt buộc" in err.value.message  # Vietnamese, with the field's title
    assert err.value.details["fields"][0]["field"] == "applicant.name"
    with pytest.raises(ValidationError):
        engine.start_case(
            {"procedure_id": "timer_demo", "applicant": APPLICANT, "channel": 9}, engine.actor("clerk")
        )
    with pytest.raises(NotFound):
        engine.start_case({"procedure_id": "nope", "applicant": APPLICANT}, engine.actor("clerk"))


def test_business_time_timer_fires_through_the_injected_clock(engine: Engine, clock: FixedClock) -> None:
    # Friday 15:00 local; the boundary timer is working_hours(2): 17:00 Friday.
    clock.set(vn(2026, 3, 6, 15, 0))
    code = start(engine)
    case = engine.get_case(code)
    clock.set(vn(2026, 3, 6, 16, 59))
    assert engine.fire_due_timers().fired == 0
    assert engine.get_case(code).status == case.status
    clock.set(vn(2026, 3, 6, 17, 0))
    result = engine.fire_due_timers()
    assert result.fired >= 1
    after = engine.get_case(code)
    assert after.completed and after.status == 8
    assert after.tasks == []
    kinds = [e.kind for e in engine.events(code)]
    assert "timer_fired" in kinds
    # Firing again does nothing: each timer fires once.
    assert engine.fire_due_timers().fired == 0


def test_timer_due_skips_the_weekend_and_tet(engine: Engine, clock: FixedClock) -> None:
    # Friday 13 February 2026, 16:30: Tết holidays follow; two working hours end after the break.
    clock.set(vn(2026, 2, 13, 16, 30))
    code = start(engine)
    due = engine.calendar.add_working_hours(vn(2026, 2, 13, 16, 30), 2)
    assert due.astimezone(vn(2026, 1, 1).tzinfo).date() > vn(2026, 2, 20).date()
    clock.set(due - timedelta(minutes=1))
    assert engine.fire_due_timers().fired == 0
    clock.set(due)
    assert engine.fire_due_timers().fired >= 1
    assert engine.get_case(code).status == 8


def test_running_cases_keep_their_version(engine: Engine) -> None:
    v1 = deploy_fixture(engine)
    old = engine.start_case({"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk"))
    same = deploy_fixture(engine)
    assert same.version == v1.version  # identical content: no new version
    v2 = deploy_fixture(engine, replace=('name="Xem xét"', 'name="Xem xét (phiên bản mới)"'))
    assert v2.version == v1.version + 1 and v2.content_hash != v1.content_hash
    new = engine.start_case({"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk"))
    assert engine.get_case(old.code).procedure_version == v1.version
    assert new.procedure_version == v2.version
    assert new.tasks[0].name == "Xem xét (phiên bản mới)"
    assert old.tasks[0].name == "Xem xét"
    done = engine.complete_task(old.code, "review", {"ok": True}, engine.actor("specialist"))
    assert done.completed and done.procedure_version == v1.version
    versions = engine.procedure_versions("timer_demo")
    assert [v.version for v in versions] == [v1.version, v2.version]
