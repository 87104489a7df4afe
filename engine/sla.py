"""Statutory-time rules (pure): receipt deadline, due dates, classification, amber threshold.

Everything here takes values and a calendar and returns values, so the rules are unit-tested with
real dates and reused by replay and reports without touching the database or the clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ONLINE_CHANNEL = 2
RECEIPT_WORKING_HOURS = 8.0
Outcome = Literal["early", "on_time", "late"]
Colour = Literal["green", "amber", "red"]


class BusinessCalendar(Protocol):
    """What the SLA rules need from :class:`engine.calendar.WorkingCalendar`."""

    def add_working_hours(self, start: datetime, hours: float) -> datetime: ...
    def add_working_days(self, start: datetime, days: float) -> datetime: ...
    def working_hours_between(self, a: datetime, b: datetime) -> float: ...
    def next_working_moment(self, t: datetime) -> datetime: ...


@dataclass(frozen=True)
class LegalTime:
    """A procedure's statutory processing time."""

    amount: float
    unit: Literal["working_days", "working_hours", "calendar_days"]
    receipt_cutoff: time | None = None


def receipt_deadline(submitted_at: datetime, calendar: BusinessCalendar) -> datetime:
    """Online dossiers must be accepted, returned for supplementation or refused within 8 working hours;
    one arriving outside working time counts from the next working moment (the calendar does that)."""
    return calendar.add_working_hours(submitted_at, RECEIPT_WORKING_HOURS)


def processing_start(accepted_at: datetime, legal: LegalTime, calendar: BusinessCalendar) -> datetime:
    """When the processing clock starts: acceptance, or the next working day if after the cut-off."""
    start = calendar.next_working_moment(accepted_at)
    if legal.receipt_cutoff is not None:
        local = accepted_at.astimezone(LOCAL_TZ)
        if local.time() >= legal.receipt_cutoff:
            next_day = datetime.combine(local.date() + timedelta(days=1), time(0, 0), LOCAL_TZ)
            start = calendar.next_working_moment(next_day)
    return start


def statutory_due(accepted_at: datetime, legal: LegalTime, calendar: BusinessCalendar) -> datetime:
    """The appointment date (ngày hẹn trả) printed on the receipt."""
    start = processing_start(accepted_at, legal, calendar)
    if legal.unit == "working_hours":
        return calendar.add_working_hours(start, legal.amount)
    if legal.unit == "working_days":
        return calendar.add_working_days(start, legal.amount)
    # Calendar days: the due date still never falls on a day off.
    return calendar.next_working_moment(start + timedelta(days=legal.amount))


def granted_extensions(
    extensions: Iterable[Mapping[str, Any]], answers: Mapping[str, Any], granted: Collection[str]
) -> list[tuple[str, float]]:
    """The (field, working days) extensions a step's answers grant: a field answered ``true`` for the
    first time in the case. Each is granted once, so re-answering a later step cannot stack days."""
    return [
        (str(e["field"]), float(e["working_days"]))
        for e in extensions
        if answers.get(str(e["field"])) is True and str(e["field"]) not in granted
    ]


def classify(finished_at: datetime, due_at: datetime) -> Outcome:
    """Early = finished on an earlier local day than the appointment; on time = by the appointment."""
    if finished_at > due_at:
        return "late"
    if finished_at.astimezone(LOCAL_TZ).date() < due_at.astimezone(LOCAL_TZ).date():
        return "early"
    return "on_time"


def colour(
    now: datetime, started_at: datetime, due_at: datetime, calendar: BusinessCalendar, threshold: float = 0.2
) -> Colour:
    """Green, amber when at most ``threshold`` of the allocated working time is left, red when late."""
    if now > due_at:
        return "red"
    allocated = calendar.working_hours_between(started_at, due_at)
    left = calendar.working_hours_between(now, due_at)
    if allocated <= 0 or left <= allocated * threshold:
        return "amber"
    return "green"


def extend_by_pause(
    due_at: datetime, paused_at: datetime, resumed_at: datetime, calendar: BusinessCalendar
) -> datetime:
    """The "extend" supplementation mode: push the due date by the working time spent waiting."""
    waited = calendar.working_hours_between(paused_at, resumed_at)
    return calendar.add_working_hours(due_at, waited)
