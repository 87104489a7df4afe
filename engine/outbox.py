"""Transactional outbox: side effects decided with a state change, delivered after it commits.

A case operation that must tell the outside world something (push a DVCQG status to the national
portal, notify the applicant, ask the gateway for a fee payment) does not call the network inside
its transaction: it adds an :class:`~engine.models.OutboxMessage` row, which commits or rolls back
with the state change. Workers then deliver pending messages by calling a *handler* by name
(``handlers/`` provides them; the engine never imports that package), with retries and exponential
backoff. Delivery is at least once, so every message carries a stable ``delivery_key`` the handler
uses to make repeats harmless. Messages of one case and handler are delivered in order, so the
portal never receives status 4 before status 2. A message that exhausts its retries opens an
:class:`~engine.models.Incident`, which an administrator can retry from the UI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import and_, exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from . import facts_store
from .clock import Clock
from .domain.vocab import Status
from .models import Base, Case, Incident, OutboxMessage

log = logging.getLogger("motcua.outbox")
UnitOfWork = Callable[[], AbstractContextManager[Session]]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

#: Handler names the engine records messages for (``handlers.build_handlers`` provides them).
STATUS_SYNC = "portal.status_sync"
EMAIL = "notify.email"
SMS = "notify.sms"
PAYMENT_REQUEST = "payment.request"
RESULT_PUBLISH = "result.publish"

#: Status changes the applicant is told about (submission acknowledged, decisions, requests, result).
NOTIFY_STATUSES = frozenset({1, 2, 3, 5, 6, 8, 9, 10})


# ------------------------------------------------------------------------------------- handlers
@dataclass(frozen=True)
class Message:
    """What a handler receives: the message as stored, and which attempt this is (1-based)."""

    id: int
    handler: str
    delivery_key: str
    case_code: str | None
    payload: dict[str, Any]
    attempt: int


class Handler(Protocol):
    """Performs one side effect; returns an optional result to store, raises to ask for a retry."""

    def __call__(self, message: Message) -> Mapping[str, Any] | None: ...


class PermanentFailure(Exception):
    """Retrying cannot help (e.g. the portal rejected the payload): open an incident at once."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * factor**(attempt-1)`` seconds, capped, for ``max_attempts``."""

    max_attempts: int = 8
    base_seconds: float = 2.0
    factor: float = 2.0
    max_delay_seconds: float = 3600.0

    def delay(self, attempt: int) -> timedelta:
        """Wait before the attempt after ``attempt`` (deterministic, so tests can step the clock)."""
        seconds = self.base_seconds * self.factor ** max(0, attempt - 1)
        return timedelta(seconds=min(seconds, self.max_delay_seconds))


# ------------------------------------------------------------------------------------ recording
@dataclass(frozen=True)
class NewMessage:
    handler: str
    delivery_key: str
    payload: dict[str, Any]


def add(session: Session, case_id: int | None, message: NewMessage, now: datetime) -> None:
    """Add one message to the caller's transaction (it commits with the state change)."""
    session.add(
        OutboxMessage(
            case_id=case_id,
            handler=message.handler,
            delivery_key=message.delivery_key,
            payload=message.payload,
            state=PENDING,
            attempts=0,
            created_at=now,
        )
    )


def add_all(session: Session, messages: Sequence[tuple[int | None, NewMessage, datetime]]) -> None:
    """Add messages — each with its case and the moment it was caused — in one statement, in the
    caller's transaction."""
    if not messages:
        return
    session.execute(
        # inline: the ids are not read back (the statement may run in a pipeline, engine.db.pipelined)
        insert(Base.metadata.tables[OutboxMessage.__tablename__]).inline(),
        [
            {
                "case_id": case_id,
                "handler": message.handler,
                "delivery_key": message.delivery_key,
                "payload": message.payload,
                "state": PENDING,
                "attempts": 0,
                "created_at": now,
            }
            for case_id, message, now in messages
        ],
    )


