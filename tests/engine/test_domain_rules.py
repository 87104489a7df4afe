"""The case core's pure rules for supplementation once, apology kinds and calendar changes: values in,
values (or a refusal with its reason) out — no database, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.calendar import CalendarOverride, WorkingCalendar
from engine.domain import rules
from engine.domain.evolve import apply
from engine.domain.procedure import ProcedureFacts
from engine.domain.rules import Observation, ReadyTask, Step
from engine.domain.state import CaseState, OpenTask, SlaState
from engine.domain.vocab import Status
from engine.errors import ValidationError
from tests.support.fixtures import vn

FORM = {"properties": {"missing_documents": {"type": "array"}, "decision": {"type": "string"}}}
ELEMENTS = {
    "receipt_check": {"role": "desk_clerk", "status": 1, "hours": 1, "form": FORM},
    "receipt_supplement": {"role": "citizen", "status": 5},
    "appraise": {"role": "specialist", "hours": 8},
    "supplement_dossier": {"role": "citizen", "status": 5},
}
META = {"legal_time": 15, "legal_unit": "working_days"}
CALENDAR = WorkingCalendar()
ASKED = Observation(
    reached=(), walked=(), ready=(ReadyTask("t9", "receipt_supplement"),), timers=(), completed=False
)


def facts(**meta: object) -> ProcedureFacts:
    return ProcedureFacts({**META, **meta}, ELEMENTS)


def state(**fields: object) -> CaseState:
    return CaseState(**{"status": Status.NEW, "submitted_at": vn(2026, 3, 2, 8, 0), **fields})  # type: ignore[arg-type]


def iso(*parts: int) -> str:
    """A local moment as the rules store it (UTC ISO 8601)."""
    return vn(*parts).astimezone(UTC).isoformat()


def test_a_supplementation_request_lists_what_is_missing() -> None:
    with pytest.raises(ValidationError) as caught:
        rules.check_supplement_request(state(), facts(), "receipt_check", {"decision": "supplement"}, ASKED)
    assert caught.value.details["fields"][0]["field"] == "missing_documents"
    rules.check_supplement_request(state(), facts(), "receipt_check", {"missing_documents": ["TP2"]}, ASKED)


@pytest.mark.parametrize("phase", ["receipt", "processing"])
def test_a_second_request_is_refused_where_the_procedure_does_not_allow_it(phase: str) -> None:
    asked_once = SlaState(receipt_supplements=1) if phase == "receipt" else SlaState(supplements=1)
    received = vn(2026, 3, 2, 9, 0) if phase == "processing" else None
    case = state(sla=asked_once, received_at=received, status=Status.PROCESSING if received else Status.NEW)
    with pytest.raises(ValidationError) as caught:
        rules.check_supplement_request(case, facts(), "receipt_check", {"missing_documents": ["TP1"]}, ASKED)
    where = "khi tiếp nhận" if phase == "receipt" else "trong quá trình giải quyết"
    assert f"đã được yêu cầu bổ sung một lần {where}" in caught.value.message
    assert "không được yêu cầu bổ sung lần thứ hai" in caught.value.message
    with pytest.raises(ValidationError, match="không cho phép"):
        rules.check_supplement_approval(case, facts(), "Cần bổ sung thêm")


def test_with_head_approval_the_second_request_is_allowed_once_flagged_and_the_third_refused() -> None:
    allowing = facts(repeat_supplement="head_approval")
    case = state(sla=SlaState(receipt_supplements=1))
    with pytest.raises(ValidationError, match="Lãnh đạo phòng phê duyệt"):
        rules.check_supplement_request(case, allowing, "receipt_check", {"missing_documents": ["TP1"]}, ASKED)
    with pytest.raises(ValidationError, match="lý do"):
        rules.check_supplement_approval(case, allowing, " ")
    step = Step(case, allowing, CALENDAR, vn(2026, 3, 3, 9, 0), "head")
    rules.check_supplement_approval(case, allowing, "Bản sao CCCD bổ sung bị mờ")
    rules.supplement_approved(step, "Bản sao CCCD bổ sung bị mờ")
    assert case.sla.repeat_approved and step.events[-1].payload == {
        "reason": "Bản sao CCCD bổ sung bị mờ",
        "phase": "receipt",
    }
    with pytest.raises(ValidationError, match="chưa dùng"):
        rules.check_supplement_approval(case, allowing, "Lần nữa")
    rules.check_supplement_request(case, allowing, "receipt_check", {"missing_documents": ["TP1"]}, ASKED)
    step.emit(rules.EventKind.STATUS_CHANGED, status_from=1, status_to=5)
    assert case.sla.receipt_supplements == 2 and "repeat_supplement" in case.sla.flags
    assert not case.sla.repeat_approved
    case.status = Status.NEW
    with pytest.raises(ValidationError, match="hai lần"):
        rules.check_supplement_request(case, allowing, "receipt_check", {"missing_documents": ["TP1"]}, ASKED)


def test_histories_before_format_4_keep_their_rules() -> None:
    old = state(sla=SlaState(receipt_supplements=0), history_format=3)
    rules.check_supplement_request(old, facts(), "receipt_check", {"decision": "supplement"}, ASKED)


def test_apology_kinds() -> None:
    received = state(status=Status.PROCESSING, received_at=vn(2026, 3, 2, 9, 0), due_at=vn(2026, 3, 2, 17, 0))
    now = vn(2026, 3, 2, 10, 0)
    rules.check_apology(received, now, None, "Ghi sai tên", 1, "mistake")  # no new appointment: fine
    with pytest.raises(ValidationError, match="sai sót"):
        rules.check_apology(received, now, None, " ", 1, "mistake")
    with pytest.raises(ValidationError, match="ngày hẹn trả kết quả mới"):
        rules.check_apology(received, now, None, "Chậm", 1, "late")
    with pytest.raises(ValidationError, match="không rơi vào ngày nghỉ"):
        rules.check_apology(received, now, vn(2026, 3, 3, 10, 0), "Lịch", 1, "calendar")
    with pytest.raises(ValidationError, match="Loại phiếu xin lỗi"):
        rules.check_apology(received, now, None, "x", 1, "other")
    step = Step(received, facts(), CALENDAR, now, "head")
    rules.apology_issued(step, vn(2026, 3, 3, 10, 0), "Tra nhầm sổ", "Phòng A", "mistake")
    assert received.due_at == vn(2026, 3, 3, 10, 0)
    assert (received.sla.apologies, received.sla.mistake_apologies, received.sla.late_by_apology) == (
        0,
        1,
        False,
    )


def test_a_new_day_off_moves_the_receipt_deadline_and_step_dues_but_not_the_appointment() -> None:
    # Online, Friday 27/11/2026 15:00: 8 working hours → 15:30 Monday 30/11; 30/11 off → 15:30 01/12.
    online = state(channel=2, receipt_due_at=vn(2026, 11, 30, 15, 30).astimezone(UTC))
    online.tasks["t1"] = OpenTask(
        "t1",
        "receipt_check",
        "Kiểm tra",
        "desk_clerk",
        None,
        vn(2026, 11, 27, 15, 0),
        vn(2026, 11, 27, 16, 0),
    )
    off = CALENDAR.with_overrides(
        CalendarOverride(date(2026, 11, 30), "off", "QĐ số 45/QĐ-UBND ngày 27/11/2026")
    )
    moves = rules.calendar_moves(online, facts(), off)
    assert moves == {
        "receipt_due_at": iso(2026, 12, 1, 15, 30),
        "previous_receipt_due_at": iso(2026, 11, 30, 15, 30),
        "appointment_on_day_off": False,
    }
    # A make-up Saturday 28/11 instead: 15:30 on the Saturday.
    work = CALENDAR.with_overrides(
        CalendarOverride(date(2026, 11, 28), "work", "TB số 12/TB-UBND ngày 20/11/2026")
    )
    assert rules.calendar_moves(online, facts(), work)["receipt_due_at"] == iso(2026, 11, 28, 15, 30)
    # Nothing to move under the calendar the deadlines were computed with.
    assert rules.calendar_moves(online, facts(), CALENDAR) == {}


def test_a_printed_appointment_on_a_new_day_off_is_flagged_with_the_nearest_moments() -> None:
    case = state(status=Status.PROCESSING, received_at=vn(2026, 11, 2, 9, 0), due_at=vn(2026, 11, 9, 11, 30))
    case.tasks["t2"] = OpenTask(
        "t2", "appraise", "Thẩm định", "specialist", None, vn(2026, 11, 2, 9, 0), vn(2026, 11, 3, 9, 30)
    )
    off = CALENDAR.with_overrides(
        CalendarOverride(date(2026, 11, 9), "off", "QĐ số 51/QĐ-UBND ngày 02/11/2026")
    )
    moves = rules.calendar_moves(case, facts(), off)
    assert moves == {
        "appointment_on_day_off": True,
        "nearest": [iso(2026, 11, 6, 17, 0), iso(2026, 11, 10, 7, 30)],
    }
    step = Step(case, facts(), off, vn(2026, 11, 2, 10, 0), "admin")
    rules.calendar_changed(step, "2026-11-09", "off", "QĐ số 51", moves)
    assert case.due_at == vn(2026, 11, 9, 11, 30) and case.sla.flags == ["appointment_on_day_off"]
    # Withdrawing the day off clears the flag (a calendar_changed with the flag off).
    assert rules.calendar_moves(case, facts(), CALENDAR) == {"appointment_on_day_off": False}
    apply(case, step.events[-1], facts(), lambda _m: off)
    assert isinstance(case.due_at, datetime)
