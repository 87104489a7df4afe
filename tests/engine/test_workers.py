"""Timers with many workers: leased claims, exactly-once firing, SIGKILL mid-batch, arrivals under load.

The multi-process tests run on PostgreSQL only (SQLite is a single-writer, embedded set-up); the
lease logic itself is also tested in-process on both backends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select

from engine import audit
from engine.clock import FixedClock
from engine.db import Database
from engine.models import Case, CaseEvent, Timer
from engine.service import Engine
from engine.timers import BUSY, claim_due, fire_claimed, release_claim
from tests.engine.helpers import deploy_fixture

ROOT = Path(__file__).resolve().parents[2]
APPLICANT = {"name": "Lê Văn Hẹn", "email": "le.van.hen@example.vn"}
#: Event that proves a timer fired: SLA timers breach, BPMN timers fire their boundary event.
PROOF = {"receipt_sla": "sla_breach", "bpmn": "timer_fired"}


# ------------------------------------------------------------------------------------ seeding
def seed_timers(
    engine: Engine, *, n_sla: int, n_bpmn: int, first_due: datetime, spread: timedelta, prefix: str = "T"
) -> list[int]:
    """Clone two real cases into ``n_sla + n_bpmn`` cases, each with one timer; due times spread evenly.

    Starting thousands of cases through the engine would take most of the test's time budget, so
    the clones copy a real case row (state, SLA fields) and start their own event chain from genesis.
    SLA clones are online dossiers still awaiting receipt (their timer breaches the 8-hour rule);
    BPMN clones wait on a boundary timer whose firing stops the case (status 8).
    """
    deploy_fixture(engine)
    clerk = engine.actor("clerk")
    sla_code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": APPLICANT, "channel": 2}, clerk
    ).code
    bpmn_code = engine.start_case({"procedure_id": "timer_demo", "applicant": APPLICANT}, clerk).code
    total = n_sla + n_bpmn
    with engine.db.unit_of_work() as session:
        templates = {
            "receipt_sla": session.scalar(select(Case).where(Case.code == sla_code)),
            "bpmn": session.scalar(select(Case).where(Case.code == bpmn_code)),
        }
        bpmn_ref = session.scalar(
            select(Timer.ref).where(Timer.case_id == templates["bpmn"].id, Timer.kind == "bpmn")  # type: ignore[union-attr]
        )
        assert bpmn_ref is not None
        session.execute(delete(Timer).where(Timer.case_id.in_([t.id for t in templates.values() if t])))
        columns = [c.key for c in Case.__table__.columns if c.key not in ("id", "code")]
        rows: list[dict[str, object]] = []
        kinds: list[str] = []
        for i in range(total):
            # Exactly n_bpmn BPMN timers, spread evenly among the SLA ones.
            kind = "bpmn" if (i * n_bpmn) // total != ((i + 1) * n_bpmn) // total else "receipt_sla"
            template = templates[kind]
            row = {c: getattr(template, c) for c in columns}
            row.update(code=f"{prefix}-{i:05d}", last_seq=0, last_hash=audit.GENESIS, version=1)
            rows.append(row)
            kinds.append(kind)
        ids = list(session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), rows))
        step = spread / max(1, total - 1)
        session.execute(
            insert(Timer),
            [
                {
                    "case_id": case_id,
                    "kind": kind,
                    "ref": bpmn_ref if kind == "bpmn" else "receipt_sla",
                    "due_at": first_due + step * i,
                }
                for i, (case_id, kind) in enumerate(zip(ids, kinds, strict=True))
            ],
        )
    return ids


def fired_report(db: Database, case_ids: list[int]) -> dict[str, object]:
    """Counts a reviewer would check: timers fired, proof events per case, intact hash chains."""
    with db.read() as session:
        timers = session.execute(
            select(Timer.case_id, Timer.kind, Timer.due_at, Timer.fired_at, Timer.lease_owner).where(
                Timer.case_id.in_(case_ids)
            )
        ).all()
        proofs = Counter(
            session.execute(
                select(CaseEvent.case_id, CaseEvent.kind).where(
                    CaseEvent.case_id.in_(case_ids), CaseEvent.kind.in_(set(PROOF.values()))
                )
            ).all()
        )
        events = session.execute(
            select(Case.code, CaseEvent)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.case_id.in_(case_ids))
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        ).all()
        chains: dict[str, list[tuple[int, str, str, dict[str, object]]]] = {}
        for code, e in events:
            content = audit.event_content(
                case_code=code,
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                kind=e.kind,
                task_id=e.task_id,
                element_id=e.element_id,
                status_from=e.status_from,
                status_to=e.status_to,
                payload=e.payload,
            )
            chains.setdefault(code, []).append((e.seq, e.prev_hash, e.hash, content))
    broken = {code: b for code, rows in chains.items() if (b := audit.verify_chain(rows)) is not None}
    once = sum(1 for t in timers if proofs[(t.case_id, PROOF[t.kind])] == 1)
    lags = [(t.fired_at - t.due_at).total_seconds() for t in timers if t.fired_at is not None]
    return {
        "timers": len(timers),
        "fired": sum(1 for t in timers if t.fired_at is not None),
        "proved_once": once,
        "proof_events": sum(proofs.values()),
        "broken_chains": broken,
        "owners": Counter(t.lease_owner for t in timers),
        "lags": lags,
    }


def fired_count(db: Database, case_ids: list[int]) -> int:
    with db.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Timer)
                .where(Timer.case_id.between(min(case_ids), max(case_ids)), Timer.fired_at.is_not(None))
            )
            or 0
        )


# ------------------------------------------------------------------------------ in-process tests
def test_claims_are_leased_and_expired_leases_are_reclaimed(engine: Engine, clock: FixedClock) -> None:
    lease_clock = FixedClock(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))
    ids = seed_timers(engine, n_sla=8, n_bpmn=2, first_due=clock.now(), spread=timedelta(0))
    clock.advance(timedelta(days=2))  # past the clones' deadlines (receipt 8 h, BPMN 2 h)
    lease = timedelta(seconds=30)

    def claim(owner: str, limit: int = 100) -> list[int]:
        with engine.db.unit_of_work() as session:
            return claim_due(
                session,
                due_by=engine.clock.now(),
                lease_now=lease_clock.now(),
                owner=owner,
                lease=lease,
                limit=limit,
            )

    first = claim("A", 4)
    rest = claim("B")
    assert len(first) == 4 and len(rest) == 6 and not set(first) & set(rest)
    assert claim("C") == []  # everything is leased
    lease_clock.advance(timedelta(seconds=31))
    retaken = claim("C")
    assert sorted(retaken) == sorted(first + rest)  # A and B are presumed dead: their leases ran out
    # A comes back to life and tries to fire what it had claimed: the timers now belong to C.
    engine.lease_clock = lease_clock
    with engine.db.unit_of_work() as session:
        assert fire_claimed(session, engine.cases, first[0], "A") is None
    result = engine.fire_due_timers(owner="D")
    assert result.fired == 0  # C's leases are still valid
    lease_clock.advance(timedelta(seconds=31))
    result = engine.fire_due_timers(owner="D")
    assert result.fired == 10
    report = fired_report(engine.db, ids)
    assert report["proved_once"] == 10 and report["proof_events"] == 10 and not report["broken_chains"]
    assert engine.fire_due_timers(owner="E").fired == 0


def test_a_claim_walks_the_pending_timers_index_past_a_fired_history(
    engine: Engine, clock: FixedClock
) -> None:
    """The claim reads its batch from ix_timers_pending (unfired timers in firing order), not a
    sort of every due row nor a scan of the fired history, on both databases."""
    from sqlalchemy import event, text

    ids = seed_timers(engine, n_sla=10, n_bpmn=0, first_due=clock.now(), spread=timedelta(hours=1))
    with engine.db.unit_of_work() as session:  # a history of fired timers, as a year leaves
        session.execute(
            insert(Timer),
            [
                {
                    "case_id": ids[i % len(ids)],
                    "kind": "due_sla",
                    "ref": f"past-{i}",
                    "due_at": clock.now() - timedelta(minutes=i),
                    "fired_at": clock.now() - timedelta(minutes=i),
                }
                for i in range(20000)
            ],
        )
    if engine.db.engine.dialect.name == "postgresql":
        with engine.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE timers"))
    seen: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, params: object, *_: object) -> None:
        if "FROM timers" in statement and "ORDER BY timers.due_at, timers.id" in statement:
            seen.append((statement, params))

    clock.advance(timedelta(days=1))
    event.listen(engine.db.engine, "before_cursor_execute", capture)
    try:
        with engine.db.unit_of_work() as session:
            claimed = claim_due(
                session,
                due_by=clock.now(),
                lease_now=clock.now(),
                owner="A",
                lease=timedelta(seconds=30),
                limit=5,
            )
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", capture)
    assert len(claimed) == 5 and len(seen) == 1
    statement, params = seen[0]
    with engine.db.engine.connect() as connection:
        if engine.db.engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(f"EXPLAIN {statement}", params)  # type: ignore[arg-type]
            plan = " ".join(str(r[0]) for r in rows)
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)  # type: ignore[arg-type]
            plan = " ".join(str(r[-1]) for r in rows)
    assert "ix_timers_pending" in plan, plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


def test_bpmn_clone_stops_the_case_when_its_timer_fires(engine: Engine, clock: FixedClock) -> None:
    ids = seed_timers(engine, n_sla=0, n_bpmn=1, first_due=clock.now(), spread=timedelta(0))
    clock.advance(timedelta(days=2))
    assert engine.fire_due_timers().fired == 1
    with engine.db.read() as session:
        case = session.get(Case, ids[0])
        assert case is not None
        assert case.status == 8 and case.completed


def test_a_timer_locked_by_someone_else_is_handed_back_at_once(pg_engine: Engine) -> None:
    """PostgreSQL: a row lock held elsewhere after the claim makes the worker hand the timer back."""
    [case_id] = seed_timers(
        pg_engine, n_sla=1, n_bpmn=0, first_due=pg_engine.clock.now(), spread=timedelta(0)
    )
    assert isinstance(pg_engine.clock, FixedClock)
    pg_engine.clock.advance(timedelta(days=2))
    with pg_engine.db.unit_of_work() as session:
        [timer_id] = claim_due(
            session,
            due_by=pg_engine.clock.now(),
            lease_now=datetime.now(UTC),
            owner="A",
            lease=timedelta(minutes=5),
            limit=10,
        )
    with pg_engine.db.unit_of_work() as other:
        other.execute(select(Timer.id).where(Timer.id == timer_id).with_for_update())
        with pg_engine.db.unit_of_work() as session:  # another connection, while the lock is held
            assert fire_claimed(session, pg_engine.cases, timer_id, "A") == BUSY
    release_claim(pg_engine.db.unit_of_work, timer_id, "A")
    with pg_engine.db.read() as session:
        timer = session.get(Timer, timer_id)
        assert timer is not None and timer.lease_until is None and timer.fired_at is None
    assert pg_engine.fire_due_timers(owner="B").fired == 1
    assert fired_report(pg_engine.db, [case_id])["proved_once"] == 1


# ------------------------------------------------------------------------------ worker processes
def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def start_worker(url: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """``python run.py worker`` on the real clock; its log goes to a file so no pipe can fill up."""
    return subprocess.Popen(
        [sys.executable, "run.py", "worker", "--db", url, "--interval", "0.1", "--batch", "10", *extra],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env=_env(),
    )


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def stop_all(procs: list[subprocess.Popen[bytes]]) -> list[int | None]:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=30))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes


@pytest.mark.slow
def test_four_workers_fire_5000_timers_exactly_once(
    postgres_url: str, pg_engine: Engine, tmp_path: Path
) -> None:
    logs = [tmp_path / f"worker{i}.log" for i in range(4)]
    workers = [start_worker(postgres_url, log) for log in logs]
    try:
        wait_for(lambda: all("worker started" in log.read_text() for log in logs), 60, "4 workers")
        # 1. A backlog of 1,000 timers all due at once: the workers compete for the same rows.
        backlog = seed_timers(
            pg_engine,
            n_sla=900,
            n_bpmn=100,
            first_due=datetime.now(UTC) - timedelta(seconds=1),
            spread=timedelta(0),
            prefix="B",
        )
        wait_for(lambda: fired_count(pg_engine.db, backlog) == len(backlog), 600, "the backlog fired")
        # 2. 4,000 timers falling due over 20 s of real time, while the workers keep polling: timers
        # that arrive while others are being fired are still fired exactly once.
        window = 20.0
        steady = seed_timers(
            pg_engine,
            n_sla=3600,
            n_bpmn=400,
            first_due=datetime.now(UTC) + timedelta(seconds=5),
            spread=timedelta(seconds=window),
            prefix="S",
        )
        wait_for(lambda: fired_count(pg_engine.db, steady) == len(steady), window + 600, "4,000 fired")
    finally:
        codes = stop_all(workers)
    assert codes == [0, 0, 0, 0], [log.read_text()[-2000:] for log in logs]
    report = fired_report(pg_engine.db, backlog + steady)
    assert report["timers"] == report["fired"] == report["proved_once"] == report["proof_events"] == 5000
    assert report["broken_chains"] == {}
    owners = report["owners"]
    assert isinstance(owners, Counter) and len(owners) == 4, owners  # every worker took a share
    lags = fired_report(pg_engine.db, steady)["lags"]
    assert isinstance(lags, list) and len(lags) == 4000
    # Correctness only: no timer fired before it fell due. How long a timer waits depends on the
    # machine's load, so lag and throughput are measured by `python run.py bench`, never asserted here.
    assert min(lags) >= 0, min(lags)


VICTIM = """
import sys, time
from engine import cases
from engine.db import Database
from engine.service import Engine
from engine.worker import run_worker

