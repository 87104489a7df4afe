"""Pages and API of reuse, online and cash payment, and signed results on the lookup page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.digitise import OcrOutput, digitise_component
from engine.identity import LocalPopulationData, check_identity, seed_population_records
from engine.models import Case, Payment
from engine.service import Engine
from handlers.identity_assertion import HEADER, sign_assertion
from handlers.payment import signed_headers
from tests.engine.helpers import result_pdf
from tests.web.conftest import TEST_CONFIG, Client
from tests.web.test_citizen_signin import oidc_app, provider  # noqa: F401 (fixtures)
from web.app import create_app

AN = {"cccd": "001090012345", "date_of_birth": "1990-05-12", "full_name": "Nguyễn Văn An"}
PAYMENT_SECRET = "khoa-cong-thanh-toan"
PORTAL_SECRET = "khoa-cong-dich-vu-cong"
DATA = {"diploma_type": "thpt", "graduation_year": 2011, "school": "THPT Hai Bà Trưng", "copies": 1,
        "delivery": "post"}  # fmt: skip


@pytest.fixture
def app(engine: Engine, tmp_path: Path) -> Flask:
    seed_population_records(engine.db)
    return create_app(
        engine,
        {
            **TEST_CONFIG,
            "POPULATION_DATA": LocalPopulationData(engine.db),
            "PAYMENT_SECRET": PAYMENT_SECRET,
            "PORTAL_IDENTITY_SECRET": PORTAL_SECRET,
        },
    )


def _ocr(content: bytes, name: str, content_type: str) -> OcrOutput:
    return OcrOutput(b"%PDF-1.7\n% CCCD\n", "CĂN CƯỚC CÔNG DÂN", 1)


def _identified(engine: Engine) -> str:
    clerk = engine.actor("clerk")
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": AN["full_name"]}}, clerk
    ).code
    check_identity(
        engine, code, AN["cccd"], AN["date_of_birth"], clerk, LocalPopulationData(engine.db), AN["full_name"]
    )
    return code


def _stored_id_card(engine: Engine) -> int:
    first = _identified(engine)
    digitise_component(
        engine, first, "TP2", "cccd.png", b"\x89PNG\r\n\x1a\nx", engine.actor("clerk"), engine.files, _ocr
    )
    [offer] = engine.reuse_offers(_identified(engine), engine.actor("clerk"))
    return offer.item_id


def test_counter_reuse_on_the_page_and_the_api(engine: Engine, app: Flask) -> None:
    item_id = _stored_id_card(engine)
    second = _identified(engine)
    clerk = Client(app).login("clerk")
    page = clerk.get(f"/cases/{second}/digital").get_data(as_text=True)
    assert 'id="reuse-offers"' in page and f'data-item="{item_id}"' in page
    wrong = clerk.post(f"/cases/{second}/reuse", {"item_id": "999", "document_code": "TP2"})
    assert wrong.status_code == 404 and "Không tìm thấy dữ liệu số #999" in wrong.get_data(as_text=True)
    assert not [e for e in engine.events(second) if e.kind == "document_reused"]
    assert (
        clerk.post(f"/cases/{second}/reuse", {"item_id": str(item_id), "document_code": "TP2"}).status_code
        == 302
    )
    assert [e.kind for e in engine.events(second)][-1] == "document_reused"

    third = _identified(engine)
    offers = clerk.get(f"/api/cases/{third}/reuse-offers").get_json()
    assert [o["item_id"] for o in offers] == [item_id]
    bad = clerk.api("POST", f"/api/cases/{third}/reuse", {"item_id": item_id, "document_code": "TP1"})
    assert bad.status_code == 422 and "không dùng được cho thành phần TP1" in bad.get_json()["message"]
    done = clerk.api("POST", f"/api/cases/{third}/reuse", {"item_id": item_id, "document_code": "TP2"})
    assert done.status_code == 201 and done.get_json()["document_code"] == "TP2"


def test_online_submission_with_the_portals_signed_identity(engine: Engine, app: Flask) -> None:
    item_id = _stored_id_card(engine)
    citizen = Client(app)
    token = sign_assertion(PORTAL_SECRET.encode(), AN, int(time.time()))
    offers = citizen.api(
        "POST", "/api/public/reuse-offers", {"procedure_id": "diploma_copy"}, headers={HEADER: token}
    )
    assert [o["item_id"] for o in offers.get_json()] == [item_id]
    submission = {
        "procedure_id": "diploma_copy",
        "applicant": {"name": AN["full_name"]},
        "data": DATA,
        "documents": [{"code": "TP1", "filename": "don.pdf", "content_base64": "JVBERi0xLjQKJSBkb24K"}],
        "reuse": {"TP2": item_id},
    }
    with engine.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Case))
    forged = sign_assertion(b"khoa-gia", AN, int(time.time()))
    refused = citizen.api("POST", "/api/public/cases", submission, headers={HEADER: forged})
    assert refused.status_code == 403
    assert refused.get_json()["message"] == "Danh tính do Cổng dịch vụ công gửi không có chữ ký hợp lệ"
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == before
    created = citizen.api("POST", "/api/public/cases", submission, headers={HEADER: token})
    assert created.status_code == 201, created.get_json()
    kinds = [(e.kind, e.payload.get("source")) for e in engine.events(created.get_json()["code"])]
    assert ("identity_checked", "portal") in kinds and ("document_reused", None) in kinds


def test_cash_payment_and_gateway_callback(engine: Engine, app: Flask) -> None:
    code = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Sao Mai"}},
        engine.actor("clerk"),
    ).code
    clerk = Client(app).login("clerk")
    page = clerk.get(f"/cases/{code}/digital").get_data(as_text=True)
    assert 'id="cash-form"' in page and "1.000.000 đồng" in page
    wrong = clerk.post(f"/cases/{code}/payments/cash", {"amount": "500000"})
    assert wrong.status_code == 422
    assert "Số tiền 500.000 đồng khác mức phí của thủ tục (1.000.000 đồng)" in wrong.get_data(as_text=True)
    assert clerk.post(f"/cases/{code}/payments/cash", {"amount": "1.000.000"}).status_code == 302
    [cash] = engine.case_payments(code)
    assert (cash.method, cash.receipt_number, cash.recorded_by) == ("cash", f"BL-{code}-1", "clerk")
    paid = [e for e in engine.events(code) if e.kind == "fee_paid"]
    assert paid[-1].payload["method"] == "cash" and paid[-1].payload["receipt_number"] == f"BL-{code}-1"

    # The gateway: a forged callback changes nothing; the signed one gets receipt number 2.
    body = json.dumps(
        {
            "case_code": code,
            "transaction_id": "GW-1",
            "amount": 1_000_000,
            "paid_at": "2026-03-02T09:00:00+07:00",
        }
    ).encode()
    gateway = app.test_client()
    now = int(engine.lease_clock.now().timestamp())
    forged = signed_headers(b"khoa-gia", body, now, "nonce-gia-00001")
    refused = gateway.post("/api/payments/callback", data=body, headers=forged)
    assert refused.status_code == 403
    assert refused.get_json()["message"] == "Chữ ký của thông báo thanh toán không hợp lệ"
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
    good = signed_headers(PAYMENT_SECRET.encode(), body, now, "nonce-that-00001")
    accepted = gateway.post("/api/payments/callback", data=body, headers=good)
    assert accepted.status_code == 201 and accepted.get_json()["receipt_number"] == f"BL-{code}-2"
    assert accepted.get_json()["method"] == "online"
    replayed = gateway.post("/api/payments/callback", data=body, headers=good)
    assert replayed.status_code == 409

    plain = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Lê Văn Ba"}}, engine.actor("clerk")
    )
    free = clerk.api("POST", f"/api/cases/{plain.code}/payments/cash", {"amount": 1000})
    assert free.status_code == 422 and free.get_json()["message"] == "Thủ tục này không thu phí, lệ phí"


def test_signed_result_downloaded_from_the_lookup_page(engine: Engine, app: Flask) -> None:
    view = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Vũ Thị Thu"}}, engine.actor("clerk")
    )
    result = engine.attach_result(view.code, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    citizen = Client(app)
    page = citizen.post("/public/lookup", {"code": view.code, "secret": view.secret})
    text = page.get_data(as_text=True)
    assert 'id="results"' in text and "Chữ ký số hợp lệ của" in text
    download = citizen.post(
        "/public/result", {"code": view.code, "secret": view.secret, "result_id": str(result.id)}
    )
    assert download.status_code == 200 and download.headers["X-Signature"] == "valid"
    assert download.data == engine.result_file(view.code, result.id)[1]
    wrong = citizen.post("/public/result", {"code": view.code, "secret": "SAI", "result_id": str(result.id)})
    assert wrong.status_code == 404 and "Mã hồ sơ hoặc mã tra cứu không đúng" in wrong.get_data(as_text=True)
    listed = citizen.api("POST", "/api/public/results", {"code": view.code, "secret": view.secret}).get_json()
    assert listed[0]["signature"]["valid"] is True and listed[0]["result"]["signer"]
    # A stored file swapped behind the agency's back is not handed over.
    path = engine.files.path_of(result.sha256)  # type: ignore[attr-defined]
    path.write_bytes(path.read_bytes().replace(b"Ban sao", b"Ban gia"))
    refused = citizen.api(
        "POST",
        "/api/public/results/download",
        {"code": view.code, "secret": view.secret, "result_id": result.id},
    )
    assert refused.status_code == 422 and "không khớp mã băm SHA-256" in refused.get_json()["message"]


def test_public_form_with_the_portals_identity_reuses_the_id_card(engine: Engine, app: Flask) -> None:
    from tests.web.test_public import complete_form

    item_id = _stored_id_card(engine)
    token = sign_assertion(PORTAL_SECRET.encode(), AN, int(time.time()))
    citizen = Client(app)
    page = citizen.get(f"/public/procedures/diploma_copy/submit?identity_token={token}").get_data(
        as_text=True
    )
    assert 'id="portal-identity"' in page and f'name="reuse_TP2" value="{item_id}"' in page
    # The ID card's slot is no longer required: it comes from the data store.
    assert 'name="doc_TP2" accept=".pdf,.jpg,.jpeg,.png,.doc,.docx,.odt" data-max-bytes' in page
    forged = citizen.get(f"/public/procedures/diploma_copy/submit?identity_token={token[:-2]}00")
    assert forged.status_code == 403
    assert "Danh tính do Cổng dịch vụ công gửi không có chữ ký hợp lệ" in forged.get_data(as_text=True)
    sent = citizen.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(doc_TP2=None, identity_token=token, reuse_TP2=str(item_id)),
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    with engine.db.read() as session:
        code = session.scalars(select(Case.code).order_by(Case.id.desc())).first()
    assert code is not None
    kinds = [(e.kind, e.payload.get("source")) for e in engine.events(code)]
    assert ("identity_checked", "portal") in kinds and ("document_reused", None) in kinds


def test_signed_in_citizen_reuses_the_id_card(engine: Engine, oidc_app: Flask) -> None:  # noqa: F811
    from tests.web.test_citizen_signin import sign_in
    from tests.web.test_public import complete_form

    seed_population_records(engine.db)
    item_id = _stored_id_card(engine)
    citizen = Client(oidc_app)
    sign_in(citizen)
    page = citizen.get("/public/procedures/diploma_copy/submit").get_data(as_text=True)
    assert 'id="signed-in-applicant"' in page and f'name="reuse_TP2" value="{item_id}"' in page
    assert 'id="portal-identity"' not in page  # one banner: the sign-in's
    sent = citizen.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(doc_TP2=None, reuse_TP2=str(item_id)),
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    with engine.db.read() as session:
        code = session.scalars(select(Case.code).order_by(Case.id.desc())).first()
    assert code is not None
    kinds = [(e.kind, e.payload.get("source")) for e in engine.events(code)]
    assert kinds.count(("identity_checked", "portal")) == 1 and ("document_reused", None) in kinds
