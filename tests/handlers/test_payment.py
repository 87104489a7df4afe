"""Fee payment: signed gateway callbacks (forged, stale and replayed ones rejected) and the request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import ConflictError, Forbidden, ValidationError
from engine.outbox import PAYMENT_REQUEST, Message, status_change_messages
from engine.service import Engine
from handlers.payment import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CallbackRejected,
    PaymentRequester,
    signed_headers,
    verify_callback,
)
from tests.engine.helpers import deploy_fixture
from tests.handlers.conftest import FakeHttp

SECRET = b"khoa-bi-mat-cong-thanh-toan"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _callback(code: str, *, nonce: str = "nonce-0001", txn: str = "GD-0001", amount: int = 50_000) -> bytes:
    return json.dumps(
        {"case_code": code, "transaction_id": txn, "amount": amount, "paid_at": NOW.isoformat(), "channel": 2}
    ).encode("utf-8")


def _headers(body: bytes, *, nonce: str = "nonce-0001", at: datetime = NOW) -> dict[str, str]:
    return signed_headers(SECRET, body, int(at.timestamp()), nonce)


def test_a_genuine_callback_is_accepted() -> None:
    body = _callback("H99.12-261123-0001")
    paid = verify_callback(SECRET, body, _headers(body), NOW + timedelta(seconds=3))
    assert (paid.case_code, paid.transaction_id, paid.amount, paid.nonce) == (
        "H99.12-261123-0001",
        "GD-0001",
        50_000,
        "nonce-0001",
    )


@pytest.mark.parametrize(
    "tamper",
    [
        "wrong secret",
        "altered body",
        "altered nonce",
        "altered timestamp",
        "missing signature",
        "stale",
        "from the future",
    ],
)
def test_forged_or_stale_callbacks_are_rejected(tamper: str) -> None:
    body = _callback("H99.12-261123-0001")
    headers = _headers(body)
    now = NOW
    if tamper == "wrong secret":
        headers = signed_headers(b"khoa-gia-mao", body, int(NOW.timestamp()), "nonce-0001")
    elif tamper == "altered body":
        body = body.replace(b"50000", b"5000")
    elif tamper == "altered nonce":
        headers[NONCE_HEADER] = "nonce-0002"
    elif tamper == "altered timestamp":
        headers[TIMESTAMP_HEADER] = str(int(NOW.timestamp()) + 1)
    elif tamper == "missing signature":
        del headers[SIGNATURE_HEADER]
    elif tamper == "stale":
        now = NOW + timedelta(minutes=6)
    elif tamper == "from the future":
        now = NOW - timedelta(minutes=6)
    with pytest.raises(CallbackRejected) as info:
        verify_callback(SECRET, body, headers, now)
    assert isinstance(info.value, Forbidden)  # the web layer answers 403


def test_a_signed_but_malformed_body_is_a_validation_error() -> None:
    body = b'{"case_code": "X"}'
    with pytest.raises(ValidationError):
        verify_callback(SECRET, body, _headers(body), NOW)


def test_payment_is_recorded_once_and_replays_are_refused(engine: Engine) -> None:
    deploy_fixture(engine)
    code = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": {"name": "Ngô Văn Phí"}}, engine.actor("clerk")
    ).code
    engine.lease_clock = type(engine.clock)(NOW)  # type: ignore[call-arg]
    body = _callback(code)
    paid = verify_callback(SECRET, body, _headers(body), NOW)
    view = engine.record_payment(code, paid)
    assert (view.amount, view.transaction_id, view.duplicate) == (50_000, "GD-0001", False)
    # The same callback again (an attacker replaying it inside the 5-minute window): refused.
    with pytest.raises(ConflictError):
        engine.record_payment(code, verify_callback(SECRET, body, _headers(body), NOW))
    # The gateway re-sends the same payment with a fresh nonce: recorded once, reported as duplicate.
    again = verify_callback(SECRET, body, _headers(body, nonce="nonce-0002"), NOW)
    assert engine.record_payment(code, again).duplicate
    # A fresh nonce cannot reuse a transaction id for another amount.
    other = _callback(code, amount=1)
    with pytest.raises(ConflictError):
        engine.record_payment(code, verify_callback(SECRET, other, _headers(other, nonce="nonce-0003"), NOW))
    assert [p.transaction_id for p in engine.case_payments(code)] == ["GD-0001"]
    fee_events = [e for e in engine.events(code) if e.kind == "fee_paid"]
    assert len(fee_events) == 1 and fee_events[0].payload["amount"] == 50_000


def test_status_6_with_a_fee_queues_a_payment_request() -> None:
    messages = status_change_messages(
        case_code="H99.12-261123-0002",
        seq=7,
        event_hash="ab" * 32,
        at=NOW,
        status_from=4,
        status_to=6,
        label="Yêu cầu thực hiện nghĩa vụ tài chính",
        procedure_code="1.001",
        applicant={"name": "A"},
        fee=1_000_000,
    )
    [request] = [m for m in messages if m.handler == PAYMENT_REQUEST]
    assert request.payload["amount"] == 1_000_000
    assert request.delivery_key == f"H99.12-261123-0002/7/{'ab' * 8}/{PAYMENT_REQUEST}"


def test_payment_request_goes_to_the_gateway(fake_http: FakeHttp) -> None:
    fake_http.answer = {"payment_url": "https://thanhtoan.example/pay/123"}
    requester = PaymentRequester(f"{fake_http.url}/payments", "https://motcua.example/api/payments/callback")
    message = Message(
        1,
        PAYMENT_REQUEST,
        "H/7/x/payment.request",
        "H",
        {"case_code": "H", "amount": 1000, "description": "Lệ phí"},
        1,
    )
    result = requester(message)
    assert result is not None and result["payment_url"] == "https://thanhtoan.example/pay/123"
    [sent] = fake_http.requests
    assert sent.json()["order_id"] == "H/7/x/payment.request" and sent.json()["amount"] == 1000
    assert sent.headers["idempotency-key"] == "H/7/x/payment.request"
