"""Citizen pages: online submission (code + secret shown once), lookup, supplementation, rating."""

from __future__ import annotations

import io
import re
from typing import Any

from engine.service import Engine
from tests.web.conftest import ACCEPT, Client, submit_online


def _returned_case(engine: Engine) -> tuple[str, str]:
    case = submit_online(engine)
    assert case.secret is not None
    clerk, specialist, head = (engine.actor(u) for u in ("clerk", "specialist", "head"))
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, clerk)
    engine.complete_work_item(
        case.code, "verify_register", {"found": True, "register_ref": "S", "copies": 1}, specialist
    )
    engine.complete_work_item(case.code, "approve_copy", {"approved": True}, head)
    engine.complete_work_item(case.code, "return_result", {"returned_to": "An", "method": "in_person"}, clerk)
    return case.code, case.secret


def test_online_submission_shows_code_and_secret_once(engine: Engine, client: Client) -> None:
    form = client.get("/public/procedures/diploma_copy/submit").get_data(as_text=True)
    assert "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc" in form and 'name="doc_TP1"' in form
    response = client.post(
        "/public/procedures/diploma_copy/submit",
        {
            "applicant_name": "Trần Thị Bình",
            "applicant_email": "binh@example.vn",
            "doc_TP1": (io.BytesIO(b"%PDF-1.7 don"), "don.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/public/submitted")
    page = client.get("/public/submitted").get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="case-secret">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    case = engine.lookup(code, secret)
    assert case.channel == 2 and case.status == 1 and case.applicant["name"] == "Trần Thị Bình"
    assert [d.document_code for d in engine.list_documents(code)] == ["TP1"]
    again = client.get("/public/submitted")
    assert again.status_code == 302  # shown once: the secret is gone from the session


def test_online_submission_validation(client: Client) -> None:
    response = client.post(
        "/public/procedures/diploma_copy/submit", {"applicant_name": "", "applicant_email": "x"}
    )
    assert response.status_code == 422
    assert "has-error" in response.get_data(as_text=True)
    assert client.get("/public/procedures/khong_co/submit").status_code == 404


def test_lookup_shows_public_status_without_staff_details(engine: Engine, client: Client) -> None:
    case = submit_online(engine)
    page = client.post("/public/lookup", {"code": case.code, "secret": case.secret.lower()})  # type: ignore[union-attr]
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Mới đăng ký" in text
    assert "Cache-Control" in page.headers and "no-store" in page.headers["Cache-Control"]
    assert "clerk" not in text and "receipt_check" not in text


def test_citizen_supplements_through_lookup(engine: Engine, client: Client) -> None:
    case = submit_online(engine)
    engine.complete_work_item(
        case.code,
        "receipt_check",
        {"decision": "supplement", "missing_documents": ["TP2"], "reason": "Thiếu CCCD"},
        engine.actor("clerk"),
    )
    page = client.post("/public/lookup", {"code": case.code, "secret": case.secret}).get_data(as_text=True)
    assert "Bổ sung, hoàn thiện hồ sơ" in page and 'name="supplemented_documents"' in page
    done = client.post(
        "/public/supplement",
        {
            "code": case.code,
            "secret": case.secret,
            "supplemented_documents": ["TP2"],
            "doc_other": (io.BytesIO(b"\x89PNG\r\n\x1a\nanh"), "cccd.png"),
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 200 and "Đã gửi hồ sơ bổ sung" in done.get_data(as_text=True)
    after = engine.get_case(case.code)
    assert after.status == 1 and after.tasks[0].element_id == "receipt_check"
    assert [d.filename for d in engine.list_documents(case.code)] == ["cccd.png"]
    wrong = client.post("/public/supplement", {"code": case.code, "secret": "SAI"})
    assert wrong.status_code == 404


def test_rating_after_return_is_stored_once(engine: Engine, client: Client) -> None:
    code, secret = _returned_case(engine)
    page = client.post("/public/lookup", {"code": code, "secret": secret}).get_data(as_text=True)
    assert "Đánh giá mức độ hài lòng" in page and 'id="rating-form"' in page
    done = client.post(
        "/public/rate", {"code": code, "secret": secret, "score": "3", "comment": "Nhanh, gọn"}
    )
    assert "Cảm ơn bạn đã đánh giá" in done.get_data(as_text=True)
    assert engine.rating(code, secret).score == 3  # type: ignore[union-attr]
    twice = client.post("/public/rate", {"code": code, "secret": secret, "score": "1"})
    assert twice.status_code == 409 and "đã được đánh giá" in twice.get_data(as_text=True)
    stats = engine.satisfaction("diploma_copy")
    assert stats.total == 1 and stats.by_score == {3: 1}


def test_rating_before_return_is_refused(engine: Engine, client: Client) -> None:
    case = submit_online(engine)
    response = client.post("/public/rate", {"code": case.code, "secret": case.secret, "score": "2"})
    assert response.status_code == 422 and "sau khi đã nhận kết quả" in response.get_data(as_text=True)


def test_home_lists_procedures_for_everyone(client: Client, as_user: Any) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "Danh mục thủ tục" in page and "Nộp trực tuyến" in page and "Đăng nhập cán bộ" in page
    staff = as_user("clerk").get("/").get_data(as_text=True)
    assert "Người dùng clerk" in staff and "Bộ phận một cửa" in staff


def test_citizen_and_staff_see_why_the_appointment_moved(
    engine: Engine, client: Client, as_user: Any
) -> None:
    case = submit_online(engine)
    assert case.secret is not None
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    bulk = {"found": True, "register_ref": "Sổ gốc 2012", "copies": 40, "bulk": True}
    engine.complete_work_item(case.code, "verify_register", bulk, engine.actor("specialist"))
    text = client.post("/public/lookup", {"code": case.code, "secret": case.secret}).get_data(as_text=True)
    assert "(khi tiếp nhận hồ sơ)" in text
    assert "(gia hạn theo quy định của thủ tục)" in text
    staff = as_user("specialist").get(f"/cases/{case.code}").get_data(as_text=True)
    assert "(gia hạn theo quy định của thủ tục)" in staff
