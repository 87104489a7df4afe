"""The worker: fires due timers and delivers the outbox in a loop (``python run.py worker``).

Any number of workers may run against one PostgreSQL database: timers and outbox messages are
claimed with ``FOR UPDATE SKIP LOCKED`` and a lease (see :mod:`engine.timers`,
:mod:`engine.outbox`). ``run.py serve`` runs the same loop in a thread
(``handlers.compose``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .errors import Busy, MotcuaError
from .timers import DEFAULT_BATCH, DEFAULT_LEASE_SECONDS, EVENTS_ONLY_BATCH

if TYPE_CHECKING:
    from .service import Engine

log = logging.getLogger("motcua.worker")

#: Dossiers whose report facts an idle worker recomputes per round (one facts_store chunk).
IDLE_FACTS = 500
#: Longest an idle worker puts off the facts refresh while peers fire due timers (real time).
FACTS_DEFER = timedelta(seconds=5)


def run_worker(
    engine: Engine,
    *,
    interval: float = 1.0,
    once: bool = False,
    stop: threading.Event | None = None,
    batch: int = DEFAULT_BATCH,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    handlers: Mapping[str, Any] | None = None,
) -> None:
    """Poll until stopped; sleep only when a pass found nothing to do; one failure never stops it."""
    stop = stop or threading.Event()
    log.info(
        "worker started: batch %d, lease %.0f s, handlers %s", batch, lease_seconds, sorted(handlers or {})
    )
    sealed_day: object = None
    sealed_hour: object = None
    compacted_hour: object = None
    deferred_since: datetime | None = None
    while not stop.is_set():
        busy = False
        try:
            result = engine.fire_due_timers(
                limit=max(batch, EVENTS_ONLY_BATCH) * 10, batch=batch, lease_seconds=lease_seconds
            )
            busy = result.fired + result.skipped > 0
            if result.fired:
                log.info("fired %d timers", result.fired)
        except MotcuaError as exc:
            log.warning("timer pass failed: %s", exc.message)
        except Exception:  # keep the worker alive; the failure is logged with its traceback
            log.exception("timer pass crashed")
        if handlers:
            try:
                delivered = engine.deliver_outbox(handlers, limit=batch, lease_seconds=lease_seconds)
                busy = busy or delivered.attempted > 0
            except Exception:
                log.exception("outbox pass crashed")
        sealed_day = _seal_if_new_day(engine, sealed_day)
        sealed_hour = _seal_if_new_hour(engine, sealed_hour)
        compacted_hour = _compact_if_new_hour(engine, compacted_hour)
        if once:
            return
        if not busy:
            try:  # idle: recompute the report facts of the dossiers changed meanwhile, a round at
                # a time (timers are looked at again between rounds; no sleep while any is left)
                deferred_since = _facts_deferral(engine, deferred_since)
                if deferred_since is None:
                    busy = engine.refresh_report_facts(limit=IDLE_FACTS, wait=False) > 0
            except Exception:
                log.exception("report facts refresh crashed")
        if not busy:
            stop.wait(interval)


def _facts_deferral(engine: Engine, since: datetime | None) -> datetime | None:
    """When this idle worker began putting off the facts refresh, or None to refresh now.

    While peers still fire due timers (this worker's claim came back empty because they hold the
    rest), a refresh would take a core from them: a drain of thousands of SLA timers ran a quarter
    slower with one worker refreshing beside three firing. It is put off for at most
    :data:`FACTS_DEFER`, so a timer that keeps failing (and so stays due) cannot starve the reports.
    """
    if not engine.timers_due():
        return None
    now = engine.lease_clock.now()
    if since is None:
        return now
    return None if now - since >= FACTS_DEFER else since


def _seal_if_new_day(engine: Engine, sealed_day: object) -> object:
    """Seal finished days (audit digest) once per local day seen on the engine's clock."""
    from .sla import LOCAL_TZ

    today = engine.clock.now().astimezone(LOCAL_TZ).date()
    if today == sealed_day:
        return sealed_day
    try:
        engine.seal_finished_days()
    except Busy:  # another process is sealing: look again on the next pass
        return sealed_day
    except Exception:  # a database error: the next pass retries
        log.exception("daily seal failed")
        return sealed_day
    return today


def _seal_if_new_hour(engine: Engine, sealed_hour: object) -> object:
    """Checkpoint-seal the current day once per local hour, so no dossier stays unsealed for long."""
    from .sla import LOCAL_TZ

    hour = engine.clock.now().astimezone(LOCAL_TZ).replace(minute=0, second=0, microsecond=0)
    if hour == sealed_hour:
        return sealed_hour
    try:
        engine.seal_current_hour()
    except Busy:  # another process is sealing (this hour or a day): look again on the next pass
        return sealed_hour
    except Exception:  # a database error: the next pass retries
        log.exception("hourly seal failed")
        return sealed_hour
    return hour


def _compact_if_new_hour(engine: Engine, compacted_hour: object) -> object:
    """Fold the SLA board's count deltas once per hour (engine.board.compact), so the board sums
    one row per key and coming hour instead of every delta written since."""
    hour = engine.clock.now().replace(minute=0, second=0, microsecond=0)
    if hour == compacted_hour:
        return compacted_hour
    try:
        engine.compact_board()
    except Busy:  # another worker is compacting: the next pass looks again
        return compacted_hour
    except Exception:  # a database error: the next pass retries
        log.exception("board compaction failed")
        return compacted_hour
    return hour
