"""Real servers on 127.0.0.1 for the handlers: a fake portal/gateway over HTTP and an SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete

from engine.clock import FixedClock
from engine.models import Incident, OutboxMessage
from engine.service import Engine


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeHttp:
    """Records every POST; answers ``fail_next`` requests with 500, then 200 with ``answer``."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0
    status_on_failure: int = 500
    answer: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    hold_first: bool = False  # keep the first request waiting (a portal that hangs) until released
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length", "0"))
        body = request.rfile.read(length)
        with self.lock:
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.requests.append(Received(request.path, headers, body))
            failing = self.fail_next > 0
            if failing:
                self.fail_next -= 1
            hold = self.hold_first and len(self.requests) == 1
        if hold:
            self.released.wait(timeout=60)
        status = self.status_on_failure if failing else 200
        payload = json.dumps({"error": "lỗi máy chủ"} if failing else self.answer).encode("utf-8")
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)


@pytest.fixture
def fake_http() -> Iterator[FakeHttp]:
    fake = FakeHttp()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            fake.handle(self)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.released.set()
    server.shutdown()
    server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@dataclass
class Smtp:
    host: str
    port: int
    mailbox: _Mailbox


@pytest.fixture
def smtp_server() -> Iterator[Smtp]:
    mailbox = _Mailbox()
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Smtp("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def empty_outbox(request: pytest.FixtureRequest) -> None:
    """Other suites orphan rows on SQLite on purpose (tamper tests); their case ids get reused."""
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    with engine.db.unit_of_work() as session:
        session.execute(delete(Incident))
        session.execute(delete(OutboxMessage))


@pytest.fixture
def lease_clock(engine: Engine) -> FixedClock:
    clock = FixedClock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    engine.lease_clock = clock
    return clock
