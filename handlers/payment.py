"""Fee payment: the payment request (outbox handler) and the gateway's signed callback.

The gateway signs each callback with HMAC-SHA256 over ``timestamp.nonce.body`` using a secret both
sides share. :func:`verify_callback` rejects a forged or altered callback (signature), a stale or
future one (timestamp outside the tolerance window) and malformed ones; the engine then refuses a
replay of a genuine callback because the nonce is stored once (``Engine.record_payment``).

Suggested route (web layer): ``POST /api/payments/callback`` without session or CSRF, reading the
raw body and the ``X-Motcua-Timestamp``, ``X-Motcua-Nonce`` and ``X-Motcua-Signature`` headers::

    paid = verify_callback(secret, request.get_data(), request.headers, engine.lease_clock.now())
    view = engine.record_payment(paid.case_code, paid)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.errors import Forbidden, ValidationError
from engine.outbox import Message
from engine.payments import PaymentConfirmation

from .http import post_json

TIMESTAMP_HEADER = "X-Motcua-Timestamp"
NONCE_HEADER = "X-Motcua-Nonce"
SIGNATURE_HEADER = "X-Motcua-Signature"
DEFAULT_TOLERANCE = timedelta(minutes=5)


class CallbackRejected(Forbidden):
    """The callback is not provably from the gateway, or not fresh: nothing is recorded."""

    code = "payment_callback_rejected"


def sign(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp.nonce.body`` (what the gateway sends and we recompute)."""
    message = timestamp.encode("ascii") + b"." + nonce.encode("ascii") + b"." + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, timestamp: int, nonce: str) -> dict[str, str]:
    """Headers a gateway (or a test) sends with ``body``."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(secret, str(timestamp), nonce, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value)
    raise CallbackRejected(f"Thiếu tiêu đề {name}")


def verify_callback(
    secret: bytes,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    *,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> PaymentConfirmation:
    """Check signature and freshness, then parse the body; raises :class:`CallbackRejected`.

    The signature is checked before the body is parsed, and compared in constant time.
    """
    if not secret:
        raise CallbackRejected("Chưa cấu hình khóa bí mật của cổng thanh toán")
    timestamp, nonce = _header(headers, TIMESTAMP_HEADER), _header(headers, NONCE_HEADER)
    given = _header(headers, SIGNATURE_HEADER)
    if not timestamp.isdigit() or not (8 <= len(nonce) <= 100) or not nonce.isascii():
        raise CallbackRejected("Thông báo thanh toán sai định dạng (thời điểm hoặc nonce)")
    if not hmac.compare_digest(sign(secret, timestamp, nonce, body), given.strip().lower()):
        raise CallbackRejected("Chữ ký của thông báo thanh toán không hợp lệ")
    sent = datetime.fromtimestamp(int(timestamp), tz=now.tzinfo)
    if abs(now - sent) > tolerance:
        raise CallbackRejected("Thông báo thanh toán đã quá hạn hoặc có thời điểm không hợp lệ")
    try:
        data = json.loads(body)
        return PaymentConfirmation(
            case_code=str(data["case_code"]),
            transaction_id=str(data["transaction_id"]),
            nonce=nonce,
            amount=int(data["amount"]),
            paid_at=datetime.fromisoformat(str(data["paid_at"])),
            channel=int(data.get("channel", 2)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"Nội dung thông báo thanh toán không hợp lệ: {exc}") from exc


def receive_callback(engine: Any, secret: str, body: bytes, headers: Mapping[str, str]) -> Any:
    """The gateway's callback, from the web route or the CLI: verified, then recorded once."""
    paid = verify_callback(secret.encode("utf-8"), body, headers, engine.lease_clock.now())
    return engine.record_payment(paid.case_code, paid)


@dataclass(frozen=True)
class PaymentRequester:
    """Handler ``payment.request``: ask the gateway to open a payment for the dossier's fee.

    The delivery key is the order id, so a repeated request returns the same payment link.
    """

    endpoint: str
    callback_url: str
    token: str = ""
    timeout: float = 10.0

    def __call__(self, message: Message) -> Mapping[str, Any] | None:
        payload = message.payload
        body = {
            "order_id": message.delivery_key,
            "case_code": payload["case_code"],
            "amount": payload["amount"],
            "description": payload.get("description", ""),
            "callback_url": self.callback_url,
        }
        headers = {"Idempotency-Key": message.delivery_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        answer = post_json(self.endpoint, body, headers=headers, timeout=self.timeout)
        return {"order_id": message.delivery_key, "payment_url": answer.get("payment_url"), "answer": answer}