def status_change_messages(
    *,
    case_code: str,
    seq: int,
    event_hash: str,
    at: datetime,
    status_from: int | None,
    status_to: int,
    label: str,
    procedure_code: str,
    applicant: Mapping[str, Any],
    fee: int,
) -> list[NewMessage]:
    """Messages one DVCQG status change causes (pure): portal sync, notifications, fee request.

    Keys derive from the status event (code, sequence number and chain hash), so they are stable
    across retries and unique per change even where dossier codes are reused (test databases).
    """
    stem = f"{case_code}/{seq}/{event_hash[:16]}"
    base = {
        "case_code": case_code,
        "seq": seq,
        "at": at.isoformat(),
        "status_from": status_from,
        "status": status_to,
        "label": label,
        "procedure_code": procedure_code,
    }
    found = [NewMessage(STATUS_SYNC, f"{stem}/{STATUS_SYNC}", dict(base))]
    if status_to in NOTIFY_STATUSES:
        found += applicant_notices(stem, base, applicant, f"Hồ sơ {case_code}: {label}.")
    if status_to == Status.FEE and fee > 0:
        found.append(
            NewMessage(
                PAYMENT_REQUEST,
                f"{stem}/{PAYMENT_REQUEST}",
                {**base, "amount": fee, "description": f"Lệ phí hồ sơ {case_code}"},
            )
        )
    return found


def applicant_notices(
    stem: str, base: Mapping[str, Any], applicant: Mapping[str, Any], text: str
) -> list[NewMessage]:
    """E-mail and SMS to the applicant, for whichever contact they gave (pure)."""
    found = []
    if applicant.get("email"):
        name = str(applicant.get("name") or "")
        body = {**base, "to": applicant["email"], "name": name, "subject": text, "text": text}
        found.append(NewMessage(EMAIL, f"{stem}/{EMAIL}", body))
    if applicant.get("phone"):
        found.append(NewMessage(SMS, f"{stem}/{SMS}", {**base, "to": applicant["phone"], "text": text}))
    return found


def appointment_messages(
    *, case_code: str, seq: int, event_hash: str, at: datetime, applicant: Mapping[str, Any], text: str
) -> list[NewMessage]:
    """Telling the applicant their appointment moved (an apology letter, an extension) (pure): the
    rules send the apology by e-mail/SMS to online applicants, and a new date nobody hears of is
    no appointment."""
    base = {"case_code": case_code, "seq": seq, "at": at.isoformat()}
    return applicant_notices(f"{case_code}/{seq}/{event_hash[:16]}", base, applicant, text)


# ------------------------------------------------------------------------------------- delivery
@dataclass
class DeliveryPass:
    """What one pass did."""

    attempted: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def claim(
    session: Session, *, handlers: list[str], now: datetime, owner: str, lease: timedelta, limit: int
) -> list[Message]:
    """Lease due pending messages for the given handlers, oldest first, one per case and handler.

    A message waits while an older message of the same case and handler is not yet delivered
    (pending or failed), which keeps per-case order without holding locks between passes.
    """
    older = aliased(OutboxMessage)
    blocked = exists().where(
        older.case_id == OutboxMessage.case_id,
        older.handler == OutboxMessage.handler,
        older.id < OutboxMessage.id,
        older.state != DELIVERED,
    )
    rows = session.execute(
        select(OutboxMessage, Case.code)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(
            OutboxMessage.state == PENDING,
            OutboxMessage.handler.in_(handlers),
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            ~and_(OutboxMessage.case_id.is_not(None), blocked),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(of=OutboxMessage, skip_locked=True)
    ).all()
    claimed = []
    for row, code in rows:
        row.lease_until = now + lease
        row.lease_owner = owner
        claimed.append(
            Message(row.id, row.handler, row.delivery_key, code, dict(row.payload), row.attempts + 1)
        )
    return claimed


def deliver(
    uow: UnitOfWork,
    handlers: Mapping[str, Handler],
    *,
    clock: Clock,
    owner: str,
    limit: int,
    lease_seconds: float,
    policy: RetryPolicy,
) -> DeliveryPass:
    """Claim a batch, call each handler outside any transaction, then record each outcome."""
    result = DeliveryPass()
    with uow() as session:
        batch = claim(
            session,
            handlers=sorted(handlers),
            now=clock.now(),
            owner=owner,
            lease=timedelta(seconds=lease_seconds),
            limit=limit,
        )
    for message in batch:
        result.attempted += 1
        outcome: Mapping[str, Any] | None = None
        error: str | None = None
        permanent = False
        try:
            outcome = handlers[message.handler](message)
        except PermanentFailure as exc:
            error, permanent = _describe(exc), True
        except Exception as exc:  # any failure of a handler is a failed attempt, never a crash
            error = _describe(exc)
        with uow() as session:
            state = _record(session, message, owner, clock.now(), outcome, error, permanent, policy)
        if state == DELIVERED:
            result.delivered += 1
        elif state == FAILED:
            result.failed += 1
            result.errors.append(f"{message.delivery_key}: {error}")
        elif state == PENDING:
            result.retried += 1
    return result


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _record(
    session: Session,
    message: Message,
    owner: str,
    now: datetime,
    outcome: Mapping[str, Any] | None,
    error: str | None,
    permanent: bool,
    policy: RetryPolicy,
) -> str | None:
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == message.id).with_for_update())
    if row is None or row.state != PENDING or row.lease_owner != owner:
        return None  # our lease ran out and another worker took the message over
    row.attempts += 1
    row.lease_until = None
    row.lease_owner = None
    if error is None:
        row.state = DELIVERED
        row.delivered_at = now
        if row.handler == STATUS_SYNC and row.case_id is not None:
            facts_store.mark_stale(session, row.case_id)  # "synced to the portal" is a report fact
        row.result = dict(outcome) if outcome else None
        row.last_error = None
        return DELIVERED
    row.last_error = error
    if permanent or row.attempts >= policy.max_attempts:
        row.state = FAILED
        session.add(
            Incident(
                message_id=row.id,
                case_id=row.case_id,
                handler=row.handler,
                error=error,
                attempts=row.attempts,
                opened_at=now,
            )
        )
        log.warning("outbox message %s failed for good: %s", row.delivery_key, error)
        return FAILED
    row.next_attempt_at = now + policy.delay(row.attempts)
    return PENDING


