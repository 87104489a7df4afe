"""``run.py bench`` rows for BPMN Python: in-process evaluation against the worker pool.

Conditions that are provably bounded stay in-process, so their cost is the baseline; everything
else (scripts, expressions with calls or operators) pays a round trip to a warm worker. The note of
each pool row gives that cost as a multiple of the same evaluation in-process.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

from .sandbox import SandboxedEnvironment
from .sandbox_pool import SandboxPool

_DATA = {"decision": "accept", "amount": 150_000, "fee": 50_000, "count": 3, "items": list(range(20))}
_CONDITION = 'decision == "accept" and amount > 0'
_EXPRESSION = "sum(items) * count > fee"
_SCRIPT = "total = fee * count\nlabels = [str(i) for i in items]"


def _median_ms(fn: Callable[[], Any], n: int) -> float:
    fn()  # warm caches (compiled code, a worker)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def sandbox_rows(quick: bool) -> list[dict[str, Any]]:
    """Rows (name, per_second, median_ms, p95_ms, note) for :func:`engine.bench.run_benchmarks`."""
    n = 200 if quick else 2_000
    pool = SandboxPool(1)
    try:
        pool.warm()
        inline = SandboxedEnvironment(pool=None)
        pooled = SandboxedEnvironment(pool=pool)
        cases = [
            ("condition (bounded, stays in-process)", "eval", _CONDITION),
            ("expression with calls", "eval", _EXPRESSION),
            ("script task", "exec", _SCRIPT),
        ]
        rows = []
        for label, mode, source in cases:
            here = _median_ms(functools.partial(_run, inline, mode, source), n)
            there = _median_ms(functools.partial(_run, pooled, mode, source), n)
            rows.append(
                {
                    "name": f"sandbox: {label}",
                    "per_second": 1000.0 / there if there else float("inf"),
                    "median_ms": there,
                    "p95_ms": None,
                    "note": f"{there / here:.1f}× in-process ({here * 1000:.0f} µs)",
                }
            )
        return rows
    finally:
        pool.close()


def _run(env: SandboxedEnvironment, mode: str, source: str) -> Any:
    data = dict(_DATA)
    return env.evaluate(source, data) if mode == "eval" else env.execute(source, data)
