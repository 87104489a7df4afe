"""Citizen pages: online submission (code + secret shown once), lookup, supplementation, rating."""

from __future__ import annotations

import io
import re
from typing import Any

from engine.service import Engine
from tests.web.conftest import ACCEPT, Client, submit_online


def complete_form(**overrides: Any) -> dict[str, Any]:
    """Everything the diploma-copy form requires, filled in; files are fresh streams each call."""
    form: dict[str, Any] = {
        "applicant_name": "Nguyễn Văn An",
        "applicant_phone": "0905 123 456",
        "diploma_type": "thpt",
        "graduation_year": "2012",
        "school": "Trường THPT Phan Châu Trinh",
        "copies": "2",
        "delivery": "in_person",
        "doc_TP1": (io.BytesIO(b"%PDF-1.7 don"), "don.pdf"),
        "doc_TP2": (io.BytesIO(b"%PDF-1.7 cccd"), "cccd.pdf"),
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


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
        complete_form(applicant_name="Trần Thị Bình", applicant_email="binh@example.vn"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/public/submitted")
    page = client.get("/public/submitted").get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="case-secret">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    case = engine.lookup(code, secret)
    assert case.channel == 2 and case.status == 1 and case.applicant["name"] == "Trần Thị Bình"
    assert [d.document_code for d in engine.list_documents(code)] == ["TP1", "TP2"]
    assert case.data["diploma_type"] == "thpt" and case.data["copies"] == 2
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
    assert "Cảm ơn ông/bà đã đánh giá" in done.get_data(as_text=True)
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


def _case_count(engine: Engine) -> int:
    from sqlalchemy import func, select

    from engine.models import Case

    with engine.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_incomplete_submission_is_refused_field_by_field_in_vietnamese(
    engine: Engine, client: Client
) -> None:
    response = client.post(
        "/public/procedures/diploma_copy/submit",
        {
            "applicant_name": "Lê Thị Hoa",
            "applicant_phone": "abc",
            "applicant_email": "x",
            "school": "THPT Lê Lợi",
        },
        content_type="multipart/form-data",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and _case_count(engine) == 0
    for field in ("doc_TP1", "doc_TP2", "applicant_phone", "applicant_email", "diploma_type", "copies"):
        block = re.search(rf'data-field="{field}".*?</div>', text, re.S)
        assert block and "has-error" in text[block.start() - 40 : block.start() + 40], field
    assert "chưa đính kèm tệp" in text and "số điện thoại không hợp lệ" in text
    assert "thư điện tử không hợp lệ" in text and "thiếu trường bắt buộc" in text
    assert "Field required" not in text and "String should" not in text and "Value error" not in text
    # The form comes back as it was filled in.
    assert 'value="Lê Thị Hoa"' in text and 'value="THPT Lê Lợi"' in text and 'value="abc"' in text
    assert re.search(r'<input id="a-name" name="applicant_name"[^>]* required', text)


def test_missing_name_is_required_in_vietnamese(engine: Engine, client: Client) -> None:
    response = client.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(applicant_name=""),
        content_type="multipart/form-data",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and _case_count(engine) == 0
    assert re.search(r'id="a-name-error">bắt buộc<', text)


def test_a_failing_upload_refuses_the_whole_submission(engine: Engine, client: Client) -> None:
    big = b"%PDF-1.7 " + b"0" * (10 * 1024 * 1024 + 1)
    response = client.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(doc_TP1=(io.BytesIO(big), "qua-lon.pdf")),
        content_type="multipart/form-data",
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "vượt quá 10 MB" in text and "Hồ sơ đã được gửi" not in text
    assert _case_count(engine) == 0
    bad_type = client.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(doc_TP2=(io.BytesIO(b"MZ\x90\x00"), "virus.exe")),
        content_type="multipart/form-data",
    )
    assert bad_type.status_code == 422 and "không đúng định dạng" in bad_type.get_data(as_text=True)
    # Content that lies about its type is caught while storing: still nothing is left behind.
    lying = client.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(doc_TP2=(io.BytesIO(b"not a pdf"), "gia.pdf")),
        content_type="multipart/form-data",
    )
    assert lying.status_code == 422 and _case_count(engine) == 0


def test_double_submit_with_one_key_creates_one_dossier(engine: Engine, client: Client) -> None:
    form_page = client.get("/public/procedures/diploma_copy/submit").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', form_page).group(1)  # type: ignore[union-attr]
    shown = []
    for _ in range(2):
        response = client.post(
            "/public/procedures/diploma_copy/submit",
            complete_form(submission_key=key),
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
        page = client.get("/public/submitted").get_data(as_text=True)
        code = re.search(r'id="case-code">([^<]+)<', page).group(1)  # type: ignore[union-attr]
        secret = re.search(r'id="case-secret">([^<]+)<', page).group(1)  # type: ignore[union-attr]
        shown.append((code, secret))
    assert shown[0] == shown[1] and _case_count(engine) == 1
    assert engine.lookup(*shown[0]).code == shown[0][0]
    assert len(engine.list_documents(shown[0][0])) == 2


def test_text_is_stored_in_nfc_and_codes_are_found_in_any_case(engine: Engine, client: Client) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    response = client.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(applicant_name=decomposed, school=unicodedata.normalize("NFD", "Trường Quốc Học")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get("/public/submitted").get_data(as_text=True)
    code = re.search(r'id="case-code">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="case-secret">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    case = engine.get_case(code)
    assert case.applicant["name"] == "Nguyễn Thị Ánh" == unicodedata.normalize("NFC", case.applicant["name"])
    assert case.data["school"] == "Trường Quốc Học"
    found = client.post("/public/lookup", {"code": code.lower(), "secret": secret.lower()})
    assert found.status_code == 200 and code in found.get_data(as_text=True)
    assert engine.lookup(f" {code.lower()} ", secret).code == code


def test_engine_online_submission_checks_the_same_things(engine: Engine) -> None:
    from engine.errors import ValidationError
    from engine.submissions import Upload

    payload = {"procedure_id": "diploma_copy", "applicant": {"name": "A", "phone": "12"}, "data": {}}
    try:
        engine.submit_online(payload, [Upload("TP1", "a.pdf", b"%PDF-1 a")])
    except ValidationError as exc:
        fields = {p["field"]: p["message"] for p in exc.details["fields"]}
    else:
        raise AssertionError("an incomplete submission was accepted")
    assert fields["applicant.phone"] == "số điện thoại không hợp lệ"
    assert fields["doc_TP2"] == "chưa đính kèm tệp" and "doc_TP1" not in fields
    assert fields["school"] == "thiếu trường bắt buộc"
    assert _case_count(engine) == 0


def test_procedure_page_and_list_speak_to_citizens_in_days(client: Client) -> None:
    home = client.get("/").get_data(as_text=True)
    assert "Phiên bản" not in home and "giờ làm việc" not in home and "ông/bà" in home
    assert 'href="/public/procedures/diploma_copy"' in home
    assert "Thời hạn giải quyết: 5 ngày làm việc" in home  # student transfer: 40 working hours
    page = client.get("/public/procedures/diploma_copy").get_data(as_text=True)
    assert "Nghị định số 23/2015/NĐ-CP" in page and "Không thu phí" in page
    assert "TP1" in page and "Giấy tờ tùy thân" in page and "1 ngày làm việc" in page
    assert "Số hiệu văn bằng (nếu biết)" in page
    fee = client.get("/public/procedures/language_centre_operation").get_data(as_text=True)
    assert "1.000.000 đồng" in fee
    form = client.get("/public/procedures/diploma_copy/submit").get_data(as_text=True)
    for name in ("diploma_type", "graduation_year", "school", "serial_number", "copies", "delivery"):
        assert f'name="{name}"' in form
    assert client.get("/public/procedures/khong_co").status_code == 404


def test_favicon_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.data[:4] == b"\x00\x00\x01\x00"


def test_supplementation_names_reason_and_components_and_files_them(
    engine: Engine, client: Client, as_user: Any
) -> None:
    case = submit_online(engine)
    assert case.secret is not None
    engine.complete_work_item(
        case.code,
        "receipt_check",
        {"decision": "supplement", "missing_documents": ["TP2"], "reason": "Ảnh CCCD bị mờ"},
        engine.actor("clerk"),
    )
    page = client.post("/public/lookup", {"code": case.code, "secret": case.secret}).get_data(as_text=True)
    assert 'id="supplement-reason">Ảnh CCCD bị mờ<' in page
    assert re.search(r'id="missing-documents">\s*<li data-code="TP2">', page)
    assert 'name="doc_TP2"' in page and 'name="doc_TP1"' not in page
    # A file that cannot be stored refuses the answer: nothing is filed, the request stays open.
    refused = client.post(
        "/public/supplement",
        {"code": case.code, "secret": case.secret, "doc_TP2": (io.BytesIO(b"MZ"), "x.exe")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "không đúng định dạng" in refused.get_data(as_text=True)
    assert engine.list_documents(case.code) == [] and engine.get_case(case.code).status == 5
    done = client.post(
        "/public/supplement",
        {"code": case.code, "secret": case.secret, "doc_TP2": (io.BytesIO(b"%PDF-1.7 cccd"), "cccd-ro.pdf")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 200 and "Đã gửi hồ sơ bổ sung" in done.get_data(as_text=True)
    assert [(d.document_code, d.filename) for d in engine.list_documents(case.code)] == [
        ("TP2", "cccd-ro.pdf")
    ]
    receipt = as_user("clerk").get(f"/desk/receipt/{case.code}").get_data(as_text=True)
    row = re.search(r"<tr><td>TP2</td>.*?</tr>", receipt, re.S)
    assert row and row.group(0).endswith("<td>1</td></tr>")
    assert "<td>TP2</td>" in receipt.split("Tệp đã nộp")[1]


def test_error_pages_lead_back_where_the_visitor_came_from(client: Client) -> None:
    page = client.get("/public/procedures/khong_co", headers={"Referer": "http://localhost/"})
    text = page.get_data(as_text=True)
    assert page.status_code == 404 and '<a href="http://localhost/" id="error-back">' in text
    foreign = client.get("/public/procedures/khong_co", headers={"Referer": "http://evil.example/"})
    assert 'id="error-back"' not in foreign.get_data(as_text=True)


def test_the_citizen_reads_an_apology_for_a_mistake(engine: Engine, client: Client) -> None:
    case = submit_online(engine)
    engine.complete_work_item(
        case.code,
        "receipt_check",
        {"decision": "accept", "checked_documents": ["TP1", "TP2"]},
        engine.actor("clerk"),
    )
    engine.apologise(
        case.code, None, "Ghi sai họ tên trên giấy tiếp nhận", "Một cửa", engine.actor("head"), kind="mistake"
    )
    page = client.post("/public/lookup", {"code": case.code, "secret": case.secret}).get_data(as_text=True)
    assert "Cơ quan xin lỗi ông/bà vì sai sót: Ghi sai họ tên trên giấy tiếp nhận" in page
    assert "vì chậm trễ" not in page
