"""Calendar benchmark: deadlines are computed on every list page, so this must stay far from the request
budget. Reads the wall clock like every benchmark."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from time import perf_counter

from engine.calendar import WorkingCalendar


def add_working_hours_rate(n: int = 200_000) -> float:
    """Calls per second of :meth:`WorkingCalendar.add_working_hours` on typical inputs (starts in
    2025–2027, 0–200 h), with warm caches: deadlines are computed on every list page, so this must
    stay far from the request budget."""
    calendar = WorkingCalendar()
    rng = random.Random(766)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    seconds_in_range = 3 * 365 * 86_400
    cases = [
        (base + timedelta(seconds=rng.randrange(seconds_in_range)), rng.uniform(0, 200)) for _ in range(n)
    ]
    calendar.add_working_hours(base, 0)
    calendar.add_working_hours(base + timedelta(seconds=seconds_in_range), 400)  # build 2025–2028
    add = calendar.add_working_hours
    began = perf_counter()
    for start, hours in cases:
        add(start, hours)
    return n / (perf_counter() - began)
