"""Tasklist, claim/release/reassign, the case page's schema-rendered form, control sheet (Mẫu 05)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.clock import FixedClock
from engine.service import CaseView, Engine
from tests.web.conftest import ACCEPT, submit_online


def accepted_case(engine: Engine, name: str = "Nguyễn Văn An") -> CaseView:
    case = submit_online(engine, name)
    return engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))


def test_unit_tasklist_lists_my_roles_work_sorted_by_due(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    first = accepted_case(engine, "Người thứ nhất")
    clock.advance(timedelta(hours=1))
    second = accepted_case(engine, "Người thứ hai")
    page = as_user("specialist").get("/tasks/").get_data(as_text=True)
    assert page.index(first.code) < page.index(second.code)
    assert "Đối chiếu sổ gốc" in page and "row-green" in page and "Còn hạn" in page
    assert first.code not in as_user("head").get("/tasks/").get_data(as_text=True)  # not a head's step yet


def test_tasklist_colours_amber_then_red(engine: Engine, clock: FixedClock, as_user: Any) -> None:
    case = accepted_case(engine)
    step_due = case.tasks[0].due_at
    assert step_due is not None
    clock.set(step_due - timedelta(minutes=30))  # 4 h allocated, 0.5 h left ≤ 20 %
    assert "row-amber" in as_user("specialist").get("/tasks/").get_data(as_text=True)
    clock.set(step_due + timedelta(minutes=5))
    page = as_user("specialist").get("/tasks/?due=overdue").get_data(as_text=True)
    assert "row-red" in page and case.code in page and "quá 5 phút" in page


def test_tasklist_filters(engine: Engine, as_user: Any) -> None:
    case = accepted_case(engine)
    specialist = as_user("specialist")
    assert case.code in specialist.get("/tasks/?procedure=diploma_copy&status=4").get_data(as_text=True)
    assert case.code not in specialist.get("/tasks/?procedure=student_transfer").get_data(as_text=True)
    assert case.code not in specialist.get("/tasks/?status=9").get_data(as_text=True)
    assert case.code not in specialist.get("/tasks/?scope=mine").get_data(as_text=True)
    assert specialist.get("/tasks/?status=abc&due=never&scope=x").status_code == 200  # junk filters ignored


def test_claim_release_and_claims_bind_completion(engine: Engine, as_user: Any) -> None:
    case = accepted_case(engine)
    task_id = case.tasks[0].task_id
    specialist = as_user("specialist")
    assert specialist.post(f"/tasks/{task_id}/claim").status_code == 302
    assert case.code in specialist.get("/tasks/?scope=mine").get_data(as_text=True)
    assert engine.get_case(case.code).tasks[0].assignee == "specialist"
    # someone else holding the role cannot complete a claimed step
    other = engine.actor("clerk")
    from engine.errors import Forbidden
    from engine.users import Actor

    second_specialist = Actor("specialist2", "Chuyên viên 2", frozenset({"specialist"}), "Phòng thử nghiệm")
    try:
        engine.complete_work_item(case.code, task_id, {"found": False}, second_specialist)
    except Forbidden as exc:
        assert "đang do 'specialist' xử lý" in exc.message
    else:
        raise AssertionError("claimed step completed by someone else")
    assert other.username == "clerk"
    assert specialist.post(f"/tasks/{task_id}/release").status_code == 302
    assert engine.get_case(case.code).tasks[0].assignee is None
    kinds = [e.kind for e in engine.events(case.code)]
    assert "task_claimed" in kinds and "task_released" in kinds


def test_claiming_a_step_held_by_someone_else_is_a_conflict(engine: Engine, as_user: Any) -> None:
    case = accepted_case(engine)
    task_id = case.tasks[0].task_id
    engine.reassign_task(task_id, "specialist", engine.actor("head"))
    response = as_user("clerk").post(f"/tasks/{task_id}/claim")
    assert response.status_code == 403  # clerk lacks the role
    response = as_user("specialist").api("POST", f"/api/tasks/{task_id}/claim")
    assert response.status_code == 200  # already mine: idempotent


def test_head_reassigns_and_reassigning_to_wrong_role_is_refused(engine: Engine, as_user: Any) -> None:
    case = accepted_case(engine)
    task_id = case.tasks[0].task_id
    head = as_user("head")
    page = head.get(f"/cases/{case.code}").get_data(as_text=True)
    assert f"/tasks/{task_id}/reassign" in page and "Người dùng specialist" in page
    assert (
        head.post(f"/tasks/{task_id}/reassign", {"username": "specialist", "next": "case"}).status_code == 302
    )
    assert engine.get_case(case.code).tasks[0].assignee == "specialist"
    wrong = head.post(f"/tasks/{task_id}/reassign", {"username": "clerk"})
    assert wrong.status_code == 422 and "không có vai trò" in wrong.get_data(as_text=True)
    assert (
        as_user("specialist").post(f"/tasks/{task_id}/reassign", {"username": "specialist"}).status_code
        == 403
    )


def test_case_page_renders_the_step_form_from_its_schema_and_completes_it(
    engine: Engine, as_user: Any
) -> None:
    case = accepted_case(engine)
    specialist = as_user("specialist")
    page = specialist.get(f"/cases/{case.code}").get_data(as_text=True)
    assert 'type="radio" name="found" value="true"' in page  # required boolean → explicit Có/Không
    assert 'type="number" name="copies"' in page or 'name="copies" type="number"' in page
    assert 'min="1"' in page and 'max="100"' in page
    assert 'maxlength="200"' in page  # register_ref maxLength
    assert "Nhật ký xử lý" in page and "Nộp hồ sơ" in page
    task_id = case.tasks[0].task_id
    missing = specialist.post(f"/cases/{case.code}/tasks/{task_id}", {"found": "true", "copies": "hai"})
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
    assert "Số vào sổ gốc / số hiệu văn bằng, chứng chỉ: thiếu trường bắt buộc" in text
    assert "Số bản sao cấp: sai kiểu dữ liệu" in text
    done = specialist.post(
        f"/cases/{case.code}/tasks/{task_id}",
        {
            "found": "true",
            "register_ref": "Sổ gốc 2015, số 1234",
            "copies": "2",
            "version": str(case.version),
        },
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/tasks/")
    after = engine.get_case(case.code)
    assert after.data["copies"] == 2 and after.data["found"] is True
    shown = specialist.get(f"/cases/{case.code}").get_data(as_text=True).split('id="case-data"')[1]
    assert "<dt>Kết quả kiểm tra hồ sơ</dt><dd>Tiếp nhận</dd>" in shown
    assert "<dt>Có trong sổ gốc</dt><dd>Có</dd>" in shown
    assert "TP1 — Đơn đề nghị cấp bản sao" in shown
    assert [t.element_id for t in after.tasks] == ["approve_copy"]


def test_stale_form_is_a_conflict(engine: Engine, as_user: Any) -> None:
    case = accepted_case(engine)
    response = as_user("specialist").post(
        f"/cases/{case.code}/tasks/{case.tasks[0].task_id}",
        {"found": "false", "version": str(case.version - 1)},
    )
    assert response.status_code == 409 and "tải lại" in response.get_data(as_text=True)


def test_control_sheet_lists_handovers_with_outcomes(engine: Engine, clock: FixedClock, as_user: Any) -> None:
    case = accepted_case(engine)
    clock.advance(timedelta(hours=1))
    engine.complete_work_item(
        case.code,
        "verify_register",
        {"found": True, "register_ref": "S1", "copies": 1},
        engine.actor("specialist"),
    )
    clock.advance(timedelta(hours=3))
    engine.complete_work_item(case.code, "approve_copy", {"approved": True}, engine.actor("head"))
    rows = engine.control_sheet(case.code)
    assert [r.element_id for r in rows] == [
        "receipt_check",
        "verify_register",
        "approve_copy",
        "return_result",
    ]
    assert rows[1].given_by == "Người dùng clerk" and rows[1].received_by == "Người dùng specialist"
    assert [r.outcome for r in rows[:3]] == ["on_time", "on_time", "late"]
    sheet = as_user("auditor").get(f"/cases/{case.code}/control-sheet").get_data(as_text=True)
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in sheet
    assert "Đúng hạn" in sheet and "Quá hạn" in sheet and "Đang xử lý" in sheet


def test_case_search_and_unknown_case(as_user: Any, engine: Engine) -> None:
    case = accepted_case(engine)
    specialist = as_user("specialist")
    assert specialist.get(f"/cases/?code={case.code}").headers["Location"].endswith(f"/cases/{case.code}")
    missing = specialist.get("/cases/KHONG-CO")
    assert missing.status_code == 404 and "Không tìm thấy hồ sơ" in missing.get_data(as_text=True)
