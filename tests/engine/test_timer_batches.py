"""Events-only SLA timers fire many to a transaction, still exactly once, and a failing one is isolated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from engine.cases import _CHANGING
from engine.clock import FixedClock
from engine.models import Case, CaseEvent, Timer
from engine.service import Engine
from engine.timers import fire_due
from tests.engine.test_workers import fired_report, seed_timers


def _commits(engine: Engine) -> list[int]:
    seen = [0]

    def count(_conn: Any) -> None:
        seen[0] += 1

    event.listen(engine.db.engine, "commit", count)
    return seen


def test_sla_timers_fire_in_batches_exactly_once(engine: Engine, clock: FixedClock) -> None:
    ids = seed_timers(engine, n_sla=60, n_bpmn=4, first_due=clock.now(), spread=timedelta(0))
    clock.advance(timedelta(days=2))
    commits = _commits(engine)
    result = engine.fire_due_timers(limit=1000, batch=64)
    assert (result.fired, result.skipped) == (64, 0)
    report = fired_report(engine.db, ids)
    assert report["proved_once"] == report["proof_events"] == 64 and report["broken_chains"] == {}
    # One claim, one transaction for the 60 SLA timers, one per BPMN timer, and the empty last claim.
    assert commits[0] == 1 + 1 + 4 + 1
    assert engine.fire_due_timers().fired == 0


def test_a_failing_timer_rolls_its_batch_back_and_only_it_is_left(
    engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed_timers(engine, n_sla=10, n_bpmn=0, first_due=clock.now(), spread=timedelta(0))
    clock.advance(timedelta(days=2))
    bad_case = ids[3]
    real = engine.cases.fire_timer

    def fire(session: Any, case: Any, timer: Timer) -> bool:
        if case.id == bad_case:
            raise RuntimeError("injected failure")
        return real(session, case, timer)

    monkeypatch.setattr(engine.cases, "fire_timer", fire)
    result = engine.fire_due_timers(limit=10, batch=10)
    assert (result.fired, result.skipped) == (9, 1)
    with engine.db.read() as session:
        unfired = session.scalars(select(Timer.case_id).where(Timer.fired_at.is_(None))).all()
    assert list(unfired) == [bad_case]  # its lease is kept: retried when it runs out
    report = fired_report(engine.db, [i for i in ids if i != bad_case])
    assert report["proved_once"] == report["proof_events"] == 9 and report["broken_chains"] == {}


def test_a_batch_writes_each_case_row_once_with_its_chain_and_version(
    engine: Engine, clock: FixedClock
) -> None:
    ids = seed_timers(engine, n_sla=12, n_bpmn=0, first_due=clock.now(), spread=timedelta(0))
    with engine.db.read() as session:
        before = dict(session.execute(select(Case.id, Case.version).where(Case.id.in_(ids))).all())
    clock.advance(timedelta(days=2))
    assert engine.fire_due_timers(limit=100, batch=100).fired == 12
    with engine.db.read() as session:
        for case in session.scalars(select(Case).where(Case.id.in_(ids))):
            last = session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
            ).first()
            assert last is not None and last.kind == "sla_breach"
            assert (case.last_seq, case.last_hash) == (last.seq, last.hash)
            assert case.version == before[case.id] + 1
            assert "receipt_overdue" in case.sla["flags"]


def test_a_batch_stamps_its_timers_fired_in_one_statement(engine: Engine, clock: FixedClock) -> None:
    ids = seed_timers(engine, n_sla=12, n_bpmn=0, first_due=clock.now(), spread=timedelta(0))
    clock.advance(timedelta(days=2))
    stamps: list[bool] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
        if statement.startswith("UPDATE timers SET fired_at"):
            stamps.append(many)

    event.listen(engine.db.engine, "before_cursor_execute", seen)
    assert engine.fire_due_timers(limit=100, batch=100).fired == 12
    # One statement for the batch; on PostgreSQL not even an executemany (one round trip per row).
    assert len(stamps) == 1 and (engine.db.is_sqlite or stamps == [False])
    with engine.db.read() as session:
        fired = session.scalars(select(Timer.fired_at).where(Timer.case_id.in_(ids))).all()
    assert len(fired) == 12 and set(fired) == {clock.now()}


def _written(engine: Engine, ids: list[int]) -> list[tuple[object, ...]]:
    """What firing wrote for these cases, without what differs between clones (ids, codes, and
    the hashes, which chain over the code): the case columns a batch updates, and every event."""
    with engine.db.read() as session:
        cases = session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)).all()
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.case_id, CaseEvent.seq)
        ).all()
        rows: list[tuple[object, ...]] = [
            (*(getattr(c, n) for n in _CHANGING if n != "last_hash"), c.version) for c in cases
        ]
        rows += [
            (e.seq, e.at, e.actor, e.kind, e.task_id, e.element_id, e.status_from, e.status_to, e.payload)
            for e in events
        ]
    return rows


def test_a_batch_writes_what_firing_one_by_one_writes_in_one_statement_each(
    engine: Engine, clock: FixedClock
) -> None:
    """PostgreSQL writes a batch's case rows and events with one set-based statement each (where
    an executemany ran one statement per row on the server); the rows are the very ones a batch
    of one writes through the per-row statements (SQLite: executemany, the same comparison)."""
    due = clock.now()
    singles = seed_timers(engine, n_sla=6, n_bpmn=0, first_due=due, spread=timedelta(0), prefix="S")
    batched = seed_timers(engine, n_sla=6, n_bpmn=0, first_due=due, spread=timedelta(0), prefix="B")
    clock.advance(timedelta(days=2))
    fire_due(  # the first six due (the singles: seeded first, so claimed first), one to a transaction
        engine._uow,
        engine.cases,
        clock=clock,
        lease_clock=engine.lease_clock,
        owner="singles",
        limit=6,
        events_only_batch=1,
    )
    assert _written(engine, batched)[0] != _written(engine, singles)[0]  # the batch's not fired yet
    writes: list[tuple[str, bool]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
        if statement.startswith(("UPDATE cases", "INSERT INTO case_events")):
            writes.append((statement.split(" (")[0].split(" SET")[0], many))

    event.listen(engine.db.engine, "before_cursor_execute", seen)
    assert engine.fire_due_timers(limit=100, batch=100).fired == 6
    event.remove(engine.db.engine, "before_cursor_execute", seen)
    assert sorted(w for w, _ in writes) == ["INSERT INTO case_events", "UPDATE cases"]
    assert engine.db.is_sqlite or [many for _, many in writes] == [False, False]
    assert _written(engine, batched) == _written(engine, singles)
