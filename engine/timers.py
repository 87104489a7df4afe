"""Firing due timers with leases, so any number of workers can share one database.

A worker first *claims* a batch of due timers in a short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so concurrent claimers never wait for or take each other's rows) and stamps them with a
lease (``lease_until``, ``lease_owner``). It then fires each claimed timer in its own unit of work.
If the worker dies, its leases run out and another worker re-claims the timers; a timer is fired at
most once because the firing transaction locks the timer row, re-checks ``fired_at`` and its lease
owner, and commits ``fired_at`` together with the events it produced.

The engine's own SLA timers (receipt and statutory deadlines) only append an ``sla_breach`` event
and a flag: no workflow runs. A transaction per such timer would make a backlog of thousands drain
at the speed of commits, so they are fired many to a transaction (:func:`fire_events_only_batch`),
cases locked in id order; if anything in a batch fails, the batch rolls back whole and its timers
go through the one-by-one path, which isolates the culprit.

Leases measure whether a *process* is still alive, so they are read from a real-time clock even when
the business clock is fixed (``--now``, replays, tests); that clock is injected like any other.
On SQLite the same statements run without row locks (``FOR UPDATE`` renders as nothing) because
writing units of work are serialised by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, text, update
from sqlalchemy.orm import Session, defer

from .cases import CaseRuntime
from .clock import Clock
from .errors import MotcuaError, ProcedureError, SandboxError
from .models import Base, Case, Timer

UnitOfWork = Callable[[], AbstractContextManager[Session]]

DEFAULT_BATCH = 20  # small batches spread due timers over idle workers (lower lag)
#: Timer kinds whose firing only appends events (no workflow step): fired many per transaction.
EVENTS_ONLY_KINDS = frozenset({"receipt_sla", "due_sla"})
#: At most this many events-only timers per transaction (bounded lock time and rollback cost).
EVENTS_ONLY_BATCH = 200
DEFAULT_LEASE_SECONDS = 60.0
log = logging.getLogger("motcua.timers")


@dataclass
class TimerPass:
    """What one pass did: timers claimed, fired, and skipped (no longer applicable or lost lease)."""

    claimed: int = 0
    fired: int = 0
    skipped: int = 0


def default_owner() -> str:
    """Host, process and thread: unique among live workers, readable in the timers table."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


def claim_due(
    session: Session,
    *,
    due_by: datetime,
    lease_now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
) -> list[int]:
    """Lease up to ``limit`` unfired timers due by ``due_by`` whose lease is free or expired."""
    return [
        timer_id
        for timer_id, _ in claim_due_kinds(
            session, due_by=due_by, lease_now=lease_now, owner=owner, lease=lease, limit=limit
        )
    ]


