"""Transactional outbox: recorded with the state change, delivered afterwards, retried, escalated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from engine import cases
from engine.clock import FixedClock
from engine.errors import Forbidden, NotFound
from engine.models import Incident, OutboxMessage
from engine.outbox import EMAIL, SMS, STATUS_SYNC, Message, PermanentFailure, RetryPolicy
from engine.service import Engine
from tests.engine.helpers import deploy_fixture

APPLICANT = {"name": "Phạm Thị Thư", "email": "thu@example.vn", "phone": "0912345678"}


class Recorder:
    """A handler that records what it receives and fails the first ``failures`` attempts."""

    def __init__(self, failures: int = 0, permanent: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.calls: list[Message] = []

    def __call__(self, message: Message) -> Mapping[str, Any] | None:
        self.calls.append(message)
        if self.failures > 0:
            self.failures -= 1
            if self.permanent:
                raise PermanentFailure("cổng trả lời 400: dữ liệu không hợp lệ")
            raise ConnectionError("cổng không trả lời")
        return {"received": message.payload.get("status")}


@pytest.fixture(autouse=True)
def empty_outbox(engine: Engine) -> None:
    """Other suites orphan rows on SQLite on purpose (tamper tests); their case ids get reused."""
    with engine.db.unit_of_work() as session:
        session.execute(delete(Incident))
        session.execute(delete(OutboxMessage))


@pytest.fixture
def lease_clock(engine: Engine) -> FixedClock:
    clock = FixedClock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    engine.lease_clock = clock
    return clock


def _start(engine: Engine) -> str:
    deploy_fixture(engine)
    return engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk")
    ).code


def _count(engine: Engine) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def test_status_changes_record_messages_in_the_same_transaction(engine: Engine) -> None:
    code = _start(engine)
    messages = engine.case_outbox(code)
    changes = [e for e in engine.events(code) if e.status_to is not None]
    assert [c.status_to for c in changes][:1] == [1] and changes[-1].status_to == 4
    # One portal message per DVCQG status change, in order; the applicant hears of status 1.
    assert [m.payload["status"] for m in messages if m.handler == STATUS_SYNC] == [
        c.status_to for c in changes
    ]
    assert [(m.handler, m.payload["status"]) for m in messages[:3]] == [
        (STATUS_SYNC, 1),
        (EMAIL, 1),
        (SMS, 1),
    ]
    assert all(m.payload["status"] != 4 for m in messages if m.handler in (EMAIL, SMS))
    sync = messages[0]
    assert sync.state == "pending" and sync.attempts == 0
    assert sync.payload["case_code"] == code and sync.payload["seq"] == changes[0].seq
    assert sync.payload["procedure_code"] == "0.000001"
    assert sync.delivery_key.startswith(f"{code}/{changes[0].seq}/{changes[0].hash[:16]}")
    assert messages[1].payload["to"] == APPLICANT["email"] and code in messages[1].payload["text"]
    assert messages[2].payload["to"] == APPLICANT["phone"]
    assert len({m.delivery_key for m in messages}) == len(messages)


def test_a_rolled_back_operation_leaves_no_message(engine: Engine) -> None:
    code = _start(engine)
    before = _count(engine)

    def fail(_code: str) -> None:
        raise RuntimeError("mất điện giữa chừng")

    cases.after_flush_hook = fail
    try:
        with pytest.raises(RuntimeError):
            engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    finally:
        cases.after_flush_hook = None
    assert _count(engine) == before
    engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    statuses = [m.payload["status"] for m in engine.case_outbox(code) if m.handler == STATUS_SYNC]
    assert statuses[0] == 1 and statuses[-2:] == [4, 10]


def test_delivery_is_once_per_message_and_in_order(engine: Engine, lease_clock: FixedClock) -> None:
    code = _start(engine)
    engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    portal = Recorder()
    handlers = {STATUS_SYNC: portal}
    for _ in range(5):
        engine.deliver_outbox(handlers)
    assert [m.payload["status"] for m in portal.calls] == [1, 4, 10]
    assert all(m.attempt == 1 for m in portal.calls)
    outbox = engine.case_outbox(code)
    assert {m.state for m in outbox if m.handler == STATUS_SYNC} == {"delivered"}
    # Handlers this worker does not have are left for a worker that has them.
    assert {m.state for m in outbox if m.handler != STATUS_SYNC} == {"pending"}
    assert engine.deliver_outbox(handlers).attempted == 0


def test_retries_back_off_exponentially_and_keep_the_order(engine: Engine, lease_clock: FixedClock) -> None:
    code = _start(engine)
    portal = Recorder(failures=2)
    handlers = {STATUS_SYNC: portal}
    first = engine.deliver_outbox(handlers)
    assert (first.attempted, first.retried) == (1, 1)  # status 4 waits behind status 1
    assert engine.deliver_outbox(handlers).attempted == 0  # backing off: 2 s
    lease_clock.advance(timedelta(seconds=2))
    assert engine.deliver_outbox(handlers).retried == 1
    lease_clock.advance(timedelta(seconds=3))
    assert engine.deliver_outbox(handlers).attempted == 0  # second wait is 4 s
    lease_clock.advance(timedelta(seconds=1))
    assert engine.deliver_outbox(handlers).delivered == 1
    assert engine.deliver_outbox(handlers).delivered == 1
    assert [(m.payload["status"], m.attempt) for m in portal.calls] == [(1, 1), (1, 2), (1, 3), (4, 1)]
    assert len({m.delivery_key for m in portal.calls[:3]}) == 1  # one key across retries
    sync = [m for m in engine.case_outbox(code) if m.handler == STATUS_SYNC]
    assert [(m.state, m.attempts) for m in sync] == [("delivered", 3), ("delivered", 1)]
    assert sync[0].result == {"received": 1}


def test_backoff_policy() -> None:
    policy = RetryPolicy(max_attempts=5, base_seconds=2, factor=2, max_delay_seconds=10)
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [2, 4, 8, 10, 10]


def test_exhausted_retries_open_an_incident_an_admin_can_retry(
    engine: Engine, lease_clock: FixedClock
) -> None:
    code = _start(engine)
    policy = RetryPolicy(max_attempts=3, base_seconds=1)
    portal = Recorder(failures=3)
    handlers = {STATUS_SYNC: portal}
    for _ in range(3):
        engine.deliver_outbox(handlers, policy=policy)
        lease_clock.advance(timedelta(minutes=1))
    [incident] = engine.incidents()
    assert incident.case_code == code and incident.handler == STATUS_SYNC and incident.attempts == 3
    assert "ConnectionError" in incident.error and incident.payload["status"] == 1
    # While it is open, later status changes of that case wait (the portal must see them in order).
    assert engine.deliver_outbox(handlers, policy=policy).attempted == 0
    with pytest.raises(Forbidden):
        engine.retry_incident(incident.id, engine.actor("clerk"))
    with pytest.raises(NotFound):
        engine.retry_incident(incident.id + 1000, engine.actor("admin"))
    retried = engine.retry_incident(incident.id, engine.actor("admin"))
    assert retried.resolved_by == "admin"
    assert engine.incidents() == []
    assert [i.id for i in engine.incidents(open_only=False)] == [incident.id]
    engine.deliver_outbox(handlers, policy=policy)
    engine.deliver_outbox(handlers, policy=policy)
    assert [m.payload["status"] for m in portal.calls] == [1, 1, 1, 1, 4]
    assert {m.state for m in engine.case_outbox(code) if m.handler == STATUS_SYNC} == {"delivered"}
    # Retrying twice changes nothing more.
    assert engine.retry_incident(incident.id, engine.actor("admin")).resolved_by == "admin"
    assert engine.deliver_outbox(handlers, policy=policy).attempted == 0


def test_a_permanent_failure_opens_an_incident_at_once(engine: Engine, lease_clock: FixedClock) -> None:
    _start(engine)
    engine.deliver_outbox({EMAIL: Recorder(failures=1, permanent=True)})
    [incident] = engine.incidents()
    assert incident.handler == EMAIL and incident.attempts == 1 and "PermanentFailure" in incident.error


def test_an_expired_delivery_lease_is_taken_over(engine: Engine, lease_clock: FixedClock) -> None:
    _start(engine)
    slow = Recorder()

    def stalls(message: Message) -> Mapping[str, Any] | None:
        # While this worker is "stuck", its lease runs out and another worker delivers the message.
        lease_clock.advance(timedelta(seconds=61))
        engine.deliver_outbox({STATUS_SYNC: slow}, owner="rescuer")
        return None

    result = engine.deliver_outbox({STATUS_SYNC: stalls}, owner="stuck")
    assert result.delivered == 0 and result.attempted == 1  # its late outcome is discarded
    assert [m.payload["status"] for m in slow.calls] == [1]
    [first, *_] = [m for m in engine.case_outbox(_code_of(engine)) if m.handler == STATUS_SYNC]
    assert first.state == "delivered" and first.attempts == 1


def _code_of(engine: Engine) -> str:
    with engine.db.read() as session:
        return str(session.scalar(select(OutboxMessage.payload).limit(1))["case_code"])  # type: ignore[index]
