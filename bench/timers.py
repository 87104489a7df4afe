"""Timer benchmarks for ``python run.py bench``: throughput of a due backlog, and lag under load.

Thousands of cases are cloned from one real online dossier awaiting receipt (each clone with its
own receipt-SLA timer and its own event chain), because starting them through the engine would
measure case creation, not timers. Lag is ``fired_at − due_at`` on the real clock: workers run
without ``--now`` and the timers fall due spread over a window at about half the measured
throughput, so the figure is what a timer waits under a sustained load.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from engine import audit
from engine.clock import FixedClock
from engine.db import Database
from engine.models import Case, Timer
from engine.service import Engine
from engine.users import SYSTEM

from .stats import Summary, summarise

ROOT = Path(__file__).resolve().parent.parent
PROCEDURE = "diploma_copy"


def clone_due_timers(engine: Engine, n: int, first_due: datetime, spread: timedelta) -> list[int]:
    """``n`` clones of one online dossier awaiting receipt, each with a receipt-SLA timer."""
    code = engine.start_case(
        {"procedure_id": PROCEDURE, "applicant": {"name": "Hẹn giờ"}, "channel": 2}, SYSTEM
    ).code
    with engine.db.unit_of_work() as session:
        template = session.scalar(select(Case).where(Case.code == code))
        assert template is not None
        columns = [c.key for c in Case.__table__.columns if c.key not in ("id", "code")]
        stamp = int(time.time() * 1000) % 10**9
        rows = [
            {
                **{c: getattr(template, c) for c in columns},
                "code": f"TB-{stamp}-{i:06d}",
                "last_seq": 0,
                "last_hash": audit.GENESIS,
                "version": 1,
            }
            for i in range(n)
        ]
        ids = list(session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), rows))
        step = spread / max(1, n - 1)
        session.execute(
            insert(Timer),
            [
                {"case_id": cid, "kind": "receipt_sla", "ref": "receipt_sla", "due_at": first_due + step * i}
                for i, cid in enumerate(ids)
            ],
        )
    return ids


def _any_pending(db: Database, ids: list[int]) -> bool:
    """Whether a timer of these cases is still unfired: one probe of the pending-timers index, so
    the bench's polling costs the cores the workers share next to nothing (a count of the fired
    ones reads every timer of the range)."""
    with db.read() as session:
        found = session.scalar(
            select(Timer.id).where(Timer.fired_at.is_(None), Timer.case_id.between(ids[0], ids[-1])).limit(1)
        )
    return found is not None


def _lags_ms(db: Database, ids: list[int]) -> list[float]:
    with db.read() as session:
        rows = session.execute(
            select(Timer.due_at, Timer.fired_at).where(Timer.case_id.between(ids[0], ids[-1]))
        ).all()
    return [(f - d).total_seconds() * 1000 for d, f in rows if f is not None]


def _engine(url: str) -> Engine:
    engine = Engine(Database(url), clock=FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)))
    engine.init_db(load_library=True, seed_users=False)
    return engine


def sqlite_backlog(quick: bool) -> Summary:
    """One process drains a backlog of due timers on SQLite (the single-machine set-up)."""
    n = 300 if quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(f"sqlite:///{Path(tmp) / 'timers.sqlite3'}")
        clone_due_timers(engine, n, datetime(2026, 3, 2, 0, 0, tzinfo=UTC), timedelta(0))
        assert isinstance(engine.clock, FixedClock)
        engine.clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # a day later: every timer is due
        t0 = time.perf_counter()
        fired = engine.fire_due_timers(limit=n).fired
        seconds = time.perf_counter() - t0
        engine.db.dispose()
    return summarise(f"timers on SQLite: fire a due backlog of {n}, 1 process", "timers/s", [fired / seconds])


class _Workers:
    """``n`` ``run.py worker`` processes on one database, started and waited for until they poll."""

    def __init__(self, url: str, n: int) -> None:
        logs = Path(tempfile.mkdtemp(prefix="motcua-timer-bench-"))
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "run.py",
                    "worker",
                    "--db",
                    url,
                    "--interval",
                    "0.1",
                ],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=(logs / f"worker{i}.log").open("wb"),
            )
            for i in range(n)
        ]
        ready_by = time.perf_counter() + 120
        while time.perf_counter() < ready_by and not all(
            "worker started" in (logs / f"worker{i}.log").read_text(errors="replace") for i in range(n)
        ):
            time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _cpu_seconds(pids: Iterable[int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by these processes ("workers") and by every
    PostgreSQL server process on this machine ("postgresql"), read from Linux's /proc (empty
    elsewhere): where a drain's time goes, and how many cores one worker already keeps busy."""
    proc = Path("/proc")
    if not proc.is_dir():
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    wanted = set(pids)
    found = {"workers": 0.0, "postgresql": 0.0}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        if int(entry.name) in wanted:
            found["workers"] += used
        elif name.startswith("postgres"):
            found["postgresql"] += used
    return found


@dataclass
class Drain:
    """One drain: its rate, the seconds its insert took and the CPU µs per timer by side."""

    rate: float
    inserted: float
    cpu_us: dict[str, float]


