"""Decision 766 group 5 indicators 5.1–5.3 from complaint and feedback records (pure).

The formulas for 5.1 and 5.2 are not published in the sources we hold (domain/index766.md names
their points, 5 and 5; rules.md gives the deadlines); the defaults read plans 000/002 ("100 %
received, handled and their results published on time"):

- 5.1 handled and published = items published ÷ items received in the period;
- 5.2 on time = items answered by their answer deadline and published by their publication
  deadline ÷ items received (an open item past a deadline at the period's end is late);
- 5.3 (index766.md) = (items − those rated "not satisfied", overdue or repeated) ÷ items.

Points are proportional (rate × sub-maximum), like the other unverified sub-indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SUB_MAX: dict[str, float] = {"5.1": 5.0, "5.2": 5.0, "5.3": 2.0}


@dataclass(frozen=True)
class FeedbackFact:
    """One item as the indicators need it."""

    received_at: datetime
    due_at: datetime
    answered_at: datetime | None
    publish_due_at: datetime | None
    published_at: datetime | None
    rating: int | None
    repeated: bool


@dataclass(frozen=True)
class Indicator:
    code: str
    numerator: int
    denominator: int
    rate: float | None  # None: no item in the period ("Chưa có dữ liệu")
    points: float | None
    max_points: float


@dataclass(frozen=True)
class FeedbackIndicators:
    received: int
    published: int
    on_time: int
    overdue: int
    dissatisfied: int
    repeated: int
    indicators: tuple[Indicator, ...]


def is_overdue(fact: FeedbackFact, as_of: datetime) -> bool:
    """Late at either step; an open step counts as late once its deadline passed by ``as_of``."""
    answered = fact.answered_at or as_of
    if answered > fact.due_at:
        return True
    if fact.answered_at is not None and fact.publish_due_at is not None:
        published = fact.published_at or as_of
        return published > fact.publish_due_at
    return False


def _indicator(code: str, numerator: int, denominator: int, sub_max: dict[str, float]) -> Indicator:
    top = sub_max[code]
    if denominator == 0:
        return Indicator(code, 0, 0, None, None, top)
    rate = numerator / denominator
    return Indicator(code, numerator, denominator, rate, round(rate * top, 4), top)


def indicators(
    facts: list[FeedbackFact],
    first: datetime,
    end: datetime,
    as_of: datetime,
    sub_max: dict[str, float] | None = None,
) -> FeedbackIndicators:
    """Indicators over items received in ``[first, end)``, deadlines judged at ``as_of``."""
    maxima = sub_max or SUB_MAX
    items = [f for f in facts if first <= f.received_at < end]
    published = sum(1 for f in items if f.published_at is not None and f.published_at <= as_of)
    overdue = [is_overdue(f, as_of) for f in items]
    on_time = sum(
        1 for f, late in zip(items, overdue, strict=True) if not late and f.published_at is not None
    )
    dissatisfied = [f.rating == 1 for f in items]
    bad = sum(
        1
        for f, late, unhappy in zip(items, overdue, dissatisfied, strict=True)
        if late or unhappy or f.repeated
    )
    return FeedbackIndicators(
        received=len(items),
        published=published,
        on_time=on_time,
        overdue=sum(overdue),
        dissatisfied=sum(dissatisfied),
        repeated=sum(1 for f in items if f.repeated),
        indicators=(
            _indicator("5.1", published, len(items), maxima),
            _indicator("5.2", on_time, len(items), maxima),
            _indicator("5.3", len(items) - bad, len(items), maxima),
        ),
    )