def claim_due_kinds(
    session: Session,
    *,
    due_by: datetime,
    lease_now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
) -> list[tuple[int, str]]:
    """:func:`claim_due`, with each timer's kind (which decides how it is fired)."""
    rows = session.execute(
        select(Timer.id, Timer.kind)
        .where(
            Timer.fired_at.is_(None),
            Timer.due_at <= due_by,
            or_(Timer.lease_until.is_(None), Timer.lease_until < lease_now),
        )
        .order_by(Timer.due_at, Timer.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = [(int(timer_id), str(kind)) for timer_id, kind in rows]
    if claimed:
        session.execute(
            update(Timer)
            .where(Timer.id.in_([timer_id for timer_id, _ in claimed]))
            .values(lease_until=lease_now + lease, lease_owner=owner)
            .execution_options(synchronize_session=False)
        )
    return claimed


def any_due(session: Session, due_by: datetime) -> bool:
    """Whether an unfired timer is due by ``due_by``, leased or not (one probe of the pending
    index): while one is, an idle worker leaves other chores alone, since its peers are firing
    and may hand timers back."""
    found = session.scalar(select(Timer.id).where(Timer.fired_at.is_(None), Timer.due_at <= due_by).limit(1))
    return found is not None


BUSY = "busy"


def fire_claimed(session: Session, runtime: CaseRuntime, timer_id: int, owner: str) -> bool | str | None:
    """Fire one claimed timer: True fired, False no longer applicable, :data:`BUSY` row locked by
    someone else (hand it back), ``None`` gone, already fired or re-claimed by another worker.

    The case row is locked before the timer row, and the timer row with SKIP LOCKED: a request that
    holds the timer (deleting it while it changes the case) then makes us skip instead of deadlock.
    """
    owning_case = select(Timer.case_id).where(Timer.id == timer_id).scalar_subquery()
    case = session.scalar(select(Case).where(Case.id == owning_case).with_for_update())
    if case is None:
        return None
    timer = session.scalar(select(Timer).where(Timer.id == timer_id).with_for_update(skip_locked=True))
    if timer is None:
        # Locked by a concurrent claim's re-check or by a request changing the case, or deleted.
        return BUSY
    if timer.fired_at is not None or timer.lease_owner != owner:
        return None
    return runtime.fire_timer(session, case, timer)


@dataclass
class BatchOutcome:
    """What one events-only batch did; ``busy`` timers are handed back for the next pass."""

    fired: int = 0
    skipped: int = 0
    busy: list[int] | None = None


def fire_events_only_batch(
    session: Session, runtime: CaseRuntime, timer_ids: list[int], owner: str
) -> BatchOutcome:
    """Fire claimed events-only timers in one transaction, each through ``runtime.fire_timer``.

    Locks as :func:`fire_claimed` does, for all at once: the cases first, in id order (two workers
    never wait on each other in a cycle), then the timer rows with SKIP LOCKED; a timer locked
    elsewhere is handed back, one fired or re-claimed meanwhile is skipped.
    """
    outcome = BatchOutcome(busy=[])
    owning = select(Timer.case_id).where(Timer.id.in_(timer_ids))
    cases = {
        c.id: c
        for c in session.scalars(
            # An SLA check never reads the workflow state: the rows come without it.
            select(Case)
            .options(defer(Case.state))
            .where(Case.id.in_(owning))
            .order_by(Case.id)
            .with_for_update()
        )
    }
    # The timers as plain objects outside the session: their one change (``fired_at``) is written
    # for the whole batch in one statement, and the flush at the batch's end has none of them to check.
    timers = {
        row.id: Timer(**row._asdict())
        for row in session.execute(
            select(*(Timer.__table__.c[name] for name in _TIMER_FIELDS))
            .where(Timer.id.in_(timer_ids))
            .order_by(Timer.id)
            .with_for_update(skip_locked=True)
        )
    }
    with runtime.batch(session):
        for timer_id in timer_ids:
            timer = timers.get(timer_id)
            if timer is None:
                assert outcome.busy is not None
                outcome.busy.append(timer_id)
            elif timer.fired_at is not None or timer.lease_owner != owner or timer.case_id not in cases:
                outcome.skipped += 1
            elif runtime.fire_timer(session, cases[timer.case_id], timer):
                outcome.fired += 1
            else:
                outcome.skipped += 1
        _stamp_fired(session, [t for t in timers.values() if t.fired_at is not None])
    return outcome


_TIMER_FIELDS = ("id", "case_id", "kind", "ref", "due_at", "fired_at", "lease_owner")


def _stamp_fired(session: Session, fired: list[Timer]) -> None:
    """Write the batch's ``fired_at`` stamps: on PostgreSQL in one statement, not one per timer."""
    if not fired:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "UPDATE timers SET fired_at = stamp.at FROM unnest(CAST(:ids AS integer[]), "
                "CAST(:ats AS timestamptz[])) AS stamp(id, at) WHERE timers.id = stamp.id"
            ),
            {"ids": [t.id for t in fired], "ats": [t.fired_at for t in fired]},
        )
    else:
        table = Base.metadata.tables[Timer.__tablename__]
        connection.execute(
            update(table).where(table.c.id == bindparam("timer_key")).values(fired_at=bindparam("at")),
            [{"timer_key": t.id, "at": t.fired_at} for t in fired],
        )


