"""Applicant notifications through the outbox: e-mail to a real local SMTP server, SMS recorded."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import FixedClock
from engine.outbox import EMAIL, SMS, Message
from engine.service import Engine
from handlers import HandlerSettings, build_handlers
from handlers.notify import EmailNotifier, RecordingSms, SmsNotifier, message_id
from tests.engine.helpers import deploy_fixture
from tests.handlers.conftest import Smtp

APPLICANT = {"name": "Võ Thị Mai", "email": "mai@example.vn", "phone": "0987 654 321"}


def _message(key: str = "H99.12-260302-0001/1/abc/notify.email") -> Message:
    payload = {
        "case_code": "H99.12-260302-0001",
        "status": 2,
        "to": "mai@example.vn",
        "name": "Võ Thị Mai",
        "subject": "Hồ sơ H99.12-260302-0001: Được tiếp nhận.",
        "text": "Hồ sơ H99.12-260302-0001: Được tiếp nhận.",
    }
    return Message(1, EMAIL, key, "H99.12-260302-0001", payload, 1)


def test_email_goes_over_smtp_with_a_stable_message_id(smtp_server: Smtp) -> None:
    notifier = EmailNotifier(smtp_server.host, smtp_server.port, "motcua@tinh.gov.vn")
    first = notifier(_message())
    again = notifier(_message())  # a retry after a crash: same Message-ID, receivers drop the copy
    assert first == again == {"message_id": message_id(_message().delivery_key, "tinh.gov.vn")}
    [mail, _] = smtp_server.mailbox.messages
    assert mail["To"] == "mai@example.vn" and mail["From"] == "motcua@tinh.gov.vn"
    assert mail["Subject"] == "Hồ sơ H99.12-260302-0001: Được tiếp nhận."
    assert "Kính gửi Võ Thị Mai" in mail.get_content()
    assert smtp_server.mailbox.envelopes[0] == ("motcua@tinh.gov.vn", ["mai@example.vn"])


def test_sms_gateway_ignores_a_repeated_reference() -> None:
    gateway = RecordingSms()
    notifier = SmsNotifier(gateway)
    message = Message(1, SMS, "k/1/x/notify.sms", "k", {"to": "0987 654 321", "text": "Xin chào"}, 1)
    assert notifier(message) == {"reference": "k/1/x/notify.sms"}
    notifier(message)
    assert gateway.sent == [("0987654321", "Xin chào", "k/1/x/notify.sms")]


def test_a_submitted_case_notifies_the_applicant_once(
    engine: Engine, smtp_server: Smtp, lease_clock: FixedClock
) -> None:
    deploy_fixture(engine)
    code = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk")
    ).code
    gateway = RecordingSms()
    settings = HandlerSettings(smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    handlers = build_handlers(settings, engine, sms_gateway=gateway)
    assert set(handlers) == {EMAIL, SMS}
    for _ in range(3):
        engine.deliver_outbox(handlers)
        lease_clock.advance(timedelta(seconds=1))
    mails = [m for m in smtp_server.mailbox.messages if code in str(m["Subject"])]
    assert len(mails) == 1 and "Mới đăng ký" in str(mails[0]["Subject"])
    assert [(phone, text) for phone, text, _ in gateway.sent] == [
        ("0987654321", f"Hồ sơ {code}: Mới đăng ký.")
    ]
    assert {m.state for m in engine.case_outbox(code) if m.handler in (EMAIL, SMS)} == {"delivered"}


def test_an_unreachable_smtp_server_is_retried(engine: Engine, lease_clock: FixedClock) -> None:
    deploy_fixture(engine)
    code = engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk")
    ).code
    handlers = build_handlers(HandlerSettings(smtp_host="127.0.0.1", smtp_port=1))  # nothing listens
    result = engine.deliver_outbox(handlers)
    assert (result.attempted, result.retried) == (1, 1)
    [mail] = [m for m in engine.case_outbox(code) if m.handler == EMAIL]
    assert mail.state == "pending" and mail.attempts == 1 and "Connection" in (mail.last_error or "")
