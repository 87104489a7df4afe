"""Applicant notifications: e-mail over SMTP, SMS behind an interface.

Both are idempotent on the outbox delivery key: the e-mail's Message-ID is derived from it (mail
systems drop a repeated Message-ID), and SMS gateways receive it as the client reference.
"""

from __future__ import annotations

import hashlib
import smtplib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from engine.outbox import Message, PermanentFailure


def message_id(delivery_key: str, domain: str) -> str:
    """A stable Message-ID for one notification, the same on every retry."""
    return f"<{hashlib.sha256(delivery_key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True)
class EmailNotifier:
    """Handler ``notify.email``: one plain-text e-mail per message, sent over SMTP."""

    host: str
    port: int = 25
    sender: str = "motcua@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    def __call__(self, message: Message) -> Mapping[str, Any] | None:
        payload = message.payload
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = str(payload["to"])
        email["Subject"] = str(payload.get("subject") or payload.get("text", ""))
        email["Date"] = formatdate(localtime=False)
        domain = self.sender.rsplit("@", 1)[-1] or "localhost"
        email["Message-ID"] = message_id(message.delivery_key, domain)
        greeting = f"Kính gửi {payload['name']},\n\n" if payload.get("name") else ""
        email.set_content(
            f"{greeting}{payload.get('text', '')}\n\nTra cứu hồ sơ bằng mã hồ sơ và mã tra cứu trên "
            "phiếu tiếp nhận.\n"
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"Địa chỉ nhận bị từ chối: {exc.recipients}") from exc
        if refused:
            raise PermanentFailure(f"Địa chỉ nhận bị từ chối: {refused}")
        return {"message_id": email["Message-ID"]}


class SmsGateway(Protocol):
    """Whatever sends a text message; ``reference`` makes a repeat harmless on the gateway side."""

    def send(self, phone: str, text: str, reference: str) -> str: ...


@dataclass
class RecordingSms:
    """An SMS gateway that only records (development, tests); repeats of a reference are ignored."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, phone: str, text: str, reference: str) -> str:
        with self._lock:
            if all(ref != reference for _, _, ref in self.sent):
                self.sent.append((phone, text, reference))
        return reference


@dataclass(frozen=True)
class SmsNotifier:
    """Handler ``notify.sms``: hands the text to the configured gateway."""

    gateway: SmsGateway
    max_length: int = 320  # two concatenated SMS with Vietnamese diacritics kept short

    def __call__(self, message: Message) -> Mapping[str, Any] | None:
        phone = str(message.payload["to"]).replace(" ", "")
        if not phone.lstrip("+").isdigit():
            raise PermanentFailure(f"Số điện thoại không hợp lệ: {phone}")
        text = str(message.payload.get("text", ""))[: self.max_length]
        return {"reference": self.gateway.send(phone, text, message.delivery_key)}
