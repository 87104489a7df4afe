"""One JSON-over-HTTP call for the handlers, with the outbox's retry semantics.

Network errors, timeouts, 5xx, 408 and 429 are worth retrying (the outbox backs off); any other
4xx means the request itself is wrong, so retrying cannot help and an incident opens at once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from engine.outbox import PermanentFailure

RETRYABLE_STATUSES = frozenset({408, 429})


class TemporaryFailure(Exception):
    """The other side is down or busy: try again later."""


def post(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    timeout: float = 10.0,
) -> dict[str, Any]:
    """POST ``body``; return the JSON answer (``{}`` when empty) or raise a classified failure."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (configured URL)
            raw = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode("utf-8", "replace")
        if exc.code >= 500 or exc.code in RETRYABLE_STATUSES:
            raise TemporaryFailure(f"HTTP {exc.code} từ {url}: {detail}") from exc
        raise PermanentFailure(f"HTTP {exc.code} từ {url}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise TemporaryFailure(f"Không kết nối được {url}: {exc}") from exc
    if not raw.strip():
        return {}
    try:
        answer = json.loads(raw)
    except json.JSONDecodeError:
        return {"raw": raw[:500].decode("utf-8", "replace")}
    return answer if isinstance(answer, dict) else {"answer": answer}


def post_json(
    url: str, payload: Mapping[str, Any], *, headers: Mapping[str, str], timeout: float = 10.0
) -> dict[str, Any]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return post(url, body, headers={"Content-Type": "application/json", **headers}, timeout=timeout)
