"""Desk pages on the real engine: queue with the 8-working-hour countdown, intake, receipt, forms 01–04."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import TEST_PASSWORD, vn
from tests.web.conftest import submit_online


def test_queue_shows_online_submission_with_countdown(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    page = as_user("clerk").get("/desk/").get_data(as_text=True)
    assert case.code in page
    assert "Hồ sơ chờ tiếp nhận" in page
    assert "Còn 8 giờ 00 phút" in page  # 08:00 Monday + 8 working hours, nothing used yet
    assert "row-red" not in page


def test_queue_turns_red_after_the_receipt_deadline(engine: Engine, clock: FixedClock, as_user: Any) -> None:
    case = submit_online(engine)
    assert case.receipt_due_at is not None
    clock.set(case.receipt_due_at + timedelta(minutes=30))
    page = as_user("clerk").get("/desk/").get_data(as_text=True)
    assert "row-red" in page and "Quá hạn 30 phút" in page


def test_counter_intake_then_accept_prints_receipt_form_01(engine: Engine, as_user: Any) -> None:
    clerk = as_user("clerk")
    response = clerk.post(
        "/desk/intake",
        {
            "procedure_id": "diploma_copy",
            "channel": "1",
            "applicant_name": "Lê Thị Hoa",
            "applicant_phone": "0912000111",
            "applicant_address": "12 Lê Lợi, Huế",
        },
    )
    assert response.status_code == 302
    code = response.headers["Location"].rsplit("/", 1)[1]
    case = engine.get_case(code)
    assert case.channel == 1 and case.status == 1 and case.receipt_due_at is None
    page = clerk.get(f"/desk/receipt/{code}").get_data(as_text=True)
    assert "Kiểm tra, tiếp nhận hồ sơ" in page and 'name="decision"' in page
    assert "TP1 — Đơn đề nghị cấp bản sao" in page  # x-choices: documents rendered as a checkbox group
    task = case.tasks[0]
    done = clerk.post(
        f"/cases/{code}/tasks/{task.task_id}",
        {
            "decision": "accept",
            "checked_documents": ["TP1", "TP2"],
            "version": str(case.version),
            "origin": "receipt",
        },
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{code}/forms/01")
    form = clerk.get(f"/cases/{code}/forms/01").get_data(as_text=True)
    after = engine.get_case(code)
    assert after.status == 4
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in form
    assert code in form and "Lê Thị Hoa" in form
    assert 'id="lookup-secret"' in form  # counter dossier: the secret is printed on the receipt
    assert "17 giờ 00 phút, ngày 02/03/2026" in form  # same working day: accepted 08:00 Monday
    # the secret printed on the receipt really opens the citizen lookup
    secret = form.split('id="lookup-secret">')[1].split("<")[0]
    assert engine.lookup(code, secret).code == code


def test_accepting_an_incomplete_dossier_is_refused_inline(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    clerk = as_user("clerk")
    response = clerk.post(
        f"/cases/{case.code}/tasks/{case.tasks[0].task_id}",
        {"decision": "accept", "checked_documents": ["TP1"], "origin": "receipt"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Hồ sơ chưa đầy đủ" in page and "TP2" in page
    assert engine.get_case(case.code).status == 1


def test_schema_validation_errors_are_shown_next_to_fields(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    response = as_user("clerk").post(
        f"/cases/{case.code}/tasks/{case.tasks[0].task_id}", {"decision": "refuse", "origin": "receipt"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Lý do từ chối hoặc nội dung yêu cầu bổ sung: thiếu trường bắt buộc" in page
    assert 'data-field="reason"' in page and "has-error" in page


def test_supplementation_request_prints_form_02(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    clerk = as_user("clerk")
    done = clerk.post(
        f"/cases/{case.code}/tasks/{case.tasks[0].task_id}",
        {
            "decision": "supplement",
            "missing_documents": ["TP2"],
            "reason": "Thiếu bản sao CCCD",
            "origin": "receipt",
        },
    )
    assert done.headers["Location"].endswith("/forms/02")
    form = clerk.get(done.headers["Location"]).get_data(as_text=True)
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in form and "Thiếu bản sao CCCD" in form
    assert "Giấy tờ tùy thân" in form
    assert engine.get_case(case.code).status == 5


def test_refusal_prints_form_03(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    clerk = as_user("clerk")
    done = clerk.post(
        f"/cases/{case.code}/tasks/{case.tasks[0].task_id}",
        {"decision": "refuse", "reason": "Không thuộc thẩm quyền của Sở", "origin": "receipt"},
    )
    form = clerk.get(done.headers["Location"]).get_data(as_text=True)
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in form and "Không thuộc thẩm quyền của Sở" in form
    assert engine.get_case(case.code).status == 3


def test_apology_form_04_sets_a_new_appointment(engine: Engine, clock: FixedClock, as_user: Any) -> None:
    case = submit_online(engine)
    engine.complete_work_item(
        case.code,
        "receipt_check",
        {"decision": "accept", "checked_documents": ["TP1", "TP2"]},
        engine.actor("clerk"),
    )
    due = engine.get_case(case.code).due_at
    assert due is not None
    clock.set(due - timedelta(hours=1))
    head = as_user("head")
    assert "Lập phiếu xin lỗi" in head.get(f"/cases/{case.code}/apology").get_data(as_text=True)
    bad = head.post(
        f"/cases/{case.code}/apology",
        {"unit_at_fault": "Phòng Quản lý chất lượng", "reason": "", "new_due_date": "2026-03-05"},
    )
    assert bad.status_code == 422
    ok = head.post(
        f"/cases/{case.code}/apology",
        {
            "unit_at_fault": "Phòng Quản lý chất lượng",
            "reason": "Sổ gốc lưu trữ tại kho chưa tìm được",
            "new_due_date": "2026-03-05",
            "new_due_time": "16:00",
        },
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/forms/04")
    form = head.get(ok.headers["Location"]).get_data(as_text=True)
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in form
    assert "16 giờ 00 phút, ngày 05/03/2026" in form and "Sổ gốc lưu trữ tại kho chưa tìm được" in form
    after = engine.get_case(case.code)
    assert after.due_at == vn(2026, 3, 5, 16, 0) and after.sla["apologies"] == 1


def test_upload_is_stored_with_sha256(engine: Engine, as_user: Any) -> None:
    import hashlib
    import io

    case = submit_online(engine)
    clerk = as_user("clerk")
    content = b"%PDF-1.4 test dossier"
    response = clerk.post(
        f"/cases/{case.code}/documents",
        {"doc_TP1": (io.BytesIO(content), "đơn đề nghị.pdf"), "origin": "receipt"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    docs = engine.list_documents(case.code)
    assert [d.sha256 for d in docs] == [hashlib.sha256(content).hexdigest()]
    assert docs[0].filename == "đơn đề nghị.pdf" and docs[0].document_code == "TP1"
    download = clerk.get(f"/cases/{case.code}/documents/{docs[0].id}")
    assert download.data == content and download.headers["X-Content-SHA256"] == docs[0].sha256
    fake = clerk.post(
        f"/cases/{case.code}/documents",
        {"doc_TP2": (io.BytesIO(b"<script>alert(1)</script>"), "cccd.pdf")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422 and "không khớp" in fake.get_data(as_text=True)


def test_withdrawal_requested_online_and_confirmed_at_the_desk(engine: Engine, as_user: Any) -> None:
    from tests.web.conftest import ACCEPT, Client

    case = submit_online(engine)
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    citizen = Client(as_user(None).app)
    page = citizen.post("/public/lookup", {"code": case.code, "secret": case.secret}).get_data(as_text=True)
    assert 'id="withdraw-form"' in page
    asked = citizen.post("/public/withdraw", {"code": case.code, "secret": case.secret, "reason": "Nộp nhầm"})
    assert "Đã gửi yêu cầu rút hồ sơ" in asked.get_data(as_text=True)
    clerk = as_user("clerk")
    assert case.code in clerk.get("/desk/").get_data(as_text=True).split('id="withdrawal-queue"')[1]
    specialist = as_user("specialist")
    blocked = specialist.post(
        f"/cases/{case.code}/tasks/{engine.get_case(case.code).tasks[0].task_id}", {"found": "false"}
    )
    assert blocked.status_code == 409 and "rút hồ sơ" in blocked.get_data(as_text=True)
    view = clerk.get(f"/cases/{case.code}").get_data(as_text=True)
    assert "Nộp nhầm" in view and 'id="confirm-withdrawal-form"' in view
    assert clerk.post(f"/cases/{case.code}/withdrawal/confirm").status_code == 302
    after = engine.get_case(case.code)
    assert after.status == 8 and after.tasks == []


def test_clerk_records_a_withdrawal_request_made_at_the_counter(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    clerk = as_user("clerk")
    missing = clerk.post(f"/cases/{case.code}/withdrawal", {"reason": ""})
    assert missing.status_code == 422 and "Phải nêu lý do" in missing.get_data(as_text=True)
    reason = {"reason": "Công dân đến quầy xin rút"}
    unsigned = clerk.post(f"/cases/{case.code}/withdrawal", reason)
    assert unsigned.status_code == 422 and "chữ ký" in unsigned.get_data(as_text=True)
    assert engine.get_case(case.code).status != 7 and engine.list_documents(case.code) == []
    paper = (io.BytesIO(b"%PDF-1.4 don rut co chu ky"), "don-rut.pdf")
    recorded = clerk.post(f"/cases/{case.code}/withdrawal", {**reason, "paper": paper})
    assert recorded.status_code == 302
    after = engine.get_case(case.code)
    assert after.status == 7
    # the officer who confirms sees the signed request and can open it
    head = as_user("head")
    page = head.get(f"/cases/{case.code}").get_data(as_text=True)
    link = f"/cases/{case.code}/documents/{after.sla['withdrawal']['paper_document_id']}"
    assert 'id="withdrawal-paper"' in page and link in page
    assert head.get(link).data == b"%PDF-1.4 don rut co chu ky"


def test_form_02_for_a_supplementation_requested_during_processing(engine: Engine, as_user: Any) -> None:
    """language_centre_establishment: the appraisal asks for more documents; Mẫu 02 lists them."""
    from engine.users import CITIZEN

    case = engine.start_case(
        {
            "procedure_id": "language_centre_establishment",
            "applicant": {"name": "Trung tâm Ánh Dương"},
            "channel": 2,
        },
        CITIZEN,
    )
    clerk, specialist, partner = (engine.actor(u) for u in ("clerk", "specialist", "partner"))
    engine.complete_work_item(
        case.code, "receipt_check", {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}, clerk
    )
    for task in engine.get_case(case.code).tasks:
        actor = specialist if task.role == "specialist" else partner
        engine.complete_work_item(case.code, task.task_id, _happy(task.form), actor)
    engine.complete_work_item(
        case.code,
        "appraisal_report",
        {"appraisal_result": "supplement", "missing_documents": ["TP3"], "report": "Thiếu hợp đồng thuê nhà"},
        specialist,
    )
    assert engine.get_case(case.code).status == 5
    page = as_user("clerk").get(f"/cases/{case.code}").get_data(as_text=True)
    assert f"/cases/{case.code}/forms/02" in page
    form = as_user("clerk").get(f"/cases/{case.code}/forms/02").get_data(as_text=True)
    assert "Thiếu hợp đồng thuê nhà" in form and "Văn bản chứng minh quyền sử dụng đất" in form


def _happy(schema: Any) -> dict[str, Any]:
    from bench.lifecycle import sample_data

    return sample_data(schema)


def test_each_role_lands_on_its_own_queue(app: Any) -> None:
    from tests.web.conftest import Client

    homes = {
        "clerk": "/desk/",
        "specialist": "/tasks/",
        "head": "/tasks/",
        "director": "/tasks/",
        "designer": "/designer/",
        "auditor": "/auditor/",
        "admin": "/admin/",
    }
    for username, home in homes.items():
        c = Client(app)
        response = c.post("/login", {"username": username, "password": TEST_PASSWORD})
        assert response.status_code == 302 and response.headers["Location"] == home, username
    c = Client(app)
    response = c.post("/login?next=/board/", {"username": "clerk", "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/board/"


def test_desk_queue_search_by_code_name_or_cccd(engine: Engine, as_user: Any) -> None:
    first = engine.start_case(
        {
            "procedure_id": "diploma_copy",
            "channel": 2,
            "applicant": {"name": "Nguyễn Văn Đức", "id_number": "048090001234"},
        },
        engine.actor("citizen"),
    )
    second = submit_online(engine, "Trần Thị Bé")
    clerk = as_user("clerk")
    for query in ("nguyen van duc", "001234", first.code.lower()):
        page = clerk.get("/desk/", query_string={"q": query}).get_data(as_text=True)
        assert f'data-code="{first.code}"' in page and f'data-code="{second.code}"' not in page, query
    page = clerk.get("/desk/").get_data(as_text=True)
    assert f'data-code="{first.code}"' in page and f'data-code="{second.code}"' in page
    assert [r.code for r in engine.desk_queue(1, "Bé")] == [second.code]


def test_desk_reissues_a_lost_secret_and_prints_it_on_a_new_form01(engine: Engine, as_user: Any) -> None:
    from tests.web.conftest import ACCEPT

    case = engine.start_case(
        {"procedure_id": "diploma_copy", "channel": 1, "applicant": {"name": "Hồ Văn Mất"}},
        engine.actor("clerk"),
    )
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    other_clerk = as_user("clerk")  # another session: the first secret is not in it
    page = other_clerk.get(f"/cases/{case.code}/forms/01").get_data(as_text=True)
    assert "(đã cấp khi tạo hồ sơ)" in page and 'id="reissue-secret-form"' in page
    response = other_clerk.post(f"/cases/{case.code}/secret")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/cases/{case.code}/forms/01"
    )
    printed = other_clerk.get(f"/cases/{case.code}/forms/01").get_data(as_text=True)
    secret = re.search(r'id="lookup-secret">([0-9A-F]{16})<', printed).group(1)  # type: ignore[union-attr]
    assert "cấp lại lúc" in printed
    assert engine.lookup(case.code, secret).code == case.code
    assert case.secret is not None and case.secret != secret
    assert as_user("specialist").post(f"/cases/{case.code}/secret").status_code == 403
    assert [e.kind for e in engine.events(case.code)].count("secret_reissued") == 1


def test_the_desk_asks_for_supplementation_once(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    clerk = as_user("clerk")
    unlisted = clerk.post(
        f"/cases/{case.code}/tasks/{case.tasks[0].task_id}",
        {"decision": "supplement", "reason": "Thiếu giấy tờ", "origin": "receipt"},
    )
    assert unlisted.status_code == 422 and "phải liệt kê một lần đầy đủ" in unlisted.get_data(as_text=True)
    asked = {
        "decision": "supplement",
        "missing_documents": ["TP2"],
        "reason": "Thiếu CCCD",
        "origin": "receipt",
    }
    assert clerk.post(f"/cases/{case.code}/tasks/{case.tasks[0].task_id}", asked).status_code == 302
    engine.complete_task(
        case.code, "receipt_supplement", {"supplemented_documents": ["TP2"]}, engine.actor("citizen")
    )
    again = engine.get_case(case.code)
    assert again.status == 1
    second = clerk.post(
        f"/cases/{case.code}/tasks/{again.tasks[0].task_id}",
        {**asked, "missing_documents": ["TP1"], "reason": "Đơn chưa ký"},
    )
    page = second.get_data(as_text=True)
    assert second.status_code == 422 and "không được yêu cầu bổ sung lần thứ hai" in page
    assert 'id="apology-link"' not in page
    after = engine.get_case(case.code)
    assert (after.status, after.version, after.sla.get("receipt_supplements")) == (1, again.version, 1)


def test_api_desk_withdrawal_carries_the_signed_paper(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine)
    clerk = as_user("clerk")
    url = f"/api/cases/{case.code}/withdrawal"
    unsigned = clerk.api("POST", url, {"reason": "Công dân đến quầy xin rút"})
    assert unsigned.status_code == 422 and unsigned.get_json()["details"]["fields"][0]["field"] == "paper"
    form = {"reason": "Công dân đến quầy xin rút", "paper": (io.BytesIO(b"%PDF-1.4 don"), "don.pdf")}
    asked = clerk.http.post(url, data=form, headers={"X-CSRFToken": clerk.token()})
    assert asked.status_code == 200, asked.get_data(as_text=True)
    paper_id = asked.get_json()["sla"]["withdrawal"]["paper_document_id"]
    assert [d.id for d in engine.list_documents(case.code)] == [paper_id]


def test_desk_queue_pages_with_links_in_the_page_and_the_api(
    engine: Engine, clock: FixedClock, as_user: Any, monkeypatch: Any
) -> None:
    import web.desk

    monkeypatch.setattr(web.desk, "DESK_PAGE", 2)
    codes = [submit_online(engine, f"Người nộp {n}").code for n in range(5)]
    clerk = as_user("clerk")
    shown: list[str] = []
    url: str | None = "/desk/"
    while url:
        page = clerk.get(url).get_data(as_text=True)
        assert '<span class="count">5</span>' in page  # the whole queue's size on every page
        shown += re.findall(r'<tr class="[^"]*" data-code="([^"]+)"', page)
        found = re.search(r'<a href="([^"]+)" rel="next">Trang sau</a>', page)
        url = found.group(1).replace("&amp;", "&") if found else None
        if found:
            assert "after_1=" in url
    assert shown == codes
    assert "Trang đầu" in page  # the last page links back to the first
    # The API: the same rows, a page at a time, the next page in the Link header.
    listed: list[str] = []
    api_url: str | None = "/api/desk/queue?status=1&limit=2"
    while api_url:
        response = clerk.get(api_url)
        assert response.status_code == 200 and response.headers["X-Total-Count"] == "5"
        listed += [r["code"] for r in response.get_json()]
        link = response.headers.get("Link")
        api_url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else None  # type: ignore[union-attr]
    assert listed == codes
    for bad in (
        "/api/desk/queue?status=1&limit=0",
        "/api/desk/queue?status=1&limit=501",
        "/api/desk/queue?status=1&after=%21%21",
    ):
        refused = clerk.get(bad)
        assert refused.status_code == 422, bad
    assert (
        clerk.get("/api/desk/queue?status=1&after=abc").get_json()["message"] == "Vị trí trang không hợp lệ"
    )
