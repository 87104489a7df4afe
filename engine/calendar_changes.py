"""Which open cases a calendar change can move: only those with a deadline whose span crosses the day.

A day off or a make-up day changes the working time inside one local day, so a deadline moves only if
its clock started before that day ends and it falls on or after the day's start; an appointment on
that day may now fall on a day off (or no longer). The rest of the open cases are not read at all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select, union
from sqlalchemy.orm import Session

from .domain.vocab import Status
from .models import Case, WorkItem


def day_span(day: date, tz: str) -> tuple[datetime, datetime]:
    """The local day as a UTC half-open interval."""
    start = datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)
    return start, start + timedelta(days=1)


def affected_case_ids(session: Session, day: date, tz: str) -> list[int]:
    """Open cases whose receipt deadline, appointment or open step's due the change of ``day`` can
    move or put on a day off, in id order."""
    start, end = day_span(day, tz)
    receipt = select(Case.id).where(
        Case.completed.is_(False),
        Case.status == int(Status.NEW),
        Case.receipt_due_at >= start,
        Case.submitted_at < end,
    )
    appointment = select(Case.id).where(
        Case.completed.is_(False), Case.finished_at.is_(None), and_(Case.due_at >= start, Case.due_at < end)
    )
    steps = select(WorkItem.case_id).where(
        WorkItem.completed_at.is_(None), WorkItem.due_at >= start, WorkItem.ready_at < end
    )
    ids = session.scalars(union(receipt, appointment, steps))
    return sorted({int(i) for i in ids})