def fire_due(
    uow: UnitOfWork,
    runtime: CaseRuntime,
    *,
    claim_uow: UnitOfWork | None = None,
    clock: Clock,
    lease_clock: Clock,
    owner: str,
    limit: int,
    batch: int = DEFAULT_BATCH,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    events_only_batch: int = EVENTS_ONLY_BATCH,
) -> TimerPass:
    """Claim and fire due timers batch by batch until none is due or ``limit`` were claimed; while
    every claim comes back full (a backlog) the next one doubles, up to ``events_only_batch``.

    ``claim_uow`` may be a plainer unit of work than ``uow`` (claiming needs no calendar). Claimed
    SLA timers are fired ``events_only_batch`` to a transaction, BPMN timers one per transaction.
    """
    result = TimerPass()
    lease = timedelta(seconds=lease_seconds)
    size = batch
    while result.claimed < limit:
        with (claim_uow or uow)() as session:
            claimed = claim_due_kinds(
                session,
                due_by=clock.now(),
                lease_now=lease_clock.now(),
                owner=owner,
                lease=lease,
                limit=min(size, limit - result.claimed),
            )
        if not claimed:
            break
        if len(claimed) == size:
            # A backlog: claim more at a time (up to an SLA batch), fewer transactions per timer.
            size = min(size * 2, max(batch, events_only_batch))
        result.claimed += len(claimed)
        ids = [timer_id for timer_id, kind in claimed if kind not in EVENTS_ONLY_KINDS]
        events_only = [timer_id for timer_id, kind in claimed if kind in EVENTS_ONLY_KINDS]
        for start in range(0, len(events_only), events_only_batch):
            chunk = events_only[start : start + events_only_batch]
            try:
                with uow() as session:
                    done = fire_events_only_batch(session, runtime, chunk, owner)
            except Exception:
                # Rolled back whole: fire these one by one, so one bad timer cannot hold up the rest.
                log.info(
                    "batch of %d SLA timers rolled back; firing them one by one", len(chunk), exc_info=True
                )
                ids += chunk
                continue
            result.fired += done.fired
            result.skipped += done.skipped
            for timer_id in done.busy or []:
                release_claim(uow, timer_id, owner)
                result.skipped += 1
        for timer_id in ids:
            try:
                with uow() as session:
                    outcome = fire_claimed(session, runtime, timer_id, owner)
            except (SandboxError, ProcedureError) as exc:
                # The procedure itself fails here (a script stopped by its limits, an unschedulable
                # timer): firing again at once fails again, so keep the lease and retry when it ends.
                log.warning("timer %s failed (%s); retried after its lease expires", timer_id, exc.message)
                outcome = None
            except MotcuaError as exc:
                # Typically a clerk changed the case at the same moment: hand the timer back now.
                log.info("timer %s not fired (%s); released for the next pass", timer_id, exc.message)
                outcome = BUSY
            except Exception:
                # A bug or an outage: keep the lease, so the timer is retried when it runs out.
                log.exception("timer %s crashed; retried after its lease expires", timer_id)
                outcome = None
            if outcome == BUSY:
                # Not ours to wait for: release the claim so the next pass (any worker) retries it,
                # instead of leaving it until the lease runs out.
                release_claim(uow, timer_id, owner)
                result.skipped += 1
            elif outcome:
                result.fired += 1
            else:
                result.skipped += 1
    return result


def release_claim(uow: UnitOfWork, timer_id: int, owner: str) -> None:
    """Hand a claimed, unfired timer back at once (the next pass of any worker may take it)."""
    with uow() as session:
        session.execute(
            update(Timer)
            .where(Timer.id == timer_id, Timer.lease_owner == owner, Timer.fired_at.is_(None))
            .values(lease_until=None, lease_owner=None)
            .execution_options(synchronize_session=False)
        )
