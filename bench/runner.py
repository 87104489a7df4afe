"""``python run.py bench``: run the benchmarks, print one table (or JSON), and check issue 13's goals.

Goals (``--check`` exits non-zero when one measured is missed; unmeasured ones are listed, not failed):
full lifecycle at least as fast as the naive SpiffWorkflow loop on each database (median ratio of
interleaved repetitions), at most 12 SQL statements per operation, every staff page p95 < 100 ms at
the largest scale measured and flat (largest-scale median at most twice the smallest-scale one),
the web process's memory not growing over the page views, and a due backlog of SLA timers drained
at 2,000/s or more by 4 workers on PostgreSQL with a lag p95 of at most 1 s under half that load.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from typing import Any

from .stats import Summary, summarise

STATEMENTS_PER_OPERATION = 12
PAGE_P95_MS = 100.0
REBUILD_MS = 50.0  # issue 12: the state at any event of a 500-event case
FLAT_FACTOR = 2.0
MEMORY_GROWTH_MIB = 32.0
TIMERS_PER_SECOND = 2000.0
TIMER_LAG_P95_MS = 1000.0
PARTS = ("lifecycle", "pages", "timers", "audit", "calendar", "sandbox")


def postgres_url() -> str | None:
    """The PostgreSQL server to make scratch databases on, when it answers."""
    url = os.environ.get("MOTCUA_BENCH_DATABASE_URL") or os.environ.get(
        "MOTCUA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception:
        return None
    return url


def run(
    *,
    quick: bool = False,
    scales: list[int] | None = None,
    repetitions: int = 5,
    parts: tuple[str, ...] = PARTS,
    log: Callable[[str], None] = print,
    pages: list[str] | None = None,
) -> dict[str, Any]:
    """Every part asked for; rows are :class:`Summary` dicts, plus the goal verdicts."""
    pg = postgres_url()
    if pg is None:
        log("PostgreSQL does not answer: its rows are skipped")
    rows: list[Summary] = []
    if "lifecycle" in parts:
        from .lifecycle import lifecycle_rows

        log("lifecycle: product and naive loop interleaved")
        rows += lifecycle_rows(pg, max(5, repetitions), 3 if quick else 10)
    if "pages" in parts:
        from .lifecycle import scratch_databases
        from .pages import page_rows

        wanted = scales or ([2_000, 10_000] if quick else [10_000, 100_000])
        runs = 20 if quick else 50
        with scratch_databases(pg, ["pages"]) as urls:
            for key, url in urls.items():
                backend = "SQLite" if key.startswith("sqlite") else "PostgreSQL"
                log(f"pages on {backend}: {', '.join(f'{s:,}' for s in wanted)} dossiers")
                rows += page_rows(url, backend, wanted, runs, log, pages)
    if "timers" in parts:
        from .timers import timer_rows

        log("timers")
        rows += timer_rows(quick, pg)
    if "audit" in parts:
        from .audit import replay_samples, verify_samples

        log("auditor: replay and verification")
        figures = replay_samples(quick)
        n = figures.events
        rows.append(
            summarise(
                f"auditor: rebuild the state at every event of a {n}-event case",
                "ms",
                figures.rebuild_ms,
                "engine.replay.rebuild, events only",
                goal="rebuild_ms",
            )
        )
        deep = summarise(
            f"auditor: re-execute a {n}-event case through the runtime's rules",
            "ms",
            figures.deep_ms,
            f"its live operations took {figures.live_ms:,.0f} ms",
            goal="deep_ms",
        )
        deep.extra["ratio_to_live"] = statistics.median(figures.deep_ms) / figures.live_ms
        rows.append(deep)
        rows.append(summarise(f"auditor: audit replay of a {n}-event case on SQLite", "ms", figures.check_ms))
        count, samples = verify_samples(quick)
        rows.append(summarise(f"auditor: verify {count:,} events on SQLite", "ms", samples))
    if "calendar" in parts:
        from .calendar import add_working_hours_rate

        calls = 20_000 if quick else 200_000
        rates = [add_working_hours_rate(calls) for _ in range(3)]
        rows.append(summarise("calendar add_working_hours", "calls/s", rates, f"{calls:,} calls"))
    if "sandbox" in parts:
        from .sandbox import sandbox_rows

        log("sandbox: in-process against the worker pool")
        rows += sandbox_rows(quick)
    report: dict[str, Any] = {"rows": [r.as_dict() for r in rows]}
    report["goals"] = check_goals(rows)
    report["table"] = table(rows, report["goals"])
    return report


def check_goals(rows: list[Summary]) -> list[dict[str, Any]]:
    """One verdict per goal: ``ok`` True/False, or None when this run did not measure it."""
    goals: list[dict[str, Any]] = []

    def goal(name: str, ok: bool | None, measured: str) -> None:
        goals.append({"goal": name, "ok": ok, "measured": measured})

    products = [r for r in rows if "backend" in r.extra and "ratio" in r.extra]
    for r in products:
        ratio = r.extra["ratio"]
        goal(
            f"lifecycle ≥ 1.0× naive loop on {r.extra['backend']}",
            ratio["median"] >= 1.0,
            f"{ratio['median']:.2f}× (min {ratio['min']:.2f}, max {ratio['max']:.2f})",
        )
        spo = r.extra["statements_per_operation"]
        goal(
            f"≤ {STATEMENTS_PER_OPERATION} SQL statements per operation on {r.extra['backend']}",
            spo <= STATEMENTS_PER_OPERATION,
            f"{spo}",
        )
    if not products:
        goal("lifecycle ≥ 1.0× naive loop", None, "not measured")
    pages = [r for r in rows if "page" in r.extra]
    for backend in sorted({r.extra["backend"] for r in pages}):
        mine = [r for r in pages if r.extra["backend"] == backend]
        scales = sorted({r.extra["scale"] for r in mine})
        top = [r for r in mine if r.extra["scale"] == scales[-1]]
        slow = [f"{r.extra['page']} {r.p95:.0f} ms" for r in top if (r.p95 or 0) >= PAGE_P95_MS]
        goal(
            f"every page p95 < {PAGE_P95_MS:.0f} ms at {scales[-1]:,} dossiers on {backend}",
            not slow,
            "; ".join(slow) or "all below",
        )
        if scales[-1] < 1_000_000:
            goal(f"every page p95 < {PAGE_P95_MS:.0f} ms at 1,000,000 dossiers on {backend}", None, "not run")
        if len(scales) > 1:
            low = {r.extra["page"]: r.median for r in mine if r.extra["scale"] == scales[0]}
            grown = [
                f"{r.extra['page']} ×{r.median / low[r.extra['page']]:.1f}"
                for r in top
                if r.median > FLAT_FACTOR * low[r.extra["page"]]
            ]
            goal(
                f"pages flat from {scales[0]:,} to {scales[-1]:,} on {backend} (median ≤ {FLAT_FACTOR:.0f}×)",
                not grown,
                "; ".join(grown) or "flat",
            )
            rss = [r.extra["rss_mib"] for r in mine]
            goal(
                f"web process memory grows ≤ {MEMORY_GROWTH_MIB:.0f} MiB over the page views on {backend}",
                max(rss) - min(rss) <= MEMORY_GROWTH_MIB,
                f"{min(rss):.0f} → {max(rss):.0f} MiB",
            )
    rebuilt = [r for r in rows if r.extra.get("goal") == "rebuild_ms"]
    deep = [r for r in rows if r.extra.get("goal") == "deep_ms"]
    goal(
        f"rebuild the state at every event of the long case < {REBUILD_MS:.0f} ms (issue 12)",
        rebuilt[0].median < REBUILD_MS if rebuilt else None,
        f"median {rebuilt[0].median:.1f} ms" if rebuilt else "not measured",
    )
    goal(
        "deep re-execution ≤ 2× the case's live operations (issue 12)",
        deep[0].extra["ratio_to_live"] <= 2.0 if deep else None,
        (
            f"{deep[0].extra['ratio_to_live']:.2f}× (median {deep[0].median:,.0f} ms)"
            if deep
            else "not measured"
        ),
    )
    backlog = [
        r
        for r in rows
        if r.name.startswith("timers on PostgreSQL: fire a due backlog") and r.extra.get("workers") == 4
    ]
    goal(
        f"SLA timer backlog ≥ {TIMERS_PER_SECOND:,.0f}/s, PostgreSQL, 4 workers",
        backlog[0].median >= TIMERS_PER_SECOND if backlog else None,
        f"{backlog[0].median:,.0f}/s" if backlog else "not measured",
    )
    lag = [r for r in rows if r.name.startswith("timer lag on PostgreSQL")]
    goal(
        f"timer lag p95 ≤ {TIMER_LAG_P95_MS / 1000:.0f} s at half the throughput",
        (lag[0].p95 or 0) <= TIMER_LAG_P95_MS if lag else None,
        f"{(lag[0].p95 or 0) / 1000:.2f} s" if lag else "not measured",
    )
    scaled = [r for r in rows if "scaling" in r.extra]
    for row in scaled:
        sc = row.extra["scaling"]
        n, cores = sc["workers"], sc["cores"]
        goal(
            f"{n} worker processes ≥ 0.8 × min({n}, {cores} cores) × one process",
            sc["speedup"] >= sc["goal"],
            f"{sc['speedup']:.2f}× one process"
            + (f" ({sc['speedup_min']:.2f}–{sc['speedup_max']:.2f})" if "speedup_min" in sc else "")
            + f" (goal {sc['goal']:.1f}×"
            + (f"; at most {sc['bound']:.2f}× on these cores" if sc.get("bound") else "")
            + ")",
        )
    if not scaled:
        goal("N worker processes ≥ 0.8 × min(N, cores) × one process", None, "not measured")
    return goals


def _ratio(r: Summary) -> str:
    ratio = r.extra.get("ratio")
    if not ratio:
        return ""
    return f"{ratio['median']:.2f}× ({ratio['min']:.2f}–{ratio['max']:.2f})"


def _n(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"


def table(rows: list[Summary], goals: list[dict[str, Any]]) -> str:
    lines = [
        "| benchmark | unit | min | median | max | p95 | vs naive loop: median (min–max) | SQL/op |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p95 = _n(r.p95) if r.p95 is not None and r.unit == "ms" else ""
        spo = r.extra.get("statements_per_operation", "")
        note = f" ({r.note})" if r.note else ""
        size = f", {r.extra['kib']} KiB" if "kib" in r.extra else ""
        lines.append(
            f"| {r.name}{note}{size} | {r.unit} | {_n(r.min)} | {_n(r.median)} | {_n(r.max)} | {p95} "
            f"| {_ratio(r)} | {spo} |"
        )
    lines += ["", "| goal (issue 13) | measured | verdict |", "|---|---|---|"]
    verdict = {True: "met", False: "MISSED", None: "not measured"}
    lines += [f"| {g['goal']} | {g['measured']} | {verdict[g['ok']]} |" for g in goals]
    return "\n".join(lines)


def missed(report: dict[str, Any]) -> list[str]:
    return [g["goal"] for g in report["goals"] if g["ok"] is False]
