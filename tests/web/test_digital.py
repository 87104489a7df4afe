"""Pages and API of identity at receipt, counter digitisation and complaints, on the real app."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.identity import LocalPopulationData, seed_population_records
from engine.service import Engine
from engine.storage import DiskFileStore
from tests.engine.test_digitise import scanned_page
from tests.web.conftest import TEST_CONFIG, Client, submit_online
from web.app import create_app


@pytest.fixture
def digital_app(engine: Engine, tmp_path: Path) -> Flask:
    seed_population_records(engine.db)
    config = {
        **TEST_CONFIG,
        "FILE_STORE": DiskFileStore(tmp_path / "files"),
        "POPULATION_DATA": LocalPopulationData(engine.db),
    }
    return create_app(engine, config)


def _login(app: Flask, username: str) -> Client:
    return Client(app).login(username)


def test_identity_step_on_the_desk_page(engine: Engine, digital_app: Flask) -> None:
    code = submit_online(engine).code
    clerk = _login(digital_app, "clerk")
    page = clerk.get(f"/cases/{code}/digital")
    assert page.status_code == 200 and "Kiểm tra danh tính người nộp" in page.get_data(as_text=True)
    bad = clerk.post(f"/cases/{code}/identity", {"cccd": "001091012345", "date_of_birth": "1990-05-12"})
    assert bad.status_code == 422
    assert "Hai chữ số năm sinh trong số CCCD (91) không khớp với năm sinh 1990" in bad.get_data(as_text=True)
    assert not [e for e in engine.events(code) if e.kind == "identity_checked"]
    mismatch = clerk.post(f"/cases/{code}/identity", {"cccd": "001090012345", "date_of_birth": "1990-05-13"})
    assert mismatch.status_code == 302
    text = clerk.get(f"/cases/{code}/digital").get_data(as_text=True)
    assert "chưa thể tiếp nhận hồ sơ khi chưa ghi lý do" in text and 'id="override-form"' in text
    short = clerk.post(f"/cases/{code}/identity/override", {"reason": "ngắn"})
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.get_data(as_text=True)
    assert (
        clerk.post(f"/cases/{code}/identity/override", {"reason": "Đã đối chiếu bản chính CCCD"}).status_code
        == 302
    )
    assert "đã ghi lý do tiếp nhận" in clerk.get(f"/cases/{code}/digital").get_data(as_text=True)
    specialist = _login(digital_app, "specialist")
    assert specialist.post(f"/cases/{code}/identity", {"cccd": "001090012345"}).status_code == 403


def test_identity_over_the_api(engine: Engine, digital_app: Flask) -> None:
    code = submit_online(engine).code
    clerk = _login(digital_app, "clerk")
    done = clerk.api(
        "POST", f"/api/cases/{code}/identity", {"cccd": "001090012345", "date_of_birth": "1990-05-12"}
    )
    assert done.status_code == 201 and done.get_json()["outcome"] == "verified"
    wrong = clerk.api("POST", f"/api/cases/{code}/identity", {"cccd": "1234", "date_of_birth": "1990-05-12"})
    assert wrong.status_code == 422 and wrong.get_json()["message"].startswith(
        "Số CCCD phải gồm đúng 12 chữ số"
    )
    assert [c["outcome"] for c in clerk.get(f"/api/cases/{code}/identity").get_json()] == ["verified"]
    refused = clerk.api("POST", f"/api/cases/{code}/identity/override", {"reason": "Một lý do đủ dài"})
    assert refused.status_code == 422 and "không khớp" in refused.get_json()["message"]


def test_digitise_and_search_pages(engine: Engine, digital_app: Flask) -> None:
    code = submit_online(engine).code
    clerk = _login(digital_app, "clerk")
    bad = clerk.post(
        f"/cases/{code}/digitise",
        {"document_code": "TP1", "scan": (io.BytesIO(b"hello"), "don.txt")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "không phải bản quét PDF hoặc ảnh" in bad.get_data(as_text=True)
    page = scanned_page(["ĐƠN ĐỀ NGHỊ CẤP BẢN SAO", "Văn bằng tốt nghiệp trung học"])
    done = clerk.post(
        f"/cases/{code}/digitise",
        {"document_code": "TP1", "scan": (io.BytesIO(page), "don.png")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    text = clerk.get(f"/cases/{code}/digital").get_data(as_text=True)
    assert "Đã số hóa" in text and "don.pdf" in text
    found = clerk.get("/digitised/search?q=bản sao").get_data(as_text=True)
    assert code in found and "don.pdf" in found
    assert "Không tìm thấy" in clerk.get("/digitised/search?q=giấy khai sinh").get_data(as_text=True)
    listing = clerk.get(f"/api/cases/{code}/digitised").get_json()
    download = clerk.get(f"/cases/{code}/digitised/{listing['documents'][0]['id']}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert download.headers["X-Content-SHA256"] == listing["documents"][0]["sha256"]
    assert [h["case_code"] for h in clerk.get("/api/digitised/search?q=tốt nghiệp").get_json()] == [code]
    assert Client(digital_app).get("/digitised/search?q=x").status_code in (302, 401)


def test_complaint_pages_from_filing_to_rating(engine: Engine, digital_app: Flask) -> None:
    case = submit_online(engine)
    citizen = Client(digital_app)
    wrong = citizen.post(
        "/public/feedback",
        {"content": "Hồ sơ của tôi quá hạn.", "case_code": case.code, "case_secret": "SAI", "anonymous": "1"},
    )
    assert wrong.status_code == 404 and "Mã hồ sơ hoặc mã tra cứu không đúng" in wrong.get_data(as_text=True)
    filed = citizen.post(
        "/public/feedback",
        {
            "content": "Hồ sơ của tôi quá hạn.",
            "case_code": case.code,
            "case_secret": case.secret,
            "name": "Nguyễn Văn An",
            "contact": "0901234567",
        },
    )
    assert filed.status_code == 302
    shown = citizen.get("/public/feedback/filed").get_data(as_text=True)
    feedback_code = _between(shown, 'id="feedback-code">', "<")
    secret = _between(shown, 'id="feedback-secret">', "<")
    head = _login(digital_app, "head")
    assert feedback_code in head.get("/feedback").get_data(as_text=True)
    assert head.post(f"/feedback/{feedback_code}/assign", {"username": "specialist"}).status_code == 302
    specialist = _login(digital_app, "specialist")
    assert specialist.post(f"/feedback/{feedback_code}/publish").status_code == 403
    assert (
        specialist.post(
            f"/feedback/{feedback_code}/answer", {"answer": "Đã trả kết quả, xin lỗi ông."}
        ).status_code
        == 302
    )
    assert head.post(f"/feedback/{feedback_code}/publish").status_code == 302
    assert "Đã trả kết quả, xin lỗi ông." in Client(digital_app).get("/public/feedback/answers").get_data(
        as_text=True
    )
    bad_secret = citizen.post("/public/feedback/rate", {"code": feedback_code, "secret": "SAI", "score": "3"})
    assert bad_secret.status_code == 404 and "Mã phản ánh hoặc mã tra cứu không đúng" in bad_secret.get_data(
        as_text=True
    )
    rated = citizen.post("/public/feedback/rate", {"code": feedback_code, "secret": secret, "score": "2"})
    assert rated.status_code == 200 and 'id="feedback-rating">Hài lòng' in rated.get_data(as_text=True)
    numbers = head.get("/api/feedback/indicators?first=2026-03-01&last=2026-03-31").get_json()
    assert [(i["code"], i["numerator"], i["denominator"]) for i in numbers["indicators"]] == [
        ("5.1", 1, 1),
        ("5.2", 1, 1),
        ("5.3", 1, 1),
    ]
    assert head.get("/api/feedback/indicators?first=2026-03-31&last=x").status_code == 422


def test_complaint_api(engine: Engine, digital_app: Flask) -> None:
    citizen = Client(digital_app)
    filed = citizen.api(
        "POST",
        "/api/public/feedback",
        {"content": "Đề nghị thêm quầy tiếp nhận.", "kind": "proposal", "anonymous": True},
    )
    assert filed.status_code == 201
    body: dict[str, Any] = filed.get_json()
    assert body["secret"] and body["kind_label"] == "Kiến nghị"
    missing = citizen.api("POST", "/api/public/feedback", {"content": "Nội dung đủ dài ở đây."})
    assert missing.status_code == 422
    status = citizen.api("POST", "/api/public/feedback/status", {"code": body["code"], "secret": "SAI"})
    assert status.status_code == 404
    head = _login(digital_app, "head")
    assert (
        head.api(
            "POST", f"/api/feedback/{body['code']}/answer", {"answer": "Sẽ bố trí thêm một quầy."}
        ).status_code
        == 200
    )
    assert head.api("POST", f"/api/feedback/{body['code']}/publish").get_json()["status"] == "published"
    rated = citizen.api(
        "POST", "/api/public/feedback/rate", {"code": body["code"], "secret": body["secret"], "score": 1}
    )
    assert rated.get_json()["rating_label"] == "Không hài lòng"
    assert [r["item"]["code"] for r in head.get("/api/feedback?state=all").get_json()] == [body["code"]]


def _between(text: str, start: str, end: str) -> str:
    at = text.index(start) + len(start)
    return text[at : text.index(end, at)]