# ------------------------------------------------------------------------------------ incidents
class IncidentView(BaseModel):
    """An incident as the administrators' page shows it."""

    id: int
    case_code: str | None
    handler: str
    delivery_key: str
    error: str
    attempts: int
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    payload: dict[str, Any]


class OutboxView(BaseModel):
    """One message of a case's outbox (what was sent where, and how it went)."""

    id: int
    handler: str
    delivery_key: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]
    result: dict[str, Any] | None


def incidents(session: Session, *, open_only: bool = True) -> list[IncidentView]:
    """Incidents, newest first; only unresolved ones unless asked."""
    query = (
        select(Incident, OutboxMessage, Case.code)
        .join(OutboxMessage, OutboxMessage.id == Incident.message_id)
        .outerjoin(Case, Case.id == Incident.case_id)
        .order_by(Incident.id.desc())
    )
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return [_incident_view(i, m, code) for i, m, code in session.execute(query)]


def retry_incident(session: Session, incident_id: int, username: str, now: datetime) -> IncidentView | None:
    """Resolve an open incident by putting its message back in the queue with fresh attempts."""
    row = session.execute(
        select(Incident, OutboxMessage, Case.code)
        .join(OutboxMessage, OutboxMessage.id == Incident.message_id)
        .outerjoin(Case, Case.id == Incident.case_id)
        .where(Incident.id == incident_id)
        .with_for_update(of=Incident)
    ).first()
    if row is None:
        return None
    incident, message, code = row
    if incident.resolved_at is None:
        incident.resolved_at = now
        incident.resolved_by = username
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.state == FAILED)
            .values(state=PENDING, attempts=0, next_attempt_at=None, lease_until=None, lease_owner=None)
            .execution_options(synchronize_session="fetch")
        )
    return _incident_view(incident, message, code)


def case_outbox(session: Session, case_id: int) -> list[OutboxView]:
    """Every message recorded for one case, in order."""
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)
    )
    return [
        OutboxView(
            id=r.id,
            handler=r.handler,
            delivery_key=r.delivery_key,
            state=r.state,
            attempts=r.attempts,
            created_at=r.created_at,
            next_attempt_at=r.next_attempt_at,
            delivered_at=r.delivered_at,
            last_error=r.last_error,
            payload=dict(r.payload),
            result=dict(r.result) if r.result else None,
        )
        for r in rows
    ]


def _incident_view(incident: Incident, message: OutboxMessage, code: str | None) -> IncidentView:
    return IncidentView(
        id=incident.id,
        case_code=code,
        handler=incident.handler,
        delivery_key=message.delivery_key,
        error=incident.error,
        attempts=incident.attempts,
        opened_at=incident.opened_at,
        resolved_at=incident.resolved_at,
        resolved_by=incident.resolved_by,
        payload=dict(message.payload),
    )
