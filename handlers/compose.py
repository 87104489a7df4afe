"""The composition root: one place that builds the engine with its outbox handlers.

``run.py serve`` (web + embedded worker), ``run.py worker`` and ``wsgi.py`` all start from here, so
an e-mail, SMS, portal or payment message queued under any of them is delivered by the same
handlers, configured by the same ``MOTCUA_*`` environment.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.db import Database, default_url
from engine.service import Engine
from engine.sessions import session_store_from_env
from engine.settings import EngineSettings
from engine.worker import run_worker

from . import HandlerSettings, build_handlers


@dataclass(frozen=True)
class Composition:
    """An engine and the handlers its worker delivers messages with."""

    engine: Engine
    handlers: Mapping[str, Any]
    settings: HandlerSettings

    def start_worker(self, interval: float = 2.0) -> threading.Event:
        """Run the timer/outbox worker in a daemon thread; returns its stop switch."""
        stop = threading.Event()
        thread = threading.Thread(
            target=run_worker,
            args=(self.engine,),
            kwargs={"interval": interval, "stop": stop, "handlers": self.handlers},
            name="motcua-worker",
            daemon=True,
        )
        thread.start()
        return stop


def compose(engine: Engine | None = None, env: Mapping[str, str] | None = None) -> Composition:
    """Wire ``engine`` (default: from the environment's database URL and settings) to its handlers."""
    if engine is None:
        db = Database(default_url())
        engine = Engine(db, settings=EngineSettings.from_env(), sessions=session_store_from_env(db))
    settings = HandlerSettings.from_env(env)
    return Composition(engine, build_handlers(settings, engine), settings)
