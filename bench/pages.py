"""Tasklist benchmark for ``python run.py bench``: the page a department opens all day, over 100k cases.

Measured through the Flask test client, so the figure includes the query, the SLA colours (calendar
arithmetic per row) and the Jinja rendering of the first page of work.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.seed import seed_open_cases
from engine.clock import FixedClock
from engine.db import Database
from engine.queries import TaskFilter
from engine.service import Engine
from engine.settings import EngineSettings
from engine.users import create_user
from web.app import create_app

BENCH_PASSWORD = "bench-password-766"


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)


def tasklist_benchmark(n_cases: int = 100_000, runs: int = 100) -> list[dict[str, Any]]:
    """Seed ``n_cases`` open dossiers in a temporary SQLite database and time the tasklist."""
    now = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'tasklist.sqlite3'}")
        engine = Engine(db, clock=FixedClock(now), settings=EngineSettings())
        engine.init_db(load_library=True, seed_users=False)
        with db.unit_of_work() as session:
            create_user(session, "bench_specialist", "Chuyên viên đo", ["specialist"], BENCH_PASSWORD)
        t0 = time.perf_counter()
        seed_open_cases(db, n_cases, now)
        seeded_s = time.perf_counter() - t0
        actor = engine.actor("bench_specialist")
        query = _timed(lambda: engine.tasklist(actor, TaskFilter()), runs)
        app = create_app(engine, {"LOGIN_RATE_LIMIT": "1000 per minute"})
        client = app.test_client()
        token = client.get("/api/csrf").get_json()["csrf_token"]
        client.post(
            "/login", data={"csrf_token": token, "username": "bench_specialist", "password": BENCH_PASSWORD}
        )
        assert client.get("/tasks/").status_code == 200

        def page() -> None:
            response = client.get("/tasks/")
            assert response.status_code == 200

        rendered = _timed(page, runs)
        db.dispose()
    note = f"{n_cases:,} cases, first 200 rows; seeded in {seeded_s:.1f} s"
    return [
        _row(f"tasklist query, SQLite ({n_cases // 1000}k cases)", query, note),
        _row(
            f"tasklist page GET /tasks/, SQLite ({n_cases // 1000}k cases)", rendered, "target p95 < 100 ms"
        ),
    ]


def _timed(fn: Any, n: int) -> list[float]:
    fn()  # warm caches (calendar years, compiled templates)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def _row(name: str, samples: list[float], note: str) -> dict[str, Any]:
    median = statistics.median(samples)
    return {
        "name": name,
        "per_second": 1000.0 / median,
        "median_ms": median,
        "p95_ms": _p95(samples),
        "note": note,
    }


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"| {r['name']} | {r['per_second']:,.0f} | {r['median_ms']:.3f} | {r['p95_ms']:.2f} | |" for r in rows
    ]
