"""Invariants of the working-time arithmetic, checked on generated moments around 2025–2027."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import WorkingCalendar

VN = timezone(timedelta(hours=7))
CAL = WorkingCalendar()  # shared: hypothesis re-runs a test body, a fixture would be built once anyway
CLOSES = {end for _, end in CAL.config.windows}

ZONES: list[tzinfo] = [UTC, VN, ZoneInfo("Asia/Ho_Chi_Minh"), ZoneInfo("Europe/Paris")]
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.sampled_from(ZONES)
)
hours = st.floats(min_value=0, max_value=200, allow_nan=False)
days = st.floats(min_value=0, max_value=60, allow_nan=False)

# Moderate: the whole file should run in a few seconds inside `make test`.
calendar_settings = settings(max_examples=150, deadline=None)


def is_window_close(t: datetime) -> bool:
    local = t.astimezone(VN)
    return CAL.is_working_day(local.date()) and local.time() in CLOSES


@calendar_settings
@given(moments, hours)
def test_result_is_a_working_moment_or_a_window_close(start: datetime, h: float) -> None:
    due = CAL.add_working_hours(start, h)
    assert CAL.is_working_time(due) or is_window_close(due)
    assert due >= start


@calendar_settings
@given(moments, hours)
def test_working_hours_between_inverts_add(start: datetime, h: float) -> None:
    t = CAL.next_working_moment(start)
    assert abs(CAL.working_hours_between(t, CAL.add_working_hours(t, h)) - h) < 1e-6


@calendar_settings
@given(moments, hours, hours)
def test_add_working_hours_is_monotonic(start: datetime, h1: float, h2: float) -> None:
    low, high = sorted((h1, h2))
    assert CAL.add_working_hours(start, low) <= CAL.add_working_hours(start, high)


@calendar_settings
@given(moments, hours, hours)
def test_adding_in_two_steps_lands_on_the_same_moment(start: datetime, h1: float, h2: float) -> None:
    # Compared in working time: a close (17:00) and the next opening (07:30) are the same working
    # instant, and the two paths round to the microsecond differently.
    once = CAL.add_working_hours(start, h1 + h2)
    twice = CAL.add_working_hours(CAL.add_working_hours(start, h1), h2)
    earlier, later = sorted((once, twice))
    assert CAL.working_hours_between(earlier, later) < 1e-9


@calendar_settings
@given(moments, days)
def test_add_working_days_never_lands_on_a_day_off(start: datetime, d: float) -> None:
    due = CAL.add_working_days(start, d)
    assert CAL.is_working_day(due.astimezone(VN).date())
    assert CAL.is_working_time(due) or is_window_close(due)


@calendar_settings
@given(moments, st.integers(min_value=0, max_value=60))
def test_whole_working_days_keep_the_time_of_day(start: datetime, d: int) -> None:
    first = CAL.next_working_moment(start)
    due = CAL.add_working_days(start, d)
    assert due.astimezone(VN).time() == first.astimezone(VN).time()


@calendar_settings
@given(moments)
def test_next_working_moment_is_idempotent_and_not_earlier(start: datetime) -> None:
    t = CAL.next_working_moment(start)
    assert t >= start
    assert CAL.is_working_time(t)
    assert CAL.next_working_moment(t) == t
    assert CAL.working_hours_between(start, t) == 0


@calendar_settings
@given(moments, moments)
def test_working_hours_between_never_exceeds_elapsed_time(a: datetime, b: datetime) -> None:
    worked = CAL.working_hours_between(a, b)
    elapsed = (b.astimezone(UTC) - a.astimezone(UTC)).total_seconds() / 3600  # not wall-clock
    assert 0 <= worked <= max(elapsed, 0) + 1e-9


def test_window_closes_are_the_configured_ones() -> None:
    assert {time(11, 30), time(17)} == CLOSES
