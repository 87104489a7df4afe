"""Samples, summaries and SQL statement counts shared by every benchmark.

A single figure from a shared machine means little: every row keeps min, median and max over its
repetitions (and p95 over its samples), and ratios are taken between runs interleaved in time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine as SqlEngine


@dataclass
class Summary:
    """One benchmark row: ``unit`` per second (or ms per request for pages) over its samples."""

    name: str
    unit: str
    min: float
    median: float
    max: float
    p95: float | None = None
    samples: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(name: str, unit: str, values: list[float], note: str = "", **extra: Any) -> Summary:
    if not values:
        raise ValueError(f"no samples for {name}")
    return Summary(
        name,
        unit,
        min(values),
        statistics.median(values),
        max(values),
        p95(values),
        len(values),
        note,
        dict(extra),
    )


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def timed_ms(fn: Callable[[], Any], n: int, warm: int = 1, budget_s: float = 30.0) -> list[float]:
    """Milliseconds per call over ``n`` calls, after ``warm`` untimed ones (template and calendar caches).

    A slow page stops early once ``budget_s`` is spent and at least 5 samples are in: a page taking
    seconds is far from its goal, and 50 samples of it would hold the run up for an hour.
    """
    for _ in range(warm):
        fn()
    samples: list[float] = []
    began = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
        if len(samples) >= 5 and time.perf_counter() - began > budget_s:
            break
    return samples


class StatementCounter:
    """Counts the SQL statements an engine sends while ``active`` (a ``before_cursor_execute`` listener)."""

    def __init__(self, engine: SqlEngine) -> None:
        self.engine = engine
        self.count = 0
        self.active = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        if self.active:
            self.count += 1

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.active = True
        try:
            yield
        finally:
            self.active = False

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def rss_mib() -> float:
    """Resident memory of this process now (Linux /proc), in MiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
