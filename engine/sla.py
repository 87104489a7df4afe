"""Statutory-time rules (pure): receipt deadline, due dates, classification, amber threshold.

Everything here takes values and a calendar and returns values, so the rules are unit-tested with
real dates and reused by replay and reports without touching the database or the clock.
"""

from __future__ import annotations

import math
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
    def start_of_last_hours(self, end: datetime, hours: float) -> datetime: ...
    def nearest_valid_appointments(self, t: datetime) -> tuple[datetime, datetime]: ...


LegalUnit = Literal["same_working_day", "working_days", "working_hours", "calendar_days"]
LEGAL_UNITS: tuple[str, ...] = ("same_working_day", "working_days", "working_hours", "calendar_days")


@dataclass(frozen=True)
class LegalTime:
    """A procedure's statutory processing time, in the four shapes the law writes it.

    - ``same_working_day``: "trả kết quả trong ngày làm việc; nhận sau ``receipt_cutoff`` thì trả
      trong ngày làm việc tiếp theo". ``amount`` counts working days with the day of receipt as the
      first (1 = the same day); the appointment is the close of office hours of the last one.
    - ``working_hours`` / ``working_days``: N working hours / days from acceptance (or from the next
      working day's opening when accepted at or after ``receipt_cutoff``).
    - ``calendar_days``: N days, days off included, ending at the close of office hours of the N-th
      day after receipt; a last day that is a day off moves to the close of the next working day.
    """

    amount: float
    unit: LegalUnit
    receipt_cutoff: time | None = None

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> LegalTime:
        """The legal time of a stored procedure version (``ProcedureMeta.model_dump(mode="json")``)."""
        cutoff = meta.get("receipt_cutoff")
        unit = str(meta.get("legal_unit") or "working_days")
        if unit not in LEGAL_UNITS:
            raise ValueError(f"unknown legal unit {unit!r}")
        return cls(
            amount=float(meta["legal_time"]),
            unit=unit,  # type: ignore[arg-type]  # checked against LEGAL_UNITS above
            receipt_cutoff=time.fromisoformat(cutoff) if isinstance(cutoff, str) and cutoff else None,
        )


def receipt_deadline(submitted_at: datetime, calendar: BusinessCalendar) -> datetime:
    """Online dossiers must be accepted, returned for supplementation or refused within 8 working hours;
    one arriving outside working time counts from the next working moment (the calendar does that)."""
    return calendar.add_working_hours(submitted_at, RECEIPT_WORKING_HOURS)


def processing_start(accepted_at: datetime, legal: LegalTime, calendar: BusinessCalendar) -> datetime:
    """When the processing clock starts: acceptance, or the next working day if at/after the cut-off
    (a dossier accepted at 15:00 sharp is "received after 15:00": the desk has closed its day)."""
    start = calendar.next_working_moment(accepted_at)
    if legal.receipt_cutoff is not None:
        local = accepted_at.astimezone(LOCAL_TZ)
        if local.time() >= legal.receipt_cutoff:
            next_day = datetime.combine(local.date() + timedelta(days=1), time(0, 0), LOCAL_TZ)
            start = calendar.next_working_moment(next_day)
    return start


def close_of_working_day(moment: datetime, calendar: BusinessCalendar) -> datetime:
    """The close of office hours (17:00 by default) of the working day ``moment`` counts in.

    Found through the calendar's own arithmetic, so it follows the agency's configured windows: the
    working time left in the day is what lies between the moment and the next working day's opening,
    and adding exactly that lands on the day's last close (the calendar resolves a boundary towards
    the close).
    """
    start = calendar.next_working_moment(moment)
    local = start.astimezone(LOCAL_TZ)
    next_day = datetime.combine(local.date() + timedelta(days=1), time(0, 0), LOCAL_TZ)
    left = calendar.working_hours_between(start, calendar.next_working_moment(next_day))
    return calendar.add_working_hours(start, left)


def statutory_due(accepted_at: datetime, legal: LegalTime, calendar: BusinessCalendar) -> datetime:
    """The appointment (ngày hẹn trả) printed on the receipt; bpmn/README.md lists what each rule
    yields, with its source."""
    start = processing_start(accepted_at, legal, calendar)
    if legal.unit == "same_working_day":
        extra = max(0.0, float(int(legal.amount)) - 1)
        return close_of_working_day(calendar.add_working_days(start, extra), calendar)
    if legal.unit == "working_hours":
        return calendar.add_working_hours(start, legal.amount)
    if legal.unit == "working_days":
        return calendar.add_working_days(start, legal.amount)
    # Calendar days (Civil Code 2015 Art. 147(2), 148(1), 148(5)): counting starts the day after
    # the day of receipt, the period ends at the end of its last day, and a last day that is a day
    # off gives way to the end of the next working day. "End of the day" for a desk is its close.
    first = (
        start
        if start.astimezone(LOCAL_TZ).date() != accepted_at.astimezone(LOCAL_TZ).date()
        and legal.receipt_cutoff is not None
        else accepted_at
    )
    last = first.astimezone(LOCAL_TZ).date() + timedelta(days=math.ceil(legal.amount))
    return close_of_working_day(datetime.combine(last, time(0, 0), LOCAL_TZ), calendar)


def extend_due(due_at: datetime, working_days: float, calendar: BusinessCalendar) -> datetime:
    """An appointment moved by whole or fractional working days (a due extension), keeping a close.

    The calendar counts "same time of day, n working days later" from the next working moment, so
    17:00 Friday + 2 days reads as 07:30 on the third day: the same working time, printed as a
    different day. An appointment at a window's close (17:00 of a same-working-day procedure) is
    moved as the close it is: 17:00 + 2 working days = 17:00 two working days later.
    """
    at_close = not _is_working_moment(due_at, calendar) and _is_working_moment(
        due_at - _ONE_MICROSECOND, calendar
    )
    if not at_close:
        return calendar.add_working_days(due_at, working_days)
    return calendar.add_working_days(due_at - _ONE_MICROSECOND, working_days) + _ONE_MICROSECOND


_ONE_MICROSECOND = timedelta(microseconds=1)


def _is_working_moment(moment: datetime, calendar: BusinessCalendar) -> bool:
    return calendar.next_working_moment(moment) == moment


def fee_wait_counts(meta: Mapping[str, Any]) -> bool:
    """Whether waiting for a fee (status 6) counts toward the processing time (``feeWaitCounts``).

    Default no: the clock pauses while the applicant pays, like a supplementation, but the wait is
    never a supplementation request. When yes, the clock keeps running through status 6.
    """
    return bool(meta.get("fee_wait_counts", False))


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


def amber_from(
    started_at: datetime, due_at: datetime, calendar: BusinessCalendar, threshold: float = 0.2
) -> datetime | None:
    """The moment :func:`colour` turns amber: for every ``now`` up to ``due_at`` the colour is amber
    exactly when ``now`` is at or after it; None when it is amber from the start (no working time
    allocated). Stored beside the deadline (``cases.amber_at``) so the board finds amber dossiers by
    an index range instead of colouring every running one."""
    allocated = calendar.working_hours_between(started_at, due_at)
    if allocated <= 0:
        return None
    return calendar.start_of_last_hours(due_at, allocated * threshold)


def extend_by_pause(
    due_at: datetime, paused_at: datetime, resumed_at: datetime, calendar: BusinessCalendar
) -> datetime:
    """The "extend" supplementation mode: push the due date by the working time spent waiting."""
    waited = calendar.working_hours_between(paused_at, resumed_at)
    return calendar.add_working_hours(due_at, waited)
