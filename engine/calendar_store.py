"""Calendar overrides kept in the database: the government's yearly day swaps, edited by an admin.

Rows are never updated or deleted: a later row for the same day supersedes an earlier one (kind
``none`` withdraws an override), so the table is its own version history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .calendar import DEFAULT_OVERRIDES, CalendarConfig, CalendarOverride, WorkingCalendar, check_override
from .errors import ValidationError
from .models import CalendarOverrideRow

OverrideKind = Literal["off", "work", "none"]


def add_override(
    session: Session, day: date, kind: str, note: str, actor: str, now: datetime
) -> CalendarOverrideRow:
    """Append an override; ``none`` withdraws the previous one for that day."""
    if kind not in ("off", "work", "none"):
        raise ValidationError("Loại điều chỉnh phải là 'off' (nghỉ), 'work' (làm bù) hoặc 'none' (huỷ)")
    if not note.strip():
        raise ValidationError("Phải ghi căn cứ (văn bản, quyết định) của điều chỉnh lịch")
    if not 1976 <= day.year <= 2100:
        raise ValidationError("Năm của ngày điều chỉnh phải trong khoảng 1976–2100")
    check_override(build_calendar(session), day, kind, note)
    row = CalendarOverrideRow(
        day=day.isoformat(), kind=kind, note=note.strip(), created_at=now, created_by=actor
    )
    session.add(row)
    session.flush()
    return row


def history(session: Session) -> list[CalendarOverrideRow]:
    return list(session.scalars(select(CalendarOverrideRow).order_by(CalendarOverrideRow.id)))


def effective_overrides(rows: list[CalendarOverrideRow]) -> list[CalendarOverride]:
    """The overrides in force: the latest row per day wins; ``none`` removes the day."""
    latest: dict[str, CalendarOverrideRow] = {}
    for row in rows:
        latest[row.day] = row
    return [
        CalendarOverride(date.fromisoformat(r.day), r.kind, r.note)  # type: ignore[arg-type]
        for r in latest.values()
        if r.kind in ("off", "work")
    ]


def marker(session: Session) -> int:
    """Cheap change detector: the newest row id (0 when the table is empty)."""
    return int(session.scalar(select(func.max(CalendarOverrideRow.id))) or 0)


def build_calendar(session: Session, config: CalendarConfig | None = None) -> WorkingCalendar:
    """Built-in overrides plus the stored ones (stored ones win for the same day)."""
    stored = effective_overrides(history(session))
    return WorkingCalendar(config or CalendarConfig(), (*DEFAULT_OVERRIDES, *stored))


class LiveCalendar:
    """A working calendar that follows the override table without restarting the process.

    Engine code holds this object; :meth:`refresh` swaps the underlying calendar when another
    process (or the admin page) added an override. Overrides are rare (a few day swaps a year) and
    decided weeks ahead, so the table is asked at most once per ``recheck_seconds`` of process time
    (not once per transaction); an override added through this object (``force=True`` after the
    insert) applies at once, and another process's within ``recheck_seconds``.
    """

    def __init__(
        self,
        calendar: WorkingCalendar | None = None,
        *,
        recheck_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.current = self._base = calendar or WorkingCalendar()
        self._marker = -1
        self._recheck = recheck_seconds
        # Process time, not business time: how stale this copy may be has nothing to do with the Clock.
        self._monotonic = monotonic
        self._checked_at: float | None = None

    def refresh(self, session: Session, *, force: bool = False) -> None:
        """Follow the table if it may have changed: always when ``force``, else once per interval."""
        now = self._monotonic()
        if not force and self._checked_at is not None and now - self._checked_at < self._recheck:
            return
        mark = marker(session)
        if mark != self._marker:
            self.current = (
                build_calendar(session, self._base.config)
                if mark
                else self._base  # no stored override (any more: one seen here may have rolled back)
            )
            self._marker = mark
        self._checked_at = now

    def invalidate(self) -> None:
        """The next :meth:`refresh` rebuilds from the table (an override this process saw may have
        rolled back, and its id may be given again)."""
        self._checked_at = None
        self._marker = -1

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        return self.current.add_working_hours(start, hours)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        return self.current.add_working_days(start, days)

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        return self.current.working_hours_between(a, b)

    def next_working_moment(self, t: datetime) -> datetime:
        return self.current.next_working_moment(t)

    def start_of_last_hours(self, end: datetime, hours: float) -> datetime:
        return self.current.start_of_last_hours(end, hours)

    def nearest_valid_appointments(self, t: datetime) -> tuple[datetime, datetime]:
        return self.current.nearest_valid_appointments(t)

    def is_working_time(self, t: datetime) -> bool:
        return self.current.is_working_time(t)

    def is_working_day(self, d: date) -> bool:
        return self.current.is_working_day(d)

    def days_off(self, year: int) -> list[tuple[date, str]]:
        return self.current.days_off(year)

    def make_up_days(self, year: int) -> list[tuple[date, str]]:
        return self.current.make_up_days(year)
