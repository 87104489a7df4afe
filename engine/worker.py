"""The timer worker: fires due timers in a loop (``python run.py worker``, or embedded in ``serve``)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from .errors import MotcuaError

if TYPE_CHECKING:
    from .service import Engine

log = logging.getLogger("motcua.worker")


def run_worker(
    engine: Engine, *, interval: float = 1.0, once: bool = False, stop: threading.Event | None = None
) -> None:
    """Poll for due timers until stopped; one failing case never stops the loop."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            result = engine.fire_due_timers()
            if result.fired:
                log.info("fired %d timers", result.fired)
        except MotcuaError as exc:
            log.warning("timer pass failed: %s", exc.message)
        except Exception:  # keep the worker alive; the failure is logged with its traceback
            log.exception("timer pass crashed")
        if once:
            return
        stop.wait(interval)


def start_embedded_worker(engine: Engine, interval: float = 2.0) -> threading.Event:
    """Run the worker in a daemon thread (SQLite default set-up); returns its stop switch."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(engine,),
        kwargs={"interval": interval, "stop": stop},
        name="motcua-timer-worker",
        daemon=True,
    )
    thread.start()
    return stop
