"""The identity the national portal asserts for an online submission (after its VNeID login).

The portal signs ``base64url(JSON claims).hex(HMAC-SHA256)`` with a secret both sides share
(``MOTCUA_PORTAL_IDENTITY_SECRET``) and sends it in ``X-Motcua-Identity``. Only a verified, fresh
assertion reaches the engine: without it, anyone could name another person's CCCD and be offered
that person's stored documents for reuse.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

from engine.errors import Forbidden

HEADER = "X-Motcua-Identity"
DEFAULT_TOLERANCE = timedelta(minutes=10)


class AssertionRejected(Forbidden):
    """The identity assertion is not provably from the portal, or not fresh: nothing is done."""

    code = "identity_assertion_rejected"


def sign_assertion(secret: bytes, claims: dict[str, Any], issued_at: int) -> str:
    """The token a portal (or a test) sends for ``claims`` (cccd, date_of_birth, full_name)."""
    body = base64.urlsafe_b64encode(
        json.dumps({**claims, "iat": issued_at}, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).decode("ascii")
    return f"{body}.{hmac.new(secret, body.encode('ascii'), hashlib.sha256).hexdigest()}"


def verify_assertion(
    secret: bytes, token: str, now: datetime, *, tolerance: timedelta = DEFAULT_TOLERANCE
) -> dict[str, Any]:
    """The asserted claims, after checking the signature (constant time) and the issue time."""
    if not secret:
        raise AssertionRejected("Chưa cấu hình khóa xác thực danh tính của Cổng dịch vụ công")
    body, _, given = (token or "").strip().partition(".")
    expected = hmac.new(secret, body.encode("ascii", "replace"), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(expected, given.lower()):
        raise AssertionRejected("Danh tính do Cổng dịch vụ công gửi không có chữ ký hợp lệ")
    try:
        claims = json.loads(base64.urlsafe_b64decode(body.encode("ascii")))
        issued = datetime.fromtimestamp(int(claims.pop("iat")), tz=now.tzinfo)
    except (ValueError, KeyError, TypeError) as exc:
        raise AssertionRejected("Danh tính do Cổng dịch vụ công gửi sai định dạng") from exc
    if abs(now - issued) > tolerance:
        raise AssertionRejected("Danh tính do Cổng dịch vụ công gửi đã quá hạn")
    return {k: claims.get(k) for k in ("cccd", "date_of_birth", "full_name")}
