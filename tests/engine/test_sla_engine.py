"""SLA rules enforced by the engine on a real procedure (diploma_copy), on both databases."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.calendar import WorkingCalendar
from engine.calendar_store import LiveCalendar
from engine.clock import FixedClock
from engine.errors import Forbidden, SlaViolation, ValidationError
from engine.service import Engine
from tests.support.fixtures import vn

ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
FOUND = {"found": True, "register_ref": "Sổ gốc 2015/1234", "copies": 1}


def received_case(engine: Engine) -> str:
    """An in-person dossier accepted at the clock's now; returns its code."""
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Vũ Thị Lan"}}, engine.actor("clerk")
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    return code


def test_admin_day_off_override_moves_the_appointment(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 6, 15, 30))  # Friday after the 15:00 cut-off: the next working day's close
    assert engine.get_case(received_case(engine)).due_at == vn(2026, 3, 9, 17, 0)
    with pytest.raises(Forbidden):
        engine.add_calendar_override(date(2026, 3, 9), "off", "Quyết định giả định", engine.actor("clerk"))
    with pytest.raises(ValidationError):
        engine.add_calendar_override(date(2026, 3, 9), "maybe", "x", engine.actor("admin"))
    engine.add_calendar_override(
        date(2026, 3, 9), "off", "Quyết định số 01/QĐ-UBND ngày 02/03/2026", engine.actor("admin")
    )
    assert not engine.fresh_calendar().is_working_day(date(2026, 3, 9))
    assert engine.get_case(received_case(engine)).due_at == vn(2026, 3, 10, 17, 0)
    # A fresh engine (another process) sees the stored override too.
    other = Engine(engine.db, clock=clock)
    assert not other.fresh_calendar().is_working_day(date(2026, 3, 9))
    engine.add_calendar_override(date(2026, 3, 9), "none", "Huỷ điều chỉnh", engine.actor("admin"))
    assert engine.fresh_calendar().is_working_day(date(2026, 3, 9))
    assert [r["kind"] for r in engine.calendar_overrides()] == ["off", "none"]


def test_another_process_override_applies_after_the_recheck_interval(engine: Engine) -> None:
    """The override table is not asked in every transaction: another process's override applies once
    the calendar's recheck interval has passed (or at once when a caller forces a refresh)."""
    ticks = [0.0]
    live = LiveCalendar(WorkingCalendar(), recheck_seconds=1.0, monotonic=lambda: ticks[0])
    with engine.db.read() as session:
        live.refresh(session)
    assert live.is_working_day(date(2026, 3, 9))
    engine.add_calendar_override(
        date(2026, 3, 9), "off", "Quyết định số 01/QĐ-UBND ngày 02/03/2026", engine.actor("admin")
    )
    ticks[0] = 0.5
    with engine.db.read() as session:
        live.refresh(session)
    assert live.is_working_day(date(2026, 3, 9))  # still within the interval
    ticks[0] = 1.5
    with engine.db.read() as session:
        live.refresh(session)
    assert not live.is_working_day(date(2026, 3, 9))
    engine.add_calendar_override(date(2026, 3, 9), "none", "Huỷ điều chỉnh", engine.actor("admin"))
    with engine.db.read() as session:
        live.refresh(session, force=True)
    assert live.is_working_day(date(2026, 3, 9))


