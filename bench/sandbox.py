"""``run.py bench --only sandbox``: BPMN Python evaluated in-process against the worker pool.

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

from engine.sandbox import SandboxedEnvironment
from engine.sandbox_pool import SandboxPool

from .stats import Summary, summarise

_DATA = {"decision": "accept", "amount": 150_000, "fee": 50_000, "count": 3, "items": list(range(20))}
_CONDITION = 'decision == "accept" and amount > 0'
_EXPRESSION = "sum(items) * count > fee"
_SCRIPT = "total = fee * count\nlabels = [str(i) for i in items]"


def _samples_ms(fn: Callable[[], Any], n: int) -> list[float]:
    fn()  # warm caches (compiled code, a worker)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def sandbox_rows(quick: bool) -> list[Summary]:
    """One row per kind of BPMN Python, timed through the pool; the note compares it in-process."""
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
            here = statistics.median(_samples_ms(functools.partial(_run, inline, mode, source), n))
            there = _samples_ms(functools.partial(_run, pooled, mode, source), n)
            rows.append(
                summarise(
                    f"sandbox: {label}",
                    "ms",
                    there,
                    f"{statistics.median(there) / here:.1f}× in-process ({here * 1000:.0f} µs)",
                )
            )
        return rows
    finally:
        pool.close()


def _run(env: SandboxedEnvironment, mode: str, source: str) -> Any:
    data = dict(_DATA)
    return env.evaluate(source, data) if mode == "eval" else env.execute(source, data)
