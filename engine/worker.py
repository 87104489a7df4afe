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
from typing import TYPE_CHECKING, Any

from .errors import MotcuaError
from .timers import DEFAULT_BATCH, DEFAULT_LEASE_SECONDS, EVENTS_ONLY_BATCH

if TYPE_CHECKING:
    from .service import Engine

log = logging.getLogger("motcua.worker")

#: Dossiers whose report facts an idle worker recomputes per round (one facts_store chunk).
IDLE_FACTS = 500


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
                busy = engine.refresh_report_facts(limit=IDLE_FACTS, wait=False) > 0
            except Exception:
                log.exception("report facts refresh crashed")
        if not busy:
            stop.wait(interval)


def _seal_if_new_day(engine: Engine, sealed_day: object) -> object:
    """Seal finished days (audit digest) once per local day seen on the engine's clock."""
    from .sla import LOCAL_TZ

    today = engine.clock.now().astimezone(LOCAL_TZ).date()
    if today == sealed_day:
        return sealed_day
    try:
        engine.seal_finished_days()
    except Exception:  # another worker may be sealing the same day; the next day retries
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
    except Exception:  # a concurrent worker may have sealed it; the next pass retries
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
    except Exception:  # a concurrent worker's compaction or a busy database: the next pass retries
        log.exception("board compaction failed")
        return compacted_hour
    return hour
