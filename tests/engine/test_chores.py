"""The chores every worker runs (audit seals, board compaction, the report facts refresh) against
several processes: one does each at a time, the rest skip or wait, and a timer drain is not slowed
by an idle worker's refresh.

Several processes are modelled by several sessions of one database (PostgreSQL, where the advisory
locks live; SQLite runs one write transaction at a time, so it has nothing to race).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text

from engine import integrity, locks, worker
from engine.clock import FixedClock
from engine.errors import Busy
from engine.models import AuditDigest, AuditDigestEntry, Case, Timer
from engine.service import Engine
from tests.support.fixtures import vn


def _without_seals(engine: Engine) -> Engine:
    """Seals are not case tables, so the shared clean-up leaves them: each test starts without any."""
    with engine.db.unit_of_work() as session:
        session.execute(delete(AuditDigestEntry))
        session.execute(delete(AuditDigest))
    return engine


@pytest.fixture
def any_engine(engine: Engine) -> Engine:
    """SQLite and PostgreSQL."""
    return _without_seals(engine)


@pytest.fixture
def pg_only(pg_engine: Engine) -> Engine:
    """PostgreSQL only: the advisory locks live there."""
    return _without_seals(pg_engine)


def _digests(engine: Engine) -> list[str]:
    with engine.db.read() as session:
        return list(session.scalars(select(AuditDigest.day).order_by(AuditDigest.id)))


def _start(engine: Engine, name: str) -> str:
    return engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": name}, "channel": 2}, engine.actor("citizen")
    ).code


def _wait_for_a_waiting_lock(engine: Engine) -> None:
    """Until some session waits for an advisory lock (the thread under test has reached it)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.db.engine.connect() as conn:
            waiting = conn.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
        if waiting:
            return
        time.sleep(0.05)
    raise AssertionError("no session ever waited for the seal lock")


def test_a_seal_waits_for_one_under_way_and_links_to_it(pg_only: Engine, clock: FixedClock) -> None:
    """Two seals at once (two days sealed from two places): the second waits for the first to
    commit and links to it, so the chain of seals stays one line. Without the lock both linked to
    the same previous seal, and ``audit verify`` reported the chain broken."""
    engine = pg_only
    _start(engine, "Niêm phong")
    clock.set(vn(2026, 3, 4, 0, 30))  # two days have ended
    outcome: dict[str, object] = {}

    def seal_the_second_day() -> None:
        try:
            outcome["day"] = engine.seal_day(date(2026, 3, 3))
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    with engine.db.unit_of_work() as session:
        first = integrity.record_digest(session, date(2026, 3, 2), clock.now())
        sealer = threading.Thread(target=seal_the_second_day)
        sealer.start()
        _wait_for_a_waiting_lock(engine)
        assert sealer.is_alive()  # waits while the first seal is uncommitted
    sealer.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert _digests(engine) == ["2026-03-02", "2026-03-03"]
    with engine.db.read() as session:
        second = session.scalar(select(AuditDigest).where(AuditDigest.day == "2026-03-03"))
        assert second is not None and second.prev_seal == first.seal
    assert engine.verify_history().ok


def test_two_seals_one_after_another_form_one_chain(any_engine: Engine, clock: FixedClock) -> None:
    """The lock must not cost the ordinary path anything: a worker's day seal and the next hour's
    checkpoint, one after the other, each link to the one before (both databases)."""
    engine = any_engine
    _start(engine, "Nối chuỗi")
    clock.set(vn(2026, 3, 3, 9, 10))
    assert [v.day for v in engine.seal_finished_days()] == ["2026-03-02"]
    sealed = engine.seal_current_hour()
    assert sealed is not None and sealed.day == "2026-03-03T09:00"
    assert _digests(engine) == ["2026-03-02", "2026-03-03T09:00"]
    assert engine.verify_history().ok


def test_a_worker_skips_a_seal_or_compaction_another_process_is_doing(
    pg_only: Engine, clock: FixedClock
) -> None:
    """While another transaction holds a chore, the worker's pass gets Busy at once, writes
    nothing and keeps the chore due for its next pass, which does it."""
    engine = pg_only
    _start(engine, "Bận")
    clock.set(vn(2026, 3, 3, 9, 10))
    with engine.db.unit_of_work() as holder:
        assert locks.hold(holder, locks.Chore.AUDIT_SEAL, wait=False)
        assert locks.hold(holder, locks.Chore.BOARD_COMPACT, wait=False)
        with pytest.raises(Busy):
            engine.seal_current_hour()
        with pytest.raises(Busy):
            engine.seal_finished_days()
        with pytest.raises(Busy):
            engine.compact_board()
        # The worker's own wrappers: quiet, and the chore stays due (the old marker comes back).
        assert worker._seal_if_new_hour(engine, None) is None
        assert worker._seal_if_new_day(engine, None) is None
        assert worker._compact_if_new_hour(engine, None) is None
    assert _digests(engine) == []
    assert worker._seal_if_new_day(engine, None) == date(2026, 3, 3)
    assert worker._seal_if_new_hour(engine, None) is not None
    assert worker._compact_if_new_hour(engine, None) is not None
    assert _digests(engine) == ["2026-03-02", "2026-03-03T09:00"]
    assert engine.verify_history().ok


