"""Status sync with the national portal (DVCQG): each status change 1–10 is pushed, in order.

The outbox delivers one case's status changes one at a time and in order, retrying with backoff
while the portal is down; the delivery key travels as ``Idempotency-Key`` so a change the portal
already received (we crashed before recording the answer) is not counted twice there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.outbox import Message

from .http import post_json


@dataclass(frozen=True)
class PortalStatusSync:
    """Handler ``portal.status_sync``: POST the DVCQG status of a dossier to the configured endpoint."""

    endpoint: str
    token: str = ""
    timeout: float = 10.0

    def __call__(self, message: Message) -> Mapping[str, Any] | None:
        payload = message.payload
        body = {
            "MaHoSo": payload["case_code"],
            "MaTTHC": payload.get("procedure_code", ""),
            "TrangThai": payload["status"],
            "TrangThaiTruoc": payload.get("status_from"),
            "MoTa": payload.get("label", ""),
            "ThoiGian": payload["at"],
        }
        headers = {"Idempotency-Key": message.delivery_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        answer = post_json(self.endpoint, body, headers=headers, timeout=self.timeout)
        return {"status": payload["status"], "answer": answer}