def test_an_override_that_rolls_back_leaves_the_calendar_as_it_was(
    engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock.set(vn(2026, 3, 6, 15, 30))
    received_case(engine)  # an open case the day off would move

    def fail(*_args: object, **_kwargs: object) -> bool:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(engine.cases, "calendar_changed", fail)
    with pytest.raises(RuntimeError):
        engine.add_calendar_override(
            date(2026, 3, 9), "off", "Quyết định số 01/QĐ-UBND ngày 02/03/2026", engine.actor("admin")
        )
    assert engine.calendar_overrides() == []
    assert engine.calendar.is_working_day(date(2026, 3, 9))  # without waiting for the recheck interval
    assert engine.get_case(received_case(engine)).due_at == vn(2026, 3, 9, 17, 0)


def test_late_case_needs_an_apology_before_it_can_continue(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 10, 0))
    code = received_case(engine)
    assert engine.get_case(code).due_at == vn(2026, 3, 2, 17, 0)  # same working day, before 15:00
    clock.set(vn(2026, 3, 3, 10, 30))
    engine.fire_due_timers()
    late = engine.get_case(code)
    assert "overdue" in late.sla["flags"]
    assert any(e.kind == "sla_breach" and e.payload["rule"] == "statutory_due" for e in engine.events(code))
    with pytest.raises(SlaViolation) as err:
        engine.complete_task(code, "verify_register", FOUND, engine.actor("specialist"))
    assert "Mẫu 04" in err.value.message
    with pytest.raises(ValidationError):
        engine.apologise(code, vn(2026, 3, 3, 9, 0), "Chậm tra cứu", "Phòng QLCL", engine.actor("head"))
    with pytest.raises(ValidationError):
        engine.apologise(code, vn(2026, 3, 4, 16, 0), "  ", "Phòng QLCL", engine.actor("head"))
    view = engine.apologise(
        code, vn(2026, 3, 4, 16, 0), "Sổ gốc lưu trữ tại kho", "Phòng QLCL", engine.actor("head")
    )
    assert view.due_at == vn(2026, 3, 4, 16, 0) and view.sla["apologies"] == 1
    with pytest.raises(SlaViolation):  # at most one rescheduling by default
        engine.apologise(code, vn(2026, 3, 5, 16, 0), "Lần hai", "Phòng QLCL", engine.actor("head"))
    engine.complete_task(code, "verify_register", FOUND, engine.actor("specialist"))
    done = engine.complete_task(code, "approve_copy", {"approved": True}, engine.actor("head"))
    assert done.status == 9
    assert done.outcome == "late"  # an apologised case still counts as late
    apology = next(e for e in engine.events(code) if e.kind == "apology_issued")
    assert datetime.fromisoformat(apology.payload["original_due_at"]) == vn(2026, 3, 2, 17, 0)
    assert apology.payload["form"] == "Mẫu 04"


def test_each_step_is_classified_against_its_allocation(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 8, 0))
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Ngô Bảo Châu"}}, engine.actor("clerk")
    ).code
    receipt_due = engine.list_tasks(code)[0].due_at
    assert receipt_due is not None
    clock.set(vn(2026, 3, 2, 11, 0))  # the receipt step was allotted 1 working hour
    engine.complete_task(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    clock.set(vn(2026, 3, 2, 11, 15))
    engine.complete_task(code, "verify_register", FOUND, engine.actor("specialist"))
    outcomes = {e.element_id: e.payload["outcome"] for e in engine.events(code) if e.kind == "task_completed"}
    assert outcomes == {"receipt_check": "late", "verify_register": "on_time"}


def test_bulk_copy_request_extends_the_appointment_by_two_working_days(
    engine: Engine, clock: FixedClock
) -> None:
    """Decree rule for copies from the master register: bulk or complex requests get up to 2 more
    working days (diploma_copy's motcua:dueExtension on the ``bulk`` answer), granted once."""
    clock.set(vn(2026, 4, 24, 10, 0))  # Friday before Hùng Kings' day (Sunday 26/4 → Monday 27/4 off)
    code = received_case(engine)
    assert engine.get_case(code).due_at == vn(2026, 4, 24, 17, 0)  # the same working day's close
    clock.set(vn(2026, 4, 24, 14, 0))
    engine.complete_task(code, "verify_register", {**FOUND, "bulk": True}, engine.actor("specialist"))
    case = engine.get_case(code)
    # Two working days after the close of Friday 24/4: Monday 27/4 is off, so the end of Tuesday
    # 28/4 and Wednesday 29/4 — printed as 17:00 29/4, not as the equivalent opening after the
    # 30/4–3/5 holidays (07:30 4/5).
    assert case.due_at == vn(2026, 4, 29, 17, 0)
    assert case.sla["extensions"] == ["bulk"]
    extended = [e for e in engine.events(code) if e.kind == "due_set"][-1]
    assert extended.payload["reason"] == "extended_bulk"
    assert datetime.fromisoformat(extended.payload["previous_due_at"]) == vn(2026, 4, 24, 17, 0)
    # Past the original appointment but within the extended one: no breach, finished on time.
    clock.set(vn(2026, 4, 29, 11, 0))
    engine.fire_due_timers()
    assert "overdue" not in engine.get_case(code).sla.get("flags", [])
    done = engine.complete_task(code, "approve_copy", {"approved": True}, engine.actor("head"))
    assert done.status == 9 and done.outcome == "on_time"  # the appointment's own day (17:00 29/4)
    assert engine.replay_case(code).ok


def test_a_plain_request_is_not_extended(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 10, 0))
    code = received_case(engine)
    engine.complete_task(code, "verify_register", {**FOUND, "bulk": False}, engine.actor("specialist"))
    case = engine.get_case(code)
    assert case.due_at == vn(2026, 3, 2, 17, 0)
    assert "extensions" not in case.sla


def _notices(engine: Engine, code: str) -> list[tuple[str, str]]:
    return [
        (m.handler, str(m.payload["text"]))
        for m in engine.case_outbox(code)
        if m.handler in ("notify.email", "notify.sms") and "Hẹn trả kết quả mới" in str(m.payload["text"])
    ]


