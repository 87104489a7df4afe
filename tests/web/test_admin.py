"""Administration pages and API: calendar overrides (with the "thử tính" helper) and outbox incidents.

2026 already has the government's swap built in (Monday 31/8 off, Saturday 22/8 worked), so these
tests record a fresh swap in the first week of March: Tuesday 3/3 off, Saturday 7/3 worked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.clock import FixedClock
from engine.models import OutboxMessage
from engine.outbox import STATUS_SYNC, Message, PermanentFailure
from engine.service import Engine
from tests.support.fixtures import TEST_USERS, VN, vn
from tests.web.conftest import submit_online

NOTE = "Thông báo số 123/TB-UBND ngày 15/01/2026 về hoán đổi ngày làm việc"


def _trial(admin: Any, start: str, amount: str, unit: str) -> str:
    response = admin.get(f"/admin/calendar?year=2026&from={start}&amount={amount}&unit={unit}")
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    page = response.get_data(as_text=True)
    return page.split('id="trial-result">', 1)[1].split("</p>", 1)[0]


def _row(page: str, marker: str) -> str:
    return page.split(marker, 1)[1].split("</tr>", 1)[0]


# ------------------------------------------------------------------------------------------ calendar


def test_the_calendar_page_lists_the_years_holidays_and_built_in_swap(engine: Engine, as_user: Any) -> None:
    page = as_user("admin").get("/admin/calendar?year=2026").get_data(as_text=True)
    days_off = page.split('id="days-off"', 1)[1].split("</table>", 1)[0]
    make_up = page.split('id="make-up-days"', 1)[1].split("</table>", 1)[0]
    assert 'data-day="2026-02-17"' in days_off and "Tết Nguyên Đán" in days_off
    assert 'data-day="2026-08-31"' in days_off and 'data-day="2026-09-02"' in days_off
    assert 'data-day="2026-08-22"' in make_up and "Thứ Bảy" in make_up
    assert 'data-day="2026-03-03"' not in page
    # The year selector: another year, and a default (the clock's year).
    assert 'data-day="2025-04-26"' in as_user("admin").get("/admin/calendar?year=2025").get_data(as_text=True)
    assert "Lịch làm việc năm 2026" in as_user("admin").get("/admin/calendar").get_data(as_text=True)


def test_an_override_added_through_the_form_is_listed_and_moves_due_dates(
    engine: Engine, as_user: Any
) -> None:
    admin = as_user("admin")
    assert _trial(admin, "2026-03-02T08:00", "8", "hours").count("08:30 03/03/2026") == 1
    assert "08:00 05/03/2026" in _trial(admin, "2026-03-02T08:00", "3", "days")
    assert "08:30 09/03/2026" in _trial(admin, "2026-03-06T16:00", "2", "hours")

    added = admin.post("/admin/calendar/overrides", {"day": "2026-03-03", "kind": "off", "note": NOTE})
    assert added.status_code == 302 and added.headers["Location"].endswith("/admin/calendar?year=2026")
    worked = admin.post("/admin/calendar/overrides", {"day": "2026-03-07", "kind": "work", "note": NOTE})
    assert worked.status_code == 302

    page = admin.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "Đã ghi điều chỉnh lịch ngày 03/03/2026" in page
    off_row = _row(page, 'data-day="2026-03-03" data-kind="off"')
    assert NOTE in off_row and "admin" in off_row and "Đang áp dụng" in off_row
    assert "08:00 02/03/2026" in off_row  # recorded at the engine's clock, shown in local time
    assert 'data-day="2026-03-03"' in page.split('id="days-off"', 1)[1].split("</table>", 1)[0]
    assert 'data-day="2026-03-07"' in page.split('id="make-up-days"', 1)[1].split("</table>", 1)[0]

    # The helper uses the live calendar: Tuesday is skipped, Saturday is counted.
    assert "08:30 04/03/2026" in _trial(admin, "2026-03-02T08:00", "8", "hours")
    assert "08:00 06/03/2026" in _trial(admin, "2026-03-02T08:00", "3", "days")
    saturday = _trial(admin, "2026-03-06T16:00", "2", "hours")
    assert "08:30 07/03/2026" in saturday and "Thứ Bảy" in saturday

    # A dossier submitted afterwards gets its 8-working-hour receipt deadline past the new day off.
    case = submit_online(engine)
    assert case.receipt_due_at is not None
    assert case.receipt_due_at.astimezone(VN) == vn(2026, 3, 4, 8, 30)
    rows = engine.calendar_overrides()
    assert [(r["day"], r["kind"], r["created_by"]) for r in rows] == [
        ("2026-03-03", "off", "admin"),
        ("2026-03-07", "work", "admin"),
    ]


def test_a_withdrawn_override_stays_in_the_history_as_superseded(engine: Engine, as_user: Any) -> None:
    admin = as_user("admin")
    admin.post("/admin/calendar/overrides", {"day": "2026-03-03", "kind": "off", "note": NOTE})
    undo = admin.post("/admin/calendar/overrides", {"day": "2026-03-03", "kind": "none", "note": "Nhập nhầm"})
    assert undo.status_code == 302
    page = admin.get("/admin/calendar?year=2026").get_data(as_text=True)
    first, second = (r["id"] for r in engine.calendar_overrides())
    assert "Đã bị thay thế" in _row(page, f'<tr data-id="{first}"') and 'class="superseded' in page
    assert "Đã huỷ điều chỉnh" in _row(page, f'<tr data-id="{second}"')
    assert page.index(f'data-id="{second}"') < page.index(f'data-id="{first}"')  # newest first per day
    assert 'data-day="2026-03-03"' not in page.split('id="days-off"', 1)[1].split("</table>", 1)[0]
    assert "08:30 03/03/2026" in _trial(admin, "2026-03-02T08:00", "8", "hours")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"day": "2026-02-30", "kind": "off", "note": NOTE}, "Ngày không hợp lệ: «2026-02-30»"),
        ({"day": "31/08/2026", "kind": "off", "note": NOTE}, "Ngày không hợp lệ"),
        ({"day": "", "kind": "off", "note": NOTE}, "Ngày không hợp lệ"),
        ({"day": "2026-03-03", "kind": "off", "note": ""}, "Phải ghi căn cứ (văn bản, quyết định)"),
        ({"day": "2026-03-03", "kind": "off", "note": "   "}, "Phải ghi căn cứ (văn bản, quyết định)"),
        ({"day": "2026-03-03", "kind": "off"}, "Phải ghi căn cứ (văn bản, quyết định)"),
        ({"day": "2026-03-03", "kind": "holiday", "note": NOTE}, "Chọn loại điều chỉnh"),
        ({"day": "2026-03-03", "kind": "off", "note": "x" * 501}, "dài quá 500 ký tự"),
        ({"day": "1900-01-01", "kind": "off", "note": NOTE}, "1976–2100"),
    ],
)
def test_bad_override_input_is_refused_with_a_vietnamese_message_and_nothing_stored(
    engine: Engine, as_user: Any, form: dict[str, str], message: str
) -> None:
    response = as_user("admin").post("/admin/calendar/overrides", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page.split('id="override-error">', 1)[1].split("</p>", 1)[0]
    assert form.get("note", "x")[:20] in page  # what was typed is kept
    assert engine.calendar_overrides() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("year=abc", "Năm không hợp lệ"),
        ("year=3000", "Năm phải trong khoảng 1976–2100"),
        ("from=hôm-nay&amount=3&unit=days", "Thời điểm bắt đầu không hợp lệ"),
        ("from=2026-03-02T08:00&amount=-1&unit=days", "phải là số không âm"),
        ("from=2026-03-02T08:00&amount=ba&unit=hours", "phải là một số"),
        ("from=2026-03-02T08:00&amount=nan&unit=hours", "phải là số không âm"),
        ("from=2026-03-02T08:00&amount=1e300&unit=days", "quá lớn"),
        ("from=2100-12-31T08:00&amount=400&unit=days", "Ngoài phạm vi lịch làm việc"),
    ],
)
def test_bad_calendar_queries_answer_400_not_500(
    engine: Engine, as_user: Any, query: str, message: str
) -> None:
    response = as_user("admin").get(f"/admin/calendar?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_forms_without_a_csrf_token_are_refused(engine: Engine, as_user: Any) -> None:
    admin = as_user("admin")
    form = {"day": "2026-03-03", "kind": "off", "note": NOTE}
    assert admin.http.post("/admin/calendar/overrides", data=form).status_code == 400
    incident_form = admin.http.post("/admin/incidents/1/retry", data={"csrf_token": "forged"})
    assert incident_form.status_code == 400
    assert "biểu mẫu không hợp lệ" in incident_form.get_data(as_text=True)
    assert engine.calendar_overrides() == []


def test_other_roles_cannot_see_or_change_the_calendar(engine: Engine, as_user: Any) -> None:
    for name in ("clerk", "director", "auditor", "designer"):
        user = as_user(name)
        assert user.get("/admin/calendar").status_code == 403
        assert (
            user.post(
                "/admin/calendar/overrides", {"day": "2026-03-03", "kind": "off", "note": NOTE}
            ).status_code
            == 403
        )
        assert (
            user.api(
                "POST", "/api/admin/calendar/overrides", {"day": "2026-03-03", "kind": "off", "note": NOTE}
            ).status_code
            == 403
        )
    assert as_user(None).get("/admin/calendar").status_code == 302
    assert engine.calendar_overrides() == []


# ----------------------------------------------------------------------------------------- incidents


class Portal:
    """The national portal refusing our status message (a permanent failure opens an incident at once)."""

    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.calls: list[Message] = []

    def __call__(self, message: Message) -> Mapping[str, Any] | None:
        self.calls.append(message)
        if self.refuse:
            raise PermanentFailure("cổng trả lời 400: mã thủ tục không đúng")
        return {"ok": True}


@pytest.fixture
def incident(engine: Engine) -> tuple[str, int]:
    """A real incident: an online dossier whose first portal status sync was refused."""
    engine.lease_clock = FixedClock(datetime(2026, 3, 2, 2, 15, tzinfo=UTC))  # 09:15 local
    code = submit_online(engine).code
    engine.deliver_outbox({STATUS_SYNC: Portal(refuse=True)})
    [opened] = engine.incidents()
    assert opened.case_code == code
    return code, opened.id


def test_incidents_are_listed_and_retried_with_the_button(
    engine: Engine, as_user: Any, incident: tuple[str, int]
) -> None:
    code, incident_id = incident
    admin = as_user("admin")
    index = admin.get("/admin/").get_data(as_text=True)
    assert 'id="open-incident-count">1<' in index and 'href="/admin/incidents"' in index

    page = admin.get("/admin/incidents").get_data(as_text=True)
    row = _row(page, f'<tr data-id="{incident_id}">')
    assert "Đồng bộ trạng thái lên Cổng DVCQG" in row and STATUS_SYNC in row
    assert code in row and "<td>1</td>" in row
    assert f'href="/cases/{code}"' not in row  # the case page is not open to a plain administrator
    assert "PermanentFailure" in row and "mã thủ tục không đúng" in row
    assert "09:15 02/03/2026" in row and "Thử lại" in row
    assert 'id="resolved-incidents"' not in page

    retried = admin.post(f"/admin/incidents/{incident_id}/retry")
    assert retried.status_code == 302 and retried.headers["Location"].endswith("/admin/incidents")
    after = admin.get("/admin/incidents").get_data(as_text=True)
    assert f"sự cố #{incident_id} trở lại hàng đợi gửi" in after and 'id="no-open-incidents"' in after
    assert engine.incidents() == []
    with engine.db.read() as session:
        states = list(
            session.scalars(select(OutboxMessage.state).where(OutboxMessage.handler == STATUS_SYNC))
        )
    assert states[0] == "pending"
    portal = Portal(refuse=False)
    engine.deliver_outbox({STATUS_SYNC: portal})
    assert [m.payload["status"] for m in portal.calls][:1] == [1]
    assert {m.state for m in engine.case_outbox(code) if m.handler == STATUS_SYNC} == {"delivered"}

    resolved = admin.get("/admin/incidents?resolved=1").get_data(as_text=True)
    resolved_row = _row(resolved.split('id="resolved-incidents"', 1)[1], f'<tr data-id="{incident_id}">')
    assert code in resolved_row and "admin" in resolved_row and "09:15 02/03/2026" in resolved_row
    assert 'id="open-incident-count">0<' in admin.get("/admin/").get_data(as_text=True)

    # A second click changes nothing; unknown or malformed ids are "not found", never a 500.
    again = admin.post(f"/admin/incidents/{incident_id}/retry")
    assert again.status_code == 302
    assert "đã được xử lý trước đó" in admin.get("/admin/incidents?resolved=1").get_data(as_text=True)
    assert engine.deliver_outbox({STATUS_SYNC: portal}).attempted == 0
    for bad in (str(incident_id + 1000), "abc", "²", "99999999999999999999", "-1"):
        missing = admin.post(f"/admin/incidents/{bad}/retry")
        assert missing.status_code == 404 and "Không tìm thấy" in missing.get_data(as_text=True)


def test_only_admins_retry_incidents(engine: Engine, as_user: Any, incident: tuple[str, int]) -> None:
    _, incident_id = incident
    for name in ("clerk", "director", "auditor"):
        user = as_user(name)
        assert user.get("/admin/incidents").status_code == 403
        assert user.post(f"/admin/incidents/{incident_id}/retry").status_code == 403
        assert user.api("POST", f"/api/admin/incidents/{incident_id}/retry").status_code == 403
    assert [i.id for i in engine.incidents()] == [incident_id]


# ----------------------------------------------------------------------------------------------- API


def test_the_same_operations_over_the_api(engine: Engine, as_user: Any, incident: tuple[str, int]) -> None:
    code, incident_id = incident
    admin = as_user("admin")
    assert admin.api("GET", "/api/admin/calendar/overrides").get_json() == []
    created = admin.api(
        "POST", "/api/admin/calendar/overrides", {"day": "2026-03-03", "kind": "off", "note": NOTE}
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["day"] == "2026-03-03" and body["kind"] == "off" and body["created_by"] == "admin"
    assert body["in_force"] is True
    admin.api(
        "POST", "/api/admin/calendar/overrides", {"day": "2026-03-03", "kind": "none", "note": "Nhập nhầm"}
    )
    listed = admin.api("GET", "/api/admin/calendar/overrides").get_json()
    assert [(r["kind"], r["in_force"]) for r in listed] == [("off", False), ("none", True)]
    for bad in (
        {"day": "2026-02-30", "kind": "off", "note": NOTE},
        {"day": "2026-03-03", "kind": "holiday", "note": NOTE},
        {"day": "2026-03-03", "kind": "off", "note": ""},
        {"day": "2026-03-03", "kind": "off"},
        {"day": "2026-03-03", "kind": "off", "note": NOTE, "extra": 1},
    ):
        refused = admin.api("POST", "/api/admin/calendar/overrides", bad)
        assert refused.status_code == 422 and refused.get_json()["error"] == "validation_error", bad
    blank = admin.api(
        "POST", "/api/admin/calendar/overrides", {"day": "2026-03-03", "kind": "off", "note": "  "}
    )
    assert blank.status_code == 422 and "Phải ghi căn cứ" in blank.get_json()["message"]
    assert len(engine.calendar_overrides()) == 2

    [open_one] = admin.api("GET", "/api/admin/incidents").get_json()
    assert open_one["id"] == incident_id and open_one["case_code"] == code and open_one["attempts"] == 1
    assert admin.api("GET", "/api/admin/incidents?state=bogus").status_code == 422
    retried = admin.api("POST", f"/api/admin/incidents/{incident_id}/retry")
    assert retried.status_code == 200 and retried.get_json()["resolved_by"] == "admin"
    assert admin.api("GET", "/api/admin/incidents").get_json() == []
    assert [i["id"] for i in admin.api("GET", "/api/admin/incidents?state=all").get_json()] == [incident_id]
    assert admin.api("POST", "/api/admin/incidents/abc/retry").status_code == 404
    assert admin.api("POST", f"/api/admin/incidents/{incident_id + 1000}/retry").status_code == 404


# --------------------------------------------------------------------------------------------- users


def test_admin_sees_the_staff_list_with_roles_and_units(engine: Engine, as_user: Any) -> None:
    page = as_user("admin").get("/admin/users").get_data(as_text=True)
    table = page.split('id="users"', 1)[1].split("</table>", 1)[0]
    # Other suites may add accounts to the shared test database: ours must all be there, once.
    listed = re.findall(r'<tr data-username="([^"]+)"', table)
    assert set(TEST_USERS) <= set(listed) and len(listed) == len(set(listed))
    row = _row(table, '<tr data-username="head">')
    assert "Người dùng head" in row and "Lãnh đạo phòng" in row and "Phòng thử nghiệm" in row
    assert "Cán bộ tiếp nhận (một cửa)" in _row(table, '<tr data-username="clerk">')
    # The per-role count is the number of active admin accounts in the database (other suites add some).
    admins = len(engine.users_with_role("admin"))
    assert f'<tr data-role="admin"><td>Quản trị hệ thống</td><td>{admins}</td>' in page
    assert 'href="/admin/users"' in as_user("admin").get("/admin/").get_data(as_text=True)
    assert as_user("director").get("/admin/users").status_code == 403
