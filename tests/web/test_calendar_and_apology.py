"""Calendar changes reaching open dossiers, apologies for a mistake or a calendar change, and the head's
approval of a second supplementation request: the web pages and the JSON API over the same engine."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import vn

ACCEPT_TRANSFER = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
BASIS = "Quyết định số 51/QĐ-UBND ngày 02/11/2026"


def _transfer(engine: Engine, clock: FixedClock) -> str:
    """Accepted 09:00 Mon 02/11/2026: 40 working hours → appointment 11:30 Mon 09/11."""
    clock.set(vn(2026, 11, 2, 9, 0))
    code = engine.start_case(
        {"procedure_id": "student_transfer", "applicant": {"name": "Lê Minh Châu"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT_TRANSFER, engine.actor("clerk"))
    assert engine.get_case(code).due_at == vn(2026, 11, 9, 11, 30)
    clock.set(vn(2026, 11, 2, 10, 0))
    return code


def test_a_day_off_entered_on_the_admin_page_flags_the_printed_appointment(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    code = _transfer(engine, clock)
    admin = as_user("admin")
    page = admin.post(
        "/admin/calendar/overrides",
        {"day": "2026-11-09", "kind": "off", "note": BASIS},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã tính lại hạn tiếp nhận, hạn xử lý của 1 hồ sơ" in page and code in page
    assert "ngày hẹn trả đã in rơi vào ngày nghỉ" in page
    # The printed appointment stays; the board lists it with the way to a new one.
    assert engine.get_case(code).due_at == vn(2026, 11, 9, 11, 30)
    board = as_user("head").get("/board/").get_data(as_text=True)
    listed = board.split('id="board-day-off"')[1].split("</table>")[0]
    assert code in listed and f"/cases/{code}/apology?kind=calendar" in listed
    view = as_user("clerk").get(f"/cases/{code}").get_data(as_text=True)
    assert 'id="day-off-panel"' in view and "Điều chỉnh lịch làm việc: tính lại thời hạn" in view
    form = as_user("head").get(f"/cases/{code}/apology?kind=calendar").get_data(as_text=True)
    assert "Gợi ý hẹn lại: 17:00 06/11/2026 hoặc 07:30 10/11/2026" in form
    # The next valid moment is offered in the form itself.
    assert 'name="new_due_date" value="2026-11-10"' in form and 'name="new_due_time" value="07:30"' in form
    head = as_user("head")
    done = head.post(
        f"/cases/{code}/apology",
        {"kind": "calendar", "unit_at_fault": "Bộ phận một cửa", "reason": "Ngày hẹn trùng ngày nghỉ mới",
         "new_due_date": "2026-11-10", "new_due_time": "11:30"},
    )  # fmt: skip
    assert done.status_code == 302, done.get_data(as_text=True)[:800]
    printed = head.get(f"/cases/{code}/forms/04").get_data(as_text=True)
    assert "trùng ngày nghỉ" in printed and "11 giờ 30 phút, ngày 10/11/2026" in printed
    after = engine.get_case(code)
    assert after.due_at == vn(2026, 11, 10, 11, 30)
    assert "appointment_on_day_off" not in after.sla["flags"] and after.sla.get("apologies") == 0
    assert engine.sla_board().day_off_appointments == []


def test_the_api_answers_which_dossiers_a_new_day_off_moved(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    code = _transfer(engine, clock)
    admin = as_user("admin")
    answer = admin.api(
        "POST", "/api/admin/calendar/overrides", {"day": "2026-11-03", "kind": "off", "note": BASIS}
    )
    assert answer.status_code == 201, answer.get_json()
    # The open step (8 working hours from 09:00 02/11) moves to 09:30 04/11; the appointment does not.
    assert answer.get_json()["moved"] == [code] and answer.get_json()["appointments_on_day_off"] == []
    events = [e for e in engine.events(code) if e.kind == "calendar_changed"]
    assert len(events) == 1 and list(events[0].payload["task_dues"].values()) == ["2026-11-04T02:30:00+00:00"]
    # A dossier the changed day cannot reach is not touched.
    again = admin.api(
        "POST", "/api/admin/calendar/overrides", {"day": "2026-12-15", "kind": "off", "note": BASIS}
    )
    assert again.get_json()["moved"] == []
    assert (
        engine.add_calendar_override(date(2026, 12, 15), "none", "Huỷ", engine.actor("admin"))["moved"] == []
    )


def test_an_apology_for_a_mistake_without_a_new_appointment(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    code = _transfer(engine, clock)
    head = as_user("head")
    missing = head.api(
        "POST", f"/api/cases/{code}/apology", {"reason": "Ghi sai tên", "unit_at_fault": "Một cửa"}
    )
    assert missing.status_code == 422 and "ngày hẹn" in missing.get_json()["message"]
    answer = head.api(
        "POST",
        f"/api/cases/{code}/apology",
        {"reason": "Ghi sai họ tên người nộp", "unit_at_fault": "Bộ phận một cửa", "kind": "mistake"},
    )
    assert answer.status_code == 200, answer.get_json()
    case = engine.get_case(code)
    assert case.sla["mistake_apologies"] == 1 and case.due_at == vn(2026, 11, 9, 11, 30)
    assert not case.sla.get("late_by_apology")
    printed = head.get(f"/cases/{code}/forms/04").get_data(as_text=True)
    assert "đã để xảy ra sai sót" in printed and "không thay đổi" in printed
    page = head.get(f"/cases/{code}").get_data(as_text=True)
    assert "Ghi sai họ tên người nộp — không thay đổi ngày hẹn" in page
    blank = head.post(
        f"/cases/{code}/apology", {"kind": "mistake", "unit_at_fault": "Bộ phận một cửa", "reason": " "}
    )
    assert blank.status_code == 422 and "sai sót" in blank.get_data(as_text=True)
    assert engine.get_case(code).sla["mistake_apologies"] == 1


def test_a_second_supplementation_needs_a_procedure_that_allows_it_and_a_head(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    clock.set(vn(2026, 3, 2, 8, 0))
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Trịnh Văn Khoa"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    asked = {"decision": "supplement", "missing_documents": ["TP2"], "reason": "Thiếu CCCD"}
    engine.complete_task(code, "receipt_check", asked, engine.actor("clerk"))
    clerk = as_user("clerk").api("POST", f"/api/cases/{code}/supplement-approval", {"reason": "Thiếu"})
    assert clerk.status_code == 403
    head = as_user("head").api("POST", f"/api/cases/{code}/supplement-approval", {"reason": "Thiếu"})
    assert head.status_code == 422
    assert "không cho phép yêu cầu bổ sung hồ sơ lần thứ hai" in head.get_json()["message"]
    assert not engine.get_case(code).sla.get("repeat_approved")
