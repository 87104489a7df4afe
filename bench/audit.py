"""Auditor benchmarks for ``python run.py bench``: replaying a long case, verifying many events.

The replay case is made by the real engine (a copy request sent back by the head of department again
and again, so each loop is two completed steps and their derived events); the 100k events to verify
are written straight to the table with valid hash chains, because what is measured is verification,
not case creation. Reads the wall clock (``time.perf_counter``) like every benchmark.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from engine import audit, audit_store, integrity
from engine.cases import find_case
from engine.clock import FixedClock
from engine.db import Database
from engine.models import Case, CaseEvent, ProcedureVersion
from engine.replay import rebuild, replay
from engine.service import Engine
from engine.settings import EngineSettings
from engine.users import Actor

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 08:00 local
# The director's role lets one benchmark account work the steps of every unit (engine.access).
STAFF = Actor("bench", "Benchmark", frozenset({"desk_clerk", "specialist", "head_of_department", "director"}))


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def long_case(engine: Engine, events: int) -> tuple[str, float]:
    """A diploma-copy dossier with at least ``events`` events (verify → send back → verify …), and the
    milliseconds its live operations (every start and completion) took."""
    t0 = time.perf_counter()
    view = engine.start_case({"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Văn Dài"}}, STAFF)
    engine.complete_task(
        view.code, "receipt_check", {"decision": "accept", "checked_documents": ["TP1", "TP2"]}, STAFF
    )
    live = (time.perf_counter() - t0) * 1000
    found = {"found": True, "register_ref": "Sổ gốc 2015", "copies": 1}
    count = len(engine.events(view.code))
    while count < events:
        t0 = time.perf_counter()
        engine.complete_task(view.code, "verify_register", found, STAFF)
        engine.complete_task(view.code, "approve_copy", {"approved": False, "comment": "Kiểm tra lại"}, STAFF)
        live += (time.perf_counter() - t0) * 1000
        count += 4  # two task_completed + two task_ready
    return view.code, live


@dataclass(frozen=True)
class ReplayFigures:
    """One long case: its size, what its live operations cost, and the two ways to read it back."""

    events: int
    live_ms: float  # every operation that wrote the case, through the runtime and the database
    rebuild_ms: list[float]  # the state after every event, from the events (engine.replay.rebuild)
    deep_ms: list[float]  # re-execution through the runtime's rules (engine.replay.replay, fast)
    check_ms: list[float]  # audit replay as the auditor runs it (database read + snapshot check)


def replay_samples(quick: bool) -> ReplayFigures:
    """A case of 500 events (100 when quick) read back three ways, all in this run."""
    size, runs = (100, 3) if quick else (500, 5)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Database(f"sqlite:///{Path(tmp) / 'replay.sqlite3'}"), clock=FixedClock(START))
        engine.init_db(load_library=True, seed_users=False)
        code, live = long_case(engine, size)
        with engine.db.read() as session:
            case = find_case(session, code)
            events = audit_store.case_events(session, case.id)
            spec = audit_store.version_spec(session, engine.procedures, case)
            calendar_at = audit_store.calendar_history(session, engine.calendar.current)
        facts = spec.facts()

        def rebuilt() -> None:
            if rebuild(facts, events, calendar_at).divergence is not None:
                raise RuntimeError("rebuild diverged")

        def deep() -> None:
            result = replay(spec, events, audit_store.script_engine_for, calendar_at, mode="fast")
            if result.divergence is not None:
                raise RuntimeError(f"replay diverged: {result.divergence}")

        def checked() -> None:
            report = engine.replay_case(code)
            if not report.ok:
                raise RuntimeError(f"replay diverged: {report.divergence}")

        figures = ReplayFigures(
            events=len(events),
            live_ms=live,
            rebuild_ms=_timed(rebuilt, runs),
            deep_ms=_timed(deep, runs),
            check_ms=_timed(checked, 3),
        )
        engine.db.dispose()
    return figures


def seed_chains(db: Database, cases: int, per_case: int, chunk: int = 20_000) -> int:
    """Insert ``cases`` dossiers with ``per_case`` hash-chained events each; returns the event count."""
    with db.read() as session:
        version_id = int(session.scalar(select(ProcedureVersion.id).limit(1)) or 0)
    rows: list[dict[str, Any]] = []
    total = 0
    for n in range(1, cases + 1):
        code = f"H99.12-260302-B{n:06d}"
        prev = audit.GENESIS
        events: list[dict[str, Any]] = []
        for seq in range(1, per_case + 1):
            at = START + timedelta(minutes=seq)
            payload = {"data": {"step": seq, "note": "Đã kiểm tra"}}
            content = audit.event_content(
                case_code=code,
                seq=seq,
                at=at,
                actor="bench",
                kind="task_completed",
                task_id=None,
                element_id="verify_register",
                status_from=None,
                status_to=None,
                payload=payload,
            )
            fields = {k: content[k] for k in ("seq", "actor", "kind", "task_id", "element_id")}
            fields.update(at=at, status_from=None, status_to=None)
            digest = audit.chain_hash(prev, content)
            events.append({**fields, "payload": payload, "prev_hash": prev, "hash": digest})
            prev = digest
        rows.append({"code": code, "last_hash": prev, "events": events})
        total += per_case
    _bulk_insert(db, rows, per_case, version_id, chunk)
    return total


def _bulk_insert(
    db: Database, rows: list[dict[str, Any]], per_case: int, version_id: int, chunk: int
) -> None:
    with db.unit_of_work() as session:
        first = int(session.scalar(select(func.coalesce(func.max(Case.id), 0))) or 0) + 1
        session.execute(
            insert(Case),
            [
                {
                    "id": first + i,
                    "code": r["code"],
                    "procedure_id": "diploma_copy",
                    "procedure_version_id": version_id,
                    "applicant_name": "Bench",
                    "applicant": {"name": "Bench"},
                    "channel": 1,
                    "status": 4,
                    "submitted_at": START,
                    "completed": False,
                    "sla": {},
                    "data": {},
                    "state": "",
                    "last_seq": per_case,
                    "last_hash": r["last_hash"],
                    "version": 1,
                }
                for i, r in enumerate(rows)
            ],
        )
        batch: list[dict[str, Any]] = []
        for i, r in enumerate(rows):
            batch.extend({**e, "case_id": first + i} for e in r["events"])
            if len(batch) >= chunk:
                session.execute(insert(CaseEvent), batch)
                batch = []
        if batch:
            session.execute(insert(CaseEvent), batch)


def verify_samples(quick: bool) -> tuple[int, list[float]]:
    """Milliseconds to verify every chain of 100k events (10k when quick) on SQLite."""
    cases, runs = (500, 3) if quick else (5_000, 3)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'verify.sqlite3'}")
        Engine(db, clock=FixedClock(START), settings=EngineSettings()).init_db(
            load_library=True, seed_users=False
        )
        total = seed_chains(db, cases, 20)

        def run() -> None:
            with db.read() as session:
                report = integrity.verify(session)
            if not report.ok or report.events != total:
                raise RuntimeError(f"verification failed: {report.findings[:3]}")

        samples = _timed(run, runs)
        db.dispose()
    return total, samples