def test_applicant_hears_of_a_moved_appointment_by_email_and_sms(engine: Engine, clock: FixedClock) -> None:
    """The apology letter goes to online applicants by e-mail/SMS; an extension is announced too."""
    clock.set(vn(2026, 4, 24, 10, 0))
    applicant = {"name": "Vũ Thị Lan", "email": "lan@example.vn", "phone": "0912345678"}
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": applicant, "channel": 2}, engine.actor("citizen")
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    assert _notices(engine, code) == []
    engine.complete_task(code, "verify_register", {**FOUND, "bulk": True}, engine.actor("specialist"))
    extended = _notices(engine, code)
    assert sorted(h for h, _ in extended) == ["notify.email", "notify.sms"]
    assert all("gia hạn 2 ngày làm việc" in t and "17:00 ngày 29/04/2026" in t for _, t in extended)

    clock.set(vn(2026, 5, 4, 10, 30))  # past the extended appointment (17:00 29/4)
    engine.fire_due_timers()
    engine.apologise(code, vn(2026, 5, 5, 16, 0), "Sổ gốc đang lưu kho", "Phòng QLCL", engine.actor("head"))
    apology = [t for _, t in _notices(engine, code) if "xin lỗi" in t]
    assert len(apology) == 2 and "16:00 ngày 05/05/2026" in apology[0] and "Sổ gốc đang lưu kho" in apology[0]
    keys = [m.delivery_key for m in engine.case_outbox(code)]
    assert len(keys) == len(set(keys))  # each notice delivered at most once


@pytest.mark.parametrize(
    ("day", "kind", "note", "message"),
    [
        # Wednesday 02/12/2026 is an ordinary working day: a make-up day must be on a weekend.
        (
            date(2026, 12, 2),
            "work",
            "Thông báo số 5/TB-UBND ngày 20/11/2026",
            "Ngày làm bù phải là ngày nghỉ cuối tuần",
        ),
        # Saturday, and 1/5 (a holiday) are already days off.
        (date(2026, 3, 7), "off", "Quyết định số 7/QĐ-UBND ngày 01/03/2026", "đã là ngày nghỉ"),
        (date(2026, 5, 1), "off", "Quyết định số 7/QĐ-UBND ngày 01/03/2026", "đã là ngày nghỉ"),
        # The basis names the document's number and date.
        (date(2026, 11, 30), "off", "thử", "số và ngày của văn bản"),
        (date(2026, 11, 30), "off", "Quyết định số 12/QĐ-UBND", "số và ngày của văn bản"),
        (date(2026, 11, 28), "work", "ngày 20/11/2026", "số và ngày của văn bản"),
    ],
)
def test_an_override_the_law_would_not_make_is_refused(
    engine: Engine, day: date, kind: str, note: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        engine.add_calendar_override(day, kind, note, engine.actor("admin"))
    assert engine.calendar_overrides() == []


def test_a_well_founded_override_is_stored(engine: Engine) -> None:
    basis = "Thông báo số 5/TB-UBND ngày 20/11/2026"
    engine.add_calendar_override(date(2026, 11, 30), "off", basis, engine.actor("admin"))
    engine.add_calendar_override(date(2026, 12, 5), "work", basis, engine.actor("admin"))
    engine.add_calendar_override(date(2026, 11, 30), "none", "Nhập nhầm", engine.actor("admin"))
    assert [r["kind"] for r in engine.calendar_overrides()] == ["off", "work", "none"]


def test_an_apology_appointment_outside_working_time_is_refused_with_the_nearest(
    engine: Engine, clock: FixedClock
) -> None:
    """Mẫu 04's new appointment is what the clerk typed, or refused: never moved silently."""
    clock.set(vn(2026, 3, 2, 10, 0))
    code = received_case(engine)
    clock.set(vn(2026, 3, 3, 9, 0))  # past the same-day appointment (17:00 2/3)
    before = len(engine.events(code))
    with pytest.raises(ValidationError) as refused:  # Saturday 7/3
        engine.apologise(code, vn(2026, 3, 7, 9, 0), "Chờ xác minh", "Phòng QLCL", engine.actor("head"))
    assert "ngoài giờ làm việc" in refused.value.message
    assert (
        "17:00 ngày 06/03/2026" in refused.value.message and "07:30 ngày 09/03/2026" in refused.value.message
    )
    assert len(engine.events(code)) == before
    done = engine.apologise(code, vn(2026, 3, 6, 17, 0), "Chờ xác minh", "Phòng QLCL", engine.actor("head"))
    assert done.due_at == vn(2026, 3, 6, 17, 0)
