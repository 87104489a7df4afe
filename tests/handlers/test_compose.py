"""The composition root: ``serve``'s embedded worker delivers the outbox with the configured handlers
(the same ones ``run.py worker`` and ``wsgi.py`` get)."""

from __future__ import annotations

import time

from engine.outbox import SMS
from engine.service import Engine
from handlers.compose import compose


def test_the_embedded_worker_delivers_queued_messages(engine: Engine) -> None:
    composition = compose(engine, env={"MOTCUA_SMS": "record"})
    assert SMS in composition.handlers
    code = engine.start_case(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": "Lý Thị Thu", "phone": "0912345678"},
            "channel": 2,
        },
        engine.actor("citizen"),
    ).code
    queued = [m for m in engine.case_outbox(code) if m.handler == SMS]
    assert queued and all(m.state == "pending" for m in queued)
    engine.lease_clock = engine.clock  # deliveries are due at the engine's (fixed) time
    stop = composition.start_worker(interval=0.05)
    try:
        for _ in range(400):  # bounded wait for the thread; the assertion is on the outcome, not the time
            if all(m.state == "delivered" for m in engine.case_outbox(code) if m.handler == SMS):
                break
            time.sleep(0.05)
    finally:
        stop.set()
    assert all(m.state == "delivered" for m in engine.case_outbox(code) if m.handler == SMS)


def test_without_configuration_no_handler_is_built(engine: Engine) -> None:
    assert compose(engine, env={}).handlers == {}