def _drain(engine: Engine, n: int, pids: Iterable[int] = ()) -> Drain:
    """Running workers (``pids``) drain ``n`` SLA timers due at once.

    The rate is read off the timers' own ``fired_at`` stamps (first to last firing), not the
    bench's wall clock: the workers' idle poll before the first claim and the bench's own polling
    after the last one are latency, which the lag row measures, not throughput; counted in, they
    weighed 5-10 % more on a 1.4 s drain by four workers than on a 2 s drain by one. CPU is
    counted from the end of the insert to the poll that sees the last timer fired."""
    pids = list(pids)
    t0 = time.perf_counter()
    ids = clone_due_timers(engine, n, datetime.now(UTC) - timedelta(seconds=1), timedelta(0))
    inserted = time.perf_counter() - t0
    cpu_before = _cpu_seconds(pids)
    deadline = time.perf_counter() + 600
    while _any_pending(engine.db, ids) and time.perf_counter() < deadline:
        # Seldom: the count is the bench's own load on the cores the workers share (the rate
        # comes from the stamps, so polling often would buy nothing).
        time.sleep(0.2)
    cpu_after = _cpu_seconds(pids)
    with engine.db.read() as session:
        fired, first, last = session.execute(
            select(func.count(), func.min(Timer.fired_at), func.max(Timer.fired_at)).where(
                Timer.case_id.between(ids[0], ids[-1]), Timer.fired_at.is_not(None)
            )
        ).one()
    span = (last - first).total_seconds() if fired > 1 and first is not None and last is not None else 0.0
    cpu_us = {side: (cpu_after[side] - cpu_before[side]) * 1e6 / max(1, fired) for side in cpu_after}
    return Drain((fired - 1) / span if span > 0 else 0.0, inserted, cpu_us)


def _quiesce(engine: Engine) -> None:
    """Every drain starts from the same quiet database: the report facts of the last drain's
    dossiers brought up to date (or the new workers' idle passes would spend this drain's first
    seconds on them), then the dead rows of both vacuumed (or autovacuum, counted on the
    PostgreSQL side, would clean up after the last drain during this one)."""
    engine.refresh_report_facts()
    with engine.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
        vacuum.exec_driver_sql("VACUUM ANALYZE")


def postgres_rows(url: str, quick: bool, workers: int = 4) -> list[Summary]:
    """A backlog drained by one worker process and by ``workers`` (the scaling), then the lag of
    timers arriving at half the measured throughput."""
    engine = _engine(url)
    rows: list[Summary] = []
    n = 500 if quick else 20000
    cores = os.cpu_count() or 1
    counts = sorted({1, min(2, workers), workers})
    try:
        # Rounds of 1, 2, ..., ``workers`` processes, interleaved: a disturbance of the machine
        # (autovacuum, a checkpoint) then falls on every count alike, and each round's speed-ups
        # compare drains run side by side.
        drains: dict[int, list[Drain]] = {count: [] for count in counts}
        for _ in range(1 if quick else 3):
            for count in counts:
                _quiesce(engine)
                pool = _Workers(url, count)
                try:
                    drain = _drain(engine, n, (p.pid for p in pool.procs))
                finally:
                    pool.stop()
                drains[count].append(drain)
        inserted = drains[workers][-1].inserted
        rates = {count: [d.rate for d in found] for count, found in drains.items()}
        for count in counts:
            cpu = {
                side: statistics.median(d.cpu_us.get(side, 0.0) for d in drains[count])
                for side in ("workers", "postgresql")
            }
            rows.append(
                summarise(
                    f"timers on PostgreSQL: fire a due backlog of {n}, {count} worker process"
                    + ("es" if count > 1 else ""),
                    "timers/s",
                    rates[count],
                    f"CPU per timer: worker {cpu['workers']:.0f} µs, PostgreSQL {cpu['postgresql']:.0f} µs",
                    workers=count,
                    cpu_us_per_timer=cpu,
                )
            )
            if count == 1:
                # How many cores one worker process already keeps busy (with its PostgreSQL
                # backend, which overlaps it): more processes can at best use the rest.
                busy = (cpu["workers"] + cpu["postgresql"]) * statistics.median(rates[1]) / 1e6
                rows[-1].extra["cores_busy"] = busy
            if count > 1:
                speedups = sorted(r / one for r, one in zip(rates[count], rates[1], strict=True))
                rows[-1].extra["scaling"] = {
                    "workers": count,
                    "cores": cores,
                    "speedup": statistics.median(speedups),
                    "speedup_min": speedups[0],
                    "speedup_max": speedups[-1],
                    "goal": 0.8 * min(count, cores),
                    # The speed-up the cores allow at best, one worker keeping cores_busy busy.
                    "bound": min(count, cores) / max(rows[0].extra.get("cores_busy", 0.0), 1e-9)
                    if rows[0].extra.get("cores_busy")
                    else None,
                }
        pool = _Workers(url, workers)
        try:
            rate = statistics.median(rates[workers])
            window = 5.0 if quick else 20.0
            m = max(20, int(rate * 0.5 * window))
            # The first timers fall due only once all are inserted (the insert takes seconds):
            # otherwise the lag would count the bench's own insert.
            lead = 2.0 + 1.5 * inserted * m / n
            ids = clone_due_timers(
                engine, m, datetime.now(UTC) + timedelta(seconds=lead), timedelta(seconds=window)
            )
            deadline = time.perf_counter() + lead + window + 120
            while _any_pending(engine.db, ids) and time.perf_counter() < deadline:
                time.sleep(0.2)
            lags = _lags_ms(engine.db, ids)
        finally:
            pool.stop()
        rows.append(
            summarise(
                f"timer lag on PostgreSQL, {workers} workers, {m / window:.0f} timers/s arriving",
                "ms",
                lags or [float("inf")],
                f"{len(lags)}/{m} fired",
            )
        )
    finally:
        engine.db.dispose()
    return rows


def timer_rows(quick: bool, postgres_url: str | None) -> list[Summary]:
    """Every timer row of the benchmark table (PostgreSQL rows only when it answers)."""
    rows = [sqlite_backlog(quick)]
    if postgres_url is not None:
        import psycopg

        name = f"motcua_timer_bench_{int(time.time())}"
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            rows += postgres_rows(postgres_url.rsplit("/", 1)[0] + "/" + name, quick)
        finally:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return rows