def _leased_elsewhere(engine: Engine, code: str, due: datetime) -> None:
    """A due SLA timer of the case that a peer worker holds (lease running)."""
    with engine.db.unit_of_work() as session:
        case_id = session.scalar(select(Case.id).where(Case.code == code))
        session.execute(
            insert(Timer).values(
                case_id=case_id,
                kind="due_sla",
                ref="peer",
                due_at=due,
                lease_owner="peer:1:1",
                lease_until=engine.lease_clock.now() + timedelta(minutes=5),
            )
        )


def _stale(engine: Engine) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(func.count()).where(Case.last_seq > Case.facts_seq)) or 0)


def _idle_passes(
    engine: Engine, passes: int, refreshes: int, each_pass: Callable[[], object] = lambda: None
) -> list[int]:
    """Run the worker loop until ``passes`` idle passes (each first calling ``each_pass``) or
    ``refreshes`` refreshes, whichever comes first; the refreshes it made, with their counts (a
    loop that never asks about timers still ends)."""
    refreshed: list[int] = []
    seen = 0
    stop = threading.Event()
    due, refresh = engine.timers_due, engine.refresh_report_facts

    def counted_due() -> bool:
        nonlocal seen
        seen += 1
        if seen >= passes:
            stop.set()
        each_pass()
        return due()

    def counted_refresh(limit: int | None = None, wait: bool = True) -> int:
        refreshed.append(refresh(limit=limit, wait=wait))
        if len(refreshed) >= refreshes:
            stop.set()
        return refreshed[-1]

    engine.timers_due = counted_due  # type: ignore[method-assign]
    engine.refresh_report_facts = counted_refresh  # type: ignore[method-assign]
    try:
        worker.run_worker(engine, interval=0, stop=stop)
    finally:
        del engine.timers_due, engine.refresh_report_facts
    return refreshed


def test_an_idle_worker_puts_off_the_facts_refresh_while_peers_fire_due_timers(
    any_engine: Engine, clock: FixedClock
) -> None:
    """Its own claim came back empty because a peer holds the due timer: no refresh for up to
    FACTS_DEFER of real time (the lease clock), then one round, then put off again; with no
    timer due it refreshes at once."""
    engine = any_engine
    lease = FixedClock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    engine.lease_clock = lease
    code = _start(engine, "Đợi lượt")
    _leased_elsewhere(engine, code, clock.now() - timedelta(minutes=1))
    assert _stale(engine) == 1

    assert _idle_passes(engine, 3, 3) == []  # three idle passes, the refresh put off
    assert _stale(engine) == 1
    lease.advance(worker.FACTS_DEFER - timedelta(seconds=1))
    assert _idle_passes(engine, 2, 2) == []  # a new loop starts its own deferral
    lease.advance(timedelta(seconds=1))
    assert worker._facts_deferral(engine, lease.now() - worker.FACTS_DEFER) is None  # time is up
    assert worker._facts_deferral(engine, lease.now()) == lease.now()  # still putting off

    with engine.db.unit_of_work() as session:  # the peer fired it
        session.execute(delete(Timer).where(Timer.ref == "peer"))
    assert _idle_passes(engine, 2, 2)[0] == 1
    assert _stale(engine) == 0


def test_a_timer_that_stays_due_cannot_starve_the_facts_refresh(
    any_engine: Engine, clock: FixedClock
) -> None:
    """A timer a peer keeps failing stays due for ever: after FACTS_DEFER of putting off, the loop
    refreshes a round anyway."""
    engine = any_engine
    lease = FixedClock(datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    engine.lease_clock = lease
    code = _start(engine, "Kẹt")
    _leased_elsewhere(engine, code, clock.now() - timedelta(minutes=1))
    # Each idle pass takes 2 s of real time: the fourth is past FACTS_DEFER and refreshes.
    refreshed = _idle_passes(engine, 10, 1, lambda: lease.advance(timedelta(seconds=2)))
    assert refreshed == [1]
    assert _stale(engine) == 0
