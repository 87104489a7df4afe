"""Electronic result publication: send the stored result file to the portal with its SHA-256.

The file is read from the engine (not from the outbox payload, which stays small) and re-checked
against the stored digest before it leaves; the portal receives the digest too, so both sides can
prove which file was issued.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.outbox import Message, PermanentFailure

from .http import post

#: (case code, result id) -> (sha256, bytes); ``Engine.result_file`` fits once adapted.
ResultReader = Callable[[str, int], tuple[str, bytes]]


@dataclass(frozen=True)
class ResultPublisher:
    """Handler ``result.publish``."""

    endpoint: str
    read: ResultReader
    token: str = ""
    timeout: float = 30.0

    def __call__(self, message: Message) -> Mapping[str, Any] | None:
        payload = message.payload
        digest, content = self.read(str(payload["case_code"]), int(payload["result_id"]))
        if digest != payload["sha256"]:
            raise PermanentFailure("Tệp kết quả đã thay đổi so với mã băm khi đính kèm")
        headers = {
            "Content-Type": str(payload.get("content_type") or "application/octet-stream"),
            "Idempotency-Key": message.delivery_key,
            "X-Content-SHA256": digest,
            "X-File-Name": urllib.parse.quote(str(payload.get("filename", ""))),
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = f"{self.endpoint}?{urllib.parse.urlencode({'MaHoSo': payload['case_code']})}"
        answer = post(url, content, headers=headers, timeout=self.timeout)
        return {"sha256": digest, "answer": answer}