flushes = 0

def pause(_code):
    global flushes
    flushes += 1
    if flushes == int(sys.argv[2]):
        print("FLUSHED", flush=True)  # this timer's rows are written inside the open transaction
        time.sleep(600)

cases.after_flush_hook = pause
run_worker(Engine(Database(sys.argv[1])), interval=0.1, batch=50, lease_seconds=float(sys.argv[3]))
"""


@pytest.mark.slow
def test_sigkill_mid_batch_loses_and_doubles_nothing(
    postgres_url: str, pg_engine: Engine, tmp_path: Path
) -> None:
    ids = seed_timers(
        pg_engine,
        n_sla=250,
        n_bpmn=50,
        first_due=datetime.now(UTC) - timedelta(minutes=1),
        spread=timedelta(seconds=1),
    )
    victim = subprocess.Popen(
        [sys.executable, "-c", VICTIM, postgres_url, "20", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "victim.log").open("wb"),
        env=_env(),
    )
    try:
        assert victim.stdout is not None
        line = victim.stdout.readline().decode()
        assert line.strip() == "FLUSHED", (tmp_path / "victim.log").read_text()[-3000:]
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    killed_at = datetime.now(UTC)
    assert victim.returncode == -signal.SIGKILL
    mark = f":{victim.pid}:"
    with pg_engine.db.read() as session:
        rows = session.execute(select(Timer.fired_at, Timer.lease_owner).where(Timer.case_id.in_(ids))).all()
    held = [r for r in rows if r.lease_owner and mark in r.lease_owner]
    assert len(held) == 50  # one claimed batch
    # Its SLA timers are fired in one transaction, and the 20th flush was inside it: killed before
    # COMMIT, none of them stays fired (nor any BPMN timer of the batch: they come after).
    assert sum(1 for r in held if r.fired_at is not None) == 0
    logs = [tmp_path / f"rescuer{i}.log" for i in range(2)]
    rescuers = [start_worker(postgres_url, log, "--lease", "3") for log in logs]
    try:
        wait_for(lambda: fired_count(pg_engine.db, ids) == len(ids), 90, "every timer fired")
    finally:
        codes = stop_all(rescuers)
    assert codes == [0, 0]
    report = fired_report(pg_engine.db, ids)
    assert report["fired"] == report["proved_once"] == report["proof_events"] == 300
    assert report["broken_chains"] == {}
    with pg_engine.db.read() as session:
        retaken = session.execute(
            select(Timer.fired_at, Timer.lease_owner).where(Timer.case_id.in_(ids))
        ).all()
    by_victim = [r for r in retaken if r.lease_owner and mark in r.lease_owner]
    assert by_victim == []  # the 50 it held but had not committed went to the rescuers...
    late = [r for r in retaken if r.fired_at is not None and r.fired_at >= killed_at]
    assert len(late) == 300  # ...and were fired after the kill, once each
