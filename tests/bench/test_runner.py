"""``run.py bench``: goal verdicts from measured rows, and the command's JSON and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.runner import check_goals, missed
from bench.stats import summarise

ROOT = Path(__file__).resolve().parents[2]


def _product(backend: str, ratios: list[float], statements: float) -> object:
    return summarise(
        f"motcua on {backend}",
        "lifecycles/s",
        [1.0] * len(ratios),
        statements_per_operation=statements,
        ratio=summarise("ratio", "×", ratios).as_dict(),
        backend=backend,
    )


def _page(page: str, scale: int, samples: list[float], rss: float) -> object:
    return summarise(page, "ms", samples, page=page, backend="SQLite", scale=scale, rss_mib=rss)


def test_goals_are_met_missed_or_not_measured() -> None:
    rows = [
        _product("sqlite", [1.1, 1.2, 0.9, 1.3, 1.2], 11),
        _product("postgresql", [0.5, 0.6, 0.7, 0.6, 0.5], 16),
        _page("board", 10_000, [20.0] * 20, 150.0),
        _page("board", 100_000, [90.0] * 19 + [150.0], 151.0),
    ]
    verdicts = {g["goal"]: g["ok"] for g in check_goals(rows)}  # type: ignore[arg-type]
    assert verdicts["lifecycle ≥ 1.0× naive loop on sqlite"] is True
    assert verdicts["lifecycle ≥ 1.0× naive loop on postgresql"] is False
    assert verdicts["≤ 12 SQL statements per operation on postgresql"] is False
    assert verdicts["every page p95 < 100 ms at 100,000 dossiers on SQLite"] is False  # p95 is 150
    assert verdicts["pages flat from 10,000 to 100,000 on SQLite (median ≤ 2×)"] is False  # 20 → 90 ms
    assert verdicts["every page p95 < 100 ms at 1,000,000 dossiers on SQLite"] is None
    assert verdicts["SLA timer backlog ≥ 2,000/s, PostgreSQL, 4 workers"] is None
    assert verdicts["N worker processes ≥ 0.8 × min(N, cores) × one process"] is None
    assert len(missed({"goals": check_goals(rows)})) == 4  # type: ignore[arg-type]


def test_worker_scaling_is_judged_against_the_cores_there_are() -> None:
    one = summarise(
        "timers on PostgreSQL: fire a due backlog of 10, 1 worker process", "timers/s", [500.0], workers=1
    )
    four = summarise(
        "timers on PostgreSQL: fire a due backlog of 10, 4 worker processes",
        "timers/s",
        [850.0],
        workers=4,
        scaling={"workers": 4, "cores": 2, "speedup": 1.7, "goal": 1.6},
    )
    verdicts = {g["goal"]: g for g in check_goals([one, four])}
    assert verdicts["4 worker processes ≥ 0.8 × min(4, 2 cores) × one process"]["ok"] is True
    backlog = verdicts["SLA timer backlog ≥ 2,000/s, PostgreSQL, 4 workers"]
    assert backlog["ok"] is False and backlog["measured"] == "850/s"  # the 4-worker row, not the single one


def test_bench_command_prints_json_and_check_fails_only_on_a_missed_goal() -> None:
    done = subprocess.run(
        [sys.executable, "run.py", "bench", "--quick", "--only", "calendar", "--json", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr  # nothing measured can be missed
    report = json.loads(done.stdout)
    assert [r["name"] for r in report["rows"]] == ["calendar add_working_hours"]
    assert all(g["ok"] is None for g in report["goals"])
