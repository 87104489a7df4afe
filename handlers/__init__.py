"""Side-effect handlers called by name by the outbox worker (``python run.py worker``).

The engine records *what* should happen (``engine.outbox``); this package knows *how*: SMTP,
SMS gateways, the national portal, the payment gateway. A handler is registered only when its
settings are present, and a worker delivers only the messages whose handler it has, so a worker
without SMTP settings leaves e-mails for one that has them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine import outbox
from engine.outbox import Handler

from .notify import EmailNotifier, RecordingSms, SmsGateway, SmsNotifier
from .payment import PaymentRequester
from .portal import PortalStatusSync
from .result import ResultPublisher, ResultReader

if TYPE_CHECKING:
    from engine.service import Engine


@dataclass(frozen=True)
class HandlerSettings:
    """Where side effects go; read from ``MOTCUA_*`` environment variables by :meth:`from_env`."""

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "motcua@localhost"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    sms: str = ""  # "record": keep messages in memory (development); empty: no SMS handler
    portal_status_url: str = ""
    portal_result_url: str = ""
    portal_token: str = ""
    payment_url: str = ""
    payment_callback_url: str = ""
    payment_token: str = ""
    payment_secret: str = ""  # HMAC key the gateway signs its callbacks with

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HandlerSettings:
        e = os.environ if env is None else env
        return cls(
            smtp_host=e.get("MOTCUA_SMTP_HOST", ""),
            smtp_port=int(e.get("MOTCUA_SMTP_PORT", "25")),
            smtp_sender=e.get("MOTCUA_SMTP_SENDER", "motcua@localhost"),
            smtp_username=e.get("MOTCUA_SMTP_USERNAME", ""),
            smtp_password=e.get("MOTCUA_SMTP_PASSWORD", ""),
            smtp_starttls=e.get("MOTCUA_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            sms=e.get("MOTCUA_SMS", ""),
            portal_status_url=e.get("MOTCUA_PORTAL_STATUS_URL", ""),
            portal_result_url=e.get("MOTCUA_PORTAL_RESULT_URL", ""),
            portal_token=e.get("MOTCUA_PORTAL_TOKEN", ""),
            payment_url=e.get("MOTCUA_PAYMENT_URL", ""),
            payment_callback_url=e.get("MOTCUA_PAYMENT_CALLBACK_URL", ""),
            payment_token=e.get("MOTCUA_PAYMENT_TOKEN", ""),
            payment_secret=e.get("MOTCUA_PAYMENT_SECRET", ""),
        )


def build_handlers(
    settings: HandlerSettings, engine: Engine | None = None, *, sms_gateway: SmsGateway | None = None
) -> dict[str, Handler]:
    """The handlers these settings allow, by the names the engine records messages under."""
    found: dict[str, Handler] = {}
    if settings.smtp_host:
        found[outbox.EMAIL] = EmailNotifier(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_starttls,
        )
    if sms_gateway is not None or settings.sms == "record":
        found[outbox.SMS] = SmsNotifier(sms_gateway or RecordingSms())
    if settings.portal_status_url:
        found[outbox.STATUS_SYNC] = PortalStatusSync(settings.portal_status_url, settings.portal_token)
    if settings.payment_url:
        found[outbox.PAYMENT_REQUEST] = PaymentRequester(
            settings.payment_url, settings.payment_callback_url, settings.payment_token
        )
    if settings.portal_result_url and engine is not None:
        found[outbox.RESULT_PUBLISH] = ResultPublisher(
            settings.portal_result_url, _result_reader(engine), settings.portal_token
        )
    return found


def _result_reader(engine: Engine) -> ResultReader:
    def read(code: str, result_id: int) -> tuple[str, bytes]:
        view, content = engine.result_file(code, result_id)
        return view.sha256, content

    return read
