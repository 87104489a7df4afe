"""Working-time calendar against real Vietnamese dates, as the installed holidays package knows them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import (
    DEFAULT_OVERRIDES,
    CalendarConfig,
    CalendarOverride,
    WorkingCalendar,
)
from engine.errors import ValidationError

VN = timezone(timedelta(hours=7))


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=VN)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# --- holidays and overrides ------------------------------------------------------------------


def test_days_off_2026_are_the_weekday_holidays_of_the_package(cal: WorkingCalendar) -> None:
    assert [d for d, _ in cal.days_off(2026)] == [
        date(2026, 1, 1),
        date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19), date(2026, 2, 20),
        date(2026, 4, 27),  # Hùng Kings' day falls on Sunday 26/4: compensated on Monday
        date(2026, 4, 30), date(2026, 5, 1),
        date(2026, 8, 31),  # swapped with Saturday 22/8
        date(2026, 9, 1), date(2026, 9, 2),
        date(2026, 11, 24),
    ]  # fmt: skip
    names = dict(cal.days_off(2026))
    assert names[date(2026, 2, 17)] == "Tết Nguyên Đán"
    assert names[date(2026, 11, 24)] == "Ngày Văn hóa Việt Nam"


def test_weekend_holidays_are_not_listed_as_days_off(cal: WorkingCalendar) -> None:
    off_2027 = [d for d, _ in cal.days_off(2027)]
    assert date(2027, 2, 6) not in off_2027  # Tết on Saturday
    assert date(2027, 5, 1) not in off_2027  # Labour Day on Saturday...
    assert date(2027, 5, 3) in off_2027  # ...compensated on Monday
    assert not cal.is_working_day(date(2027, 5, 3))


def test_tet_2026(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 2, 13))
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(14, 23))
    assert cal.is_working_day(date(2026, 2, 23))
    assert cal.add_working_hours(vn(2026, 2, 13, 16), 2) == vn(2026, 2, 23, 8, 30)
    assert cal.add_working_days(vn(2026, 2, 13, 9), 1) == vn(2026, 2, 23, 9)
    assert cal.working_hours_between(vn(2026, 2, 13, 16), vn(2026, 2, 23, 8, 30)) == 2


def test_reunification_and_labour_day_2026(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 4, 30))
    assert not cal.is_working_day(date(2026, 5, 1))
    assert not cal.is_working_day(date(2026, 4, 27))
    assert cal.add_working_hours(vn(2026, 4, 29, 16), 2) == vn(2026, 5, 4, 8, 30)


def test_national_day_2026_with_adjacent_day_and_swap(cal: WorkingCalendar) -> None:
    assert [cal.is_working_day(date(2026, 8, 31) + timedelta(days=i)) for i in range(4)] == [
        False, False, False, True,
    ]  # fmt: skip
    assert cal.add_working_hours(vn(2026, 8, 28, 16), 2) == vn(2026, 9, 3, 8, 30)


def test_make_up_saturday_22_8_2026_is_worked(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 8, 22))
    assert not cal.is_working_day(date(2026, 8, 23))
    assert cal.add_working_hours(vn(2026, 8, 21, 16), 2) == vn(2026, 8, 22, 8, 30)
    assert cal.make_up_days(2026) == [(date(2026, 8, 22), "Làm bù cho ngày nghỉ 31/08/2026")]


def test_default_overrides_cover_the_make_up_saturdays_the_package_misses(cal: WorkingCalendar) -> None:
    assert [o.day for o in DEFAULT_OVERRIDES] == [date(2024, 5, 4), date(2025, 4, 26), date(2026, 8, 22)]
    assert cal.is_working_day(date(2024, 5, 4))
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2024, 4, 29))
    assert not cal.is_working_day(date(2025, 5, 2))
    bare = WorkingCalendar(overrides=())
    assert not bare.is_working_day(date(2026, 8, 22))
    assert bare.add_working_hours(vn(2026, 8, 21, 16), 2) == vn(2026, 8, 24, 8, 30)
    assert bare.make_up_days(2026) == []


def test_override_cancels_culture_day(cal: WorkingCalendar) -> None:
    assert not cal.is_working_day(date(2026, 11, 24))
    worked = cal.with_overrides(CalendarOverride(date(2026, 11, 24), "work", "Không nghỉ 24/11"))
    assert worked.is_working_day(date(2026, 11, 24))
    assert date(2026, 11, 24) not in dict(worked.days_off(2026))
    assert worked.make_up_days(2026) == cal.make_up_days(2026)  # a weekday is not a make-up day
    assert worked.add_working_hours(vn(2026, 11, 23, 16), 2) == vn(2026, 11, 24, 8, 30)


def test_override_day_off_wins_and_later_override_wins() -> None:
    extra = CalendarOverride(date(2026, 3, 10), "off", "Nghỉ đột xuất")
    cal = WorkingCalendar(overrides=(*DEFAULT_OVERRIDES, extra))
    assert not cal.is_working_day(date(2026, 3, 10))
    assert dict(cal.days_off(2026))[date(2026, 3, 10)] == "Nghỉ đột xuất"
    undone = cal.with_overrides(CalendarOverride(date(2026, 3, 10), "work", "Huỷ nghỉ"))
    assert undone.is_working_day(date(2026, 3, 10))
    assert not cal.is_working_day(date(2026, 3, 10))  # the original calendar is unchanged


def test_unknown_override_kind_is_rejected() -> None:
    with pytest.raises(ValidationError):
        CalendarOverride(date(2026, 3, 10), "holiday", "?")  # type: ignore[arg-type]


# --- moments ---------------------------------------------------------------------------------


def test_windows_are_half_open(cal: WorkingCalendar) -> None:
    assert not cal.is_working_time(vn(2026, 3, 9, 7, 29, 59))
    assert cal.is_working_time(vn(2026, 3, 9, 7, 30))
    assert cal.is_working_time(vn(2026, 3, 9, 11, 29, 59))
    assert not cal.is_working_time(vn(2026, 3, 9, 11, 30))
    assert cal.is_working_time(vn(2026, 3, 9, 13, 30))
    assert not cal.is_working_time(vn(2026, 3, 9, 17))
    assert not cal.is_working_time(vn(2026, 3, 7, 9))  # Saturday


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(2026, 3, 9, 9, 15), vn(2026, 3, 9, 9, 15)),  # already working time
        (vn(2026, 3, 9, 6), vn(2026, 3, 9, 7, 30)),  # before opening
        (vn(2026, 3, 9, 11, 30), vn(2026, 3, 9, 13, 30)),  # lunch
        (vn(2026, 3, 9, 12, 45), vn(2026, 3, 9, 13, 30)),
        (vn(2026, 3, 9, 17), vn(2026, 3, 10, 7, 30)),  # after closing
        (vn(2026, 3, 6, 17, 30), vn(2026, 3, 9, 7, 30)),  # Friday evening → Monday
        (vn(2026, 3, 8, 10), vn(2026, 3, 9, 7, 30)),  # Sunday
        (vn(2026, 2, 15, 10), vn(2026, 2, 23, 7, 30)),  # Tết
    ],
)
def test_next_working_moment(cal: WorkingCalendar, moment: datetime, expected: datetime) -> None:
    assert cal.next_working_moment(moment) == expected
    assert cal.add_working_hours(moment, 0) == expected


def test_friday_afternoon_runs_into_monday(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(vn(2026, 3, 6, 16), 3) == vn(2026, 3, 9, 9, 30)
    assert cal.working_hours_between(vn(2026, 3, 6, 16), vn(2026, 3, 9, 9)) == 2.5


def test_lunch_break_is_skipped(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(vn(2026, 3, 9, 11), 1) == vn(2026, 3, 9, 14)
    assert cal.add_working_hours(vn(2026, 3, 9, 12), 1) == vn(2026, 3, 9, 14, 30)


def test_hours_ending_at_a_close_return_the_close(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(vn(2026, 3, 9, 11), 0.5) == vn(2026, 3, 9, 11, 30)
    assert cal.add_working_hours(vn(2026, 3, 9, 7, 30), 7.5) == vn(2026, 3, 9, 17)
    assert cal.add_working_hours(vn(2026, 3, 6, 17, 30), 7.5) == vn(2026, 3, 9, 17)
    assert cal.add_working_hours(vn(2026, 3, 9, 7, 30), 15) == vn(2026, 3, 10, 17)


def test_after_closing_counts_from_next_morning(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(vn(2026, 3, 9, 17, 5), 1) == vn(2026, 3, 10, 8, 30)


def test_eight_hours_with_the_default_7_5_hour_windows(cal: WorkingCalendar) -> None:
    # The online-receipt deadline (8 working hours) spills half an hour into the next day.
    assert cal.add_working_hours(vn(2026, 3, 9, 7, 30), 8) == vn(2026, 3, 10, 8)


def test_across_the_new_year(cal: WorkingCalendar) -> None:
    assert cal.add_working_hours(vn(2026, 12, 31, 16), 2) == vn(2027, 1, 4, 8, 30)
    assert cal.working_hours_between(vn(2026, 12, 31, 16), vn(2027, 1, 4, 8, 30)) == 2


def test_long_durations_are_consistent(cal: WorkingCalendar) -> None:
    start = vn(2026, 3, 9, 9)
    due = cal.add_working_hours(start, 5000)
    assert due.year == 2028
    assert cal.working_hours_between(start, due) == pytest.approx(5000, abs=1e-9)


def test_working_hours_between_is_zero_when_not_after(cal: WorkingCalendar) -> None:
    assert cal.working_hours_between(vn(2026, 3, 9, 10), vn(2026, 3, 9, 10)) == 0
    assert cal.working_hours_between(vn(2026, 3, 9, 10), vn(2026, 3, 9, 9)) == 0
    assert cal.working_hours_between(vn(2026, 3, 9, 12), vn(2026, 3, 9, 13)) == 0


# --- working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (vn(2026, 3, 9, 9), 1, vn(2026, 3, 10, 9)),  # Monday 09:00 → Tuesday 09:00
        (vn(2026, 3, 6, 9), 1, vn(2026, 3, 9, 9)),  # Friday → Monday
        (vn(2026, 3, 9, 9), 5, vn(2026, 3, 16, 9)),
        (vn(2026, 3, 7, 10), 1, vn(2026, 3, 10, 7, 30)),  # Saturday: counted from Monday's opening
        (vn(2026, 3, 9, 17, 30), 1, vn(2026, 3, 11, 7, 30)),  # after closing
        (vn(2026, 3, 9, 12), 1, vn(2026, 3, 10, 13, 30)),  # lunch: from the afternoon opening
        (vn(2026, 3, 9, 9), 1.5, vn(2026, 3, 10, 15)),  # + 0.5 × 8 h = 4 h over lunch
        (vn(2026, 3, 9, 7, 30), 0.5, vn(2026, 3, 9, 11, 30)),  # fraction ending at a close
        (vn(2026, 3, 9, 12), 0, vn(2026, 3, 9, 13, 30)),
        (vn(2026, 4, 29, 9), 1, vn(2026, 5, 4, 9)),  # over 30/4–1/5
        (vn(2026, 8, 21, 9), 1, vn(2026, 8, 22, 9)),  # onto the make-up Saturday
        (vn(2026, 8, 22, 9), 1, vn(2026, 8, 24, 9)),
        (vn(2026, 8, 28, 9), 1, vn(2026, 9, 3, 9)),  # over the swapped Monday and National Day
    ],
)
def test_add_working_days(cal: WorkingCalendar, start: datetime, days: float, expected: datetime) -> None:
    assert cal.add_working_days(start, days) == expected


def test_hours_per_day_and_windows_are_configurable() -> None:
    config = CalendarConfig(windows=((time(7), time(11, 30)), (time(13, 30), time(17))), hours_per_day=8)
    cal = WorkingCalendar(config)
    assert cal.add_working_hours(vn(2026, 3, 9, 7), 8) == vn(2026, 3, 9, 17)
    assert cal.add_working_days(vn(2026, 3, 9, 7), 0.5) == vn(2026, 3, 9, 11)
    assert cal.next_working_moment(vn(2026, 3, 9, 6)) == vn(2026, 3, 9, 7)


# --- receipt ---------------------------------------------------------------------------------


def test_saturday_receiving_windows_count_for_receipt_only() -> None:
    cal = WorkingCalendar(CalendarConfig(receiving_windows_saturday=((time(7, 30), time(11, 30)),)))
    saturday = vn(2026, 3, 7, 8)
    assert cal.is_receiving_time(saturday)
    assert not cal.is_working_time(saturday)
    assert cal.next_working_moment(saturday) == vn(2026, 3, 9, 7, 30)
    assert not cal.is_receiving_time(vn(2026, 3, 7, 11, 30))
    assert not cal.is_receiving_time(vn(2026, 3, 7, 14))
    assert not cal.is_receiving_time(vn(2026, 3, 8, 8))  # Sunday
    assert not cal.is_receiving_time(vn(2027, 2, 6, 8))  # Tết on a Saturday
    assert cal.is_receiving_time(vn(2026, 3, 9, 8))  # ordinary working time
    assert not cal.is_receiving_time(vn(2026, 3, 9, 12))
    closed = cal.with_overrides(CalendarOverride(date(2026, 3, 7), "off", "Nghỉ"))
    assert not closed.is_receiving_time(saturday)


def test_no_saturday_receiving_by_default(cal: WorkingCalendar) -> None:
    assert not cal.is_receiving_time(vn(2026, 3, 7, 8))
    assert cal.is_receiving_time(vn(2026, 8, 22, 8))  # make-up Saturday is working time


# --- zones and inputs ------------------------------------------------------------------------


@pytest.mark.parametrize("zone", [UTC, VN, ZoneInfo("Asia/Ho_Chi_Minh"), ZoneInfo("Europe/Paris")])
def test_input_zone_does_not_change_the_answer(cal: WorkingCalendar, zone: timezone | ZoneInfo) -> None:
    start = vn(2026, 3, 6, 16).astimezone(zone)
    due = cal.add_working_hours(start, 3)
    assert due == vn(2026, 3, 9, 9, 30)
    assert due.tzinfo is UTC
    assert due.utcoffset() == timedelta(0)
    assert cal.add_working_days(start, 1).tzinfo is UTC
    assert cal.next_working_moment(start).tzinfo is UTC
    assert cal.is_working_time(start)
    assert cal.is_working_day(start)  # a datetime is read as its local date


def test_utc_midnight_is_already_morning_in_vietnam(cal: WorkingCalendar) -> None:
    # 01:00 UTC on Monday is 08:00 in Hà Nội; 23:00 UTC on Sunday is 06:00 on Monday.
    assert cal.is_working_time(datetime(2026, 3, 9, 1, tzinfo=UTC))
    assert cal.next_working_moment(datetime(2026, 3, 8, 23, tzinfo=UTC)) == vn(2026, 3, 9, 7, 30)


def test_naive_datetimes_are_rejected(cal: WorkingCalendar) -> None:
    naive = datetime(2026, 3, 9, 9)
    aware = vn(2026, 3, 9, 9)
    calls: list[Callable[[], object]] = [
        lambda: cal.is_working_time(naive),
        lambda: cal.is_receiving_time(naive),
        lambda: cal.is_working_day(naive),
        lambda: cal.next_working_moment(naive),
        lambda: cal.add_working_hours(naive, 1),
        lambda: cal.add_working_days(naive, 1),
        lambda: cal.working_hours_between(naive, aware),
        lambda: cal.working_hours_between(aware, naive),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="naive"):
            call()


@pytest.mark.parametrize("amount", [-1, -0.001, float("nan"), float("inf")])
def test_negative_or_non_finite_amounts_are_rejected(cal: WorkingCalendar, amount: float) -> None:
    with pytest.raises(ValidationError):
        cal.add_working_hours(vn(2026, 3, 9, 9), amount)
    with pytest.raises(ValidationError):
        cal.add_working_days(vn(2026, 3, 9, 9), amount)


def test_dates_outside_the_supported_range_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValidationError):
        cal.add_working_hours(vn(1970, 3, 9, 9), 1)
    with pytest.raises(ValidationError):
        cal.add_working_hours(vn(2100, 12, 30, 9), 100)
    with pytest.raises(ValidationError):
        cal.is_working_day(date(2101, 1, 3))


def test_zone_with_daylight_saving_is_refused() -> None:
    cal = WorkingCalendar(CalendarConfig(tz="Europe/Paris"))
    with pytest.raises(ValueError, match="fixed offset"):
        cal.is_working_day(date(2026, 3, 9))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"windows": ()},
        {"windows": ((time(11), time(9)),)},
        {"windows": ((time(7, 30), time(11, 30)), (time(11), time(17)))},
        {"weekend": (0, 1, 2, 3, 4, 5, 6)},
        {"weekend": (7,)},
        {"hours_per_day": 0},
        {"receiving_windows_saturday": ((time(12), time(8)),)},
    ],
)
def test_invalid_configuration_is_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CalendarConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("moment", "before", "after"),
    [
        # Saturday 05/12/2026 09:00 → the close of Friday 04/12 or the opening of Monday 07/12.
        (vn(2026, 12, 5, 9, 0), vn(2026, 12, 4, 17, 0), vn(2026, 12, 7, 7, 30)),
        (vn(2026, 3, 2, 12, 0), vn(2026, 3, 2, 11, 30), vn(2026, 3, 2, 13, 30)),  # lunch
        (vn(2026, 3, 2, 18, 0), vn(2026, 3, 2, 17, 0), vn(2026, 3, 3, 7, 30)),  # after hours
        (vn(2026, 2, 17, 9, 0), vn(2026, 2, 13, 17, 0), vn(2026, 2, 23, 7, 30)),  # Tết
        (vn(2026, 3, 2, 9, 0), vn(2026, 3, 2, 9, 0), vn(2026, 3, 2, 9, 0)),  # already valid
        (vn(2026, 3, 2, 17, 0), vn(2026, 3, 2, 17, 0), vn(2026, 3, 2, 17, 0)),  # a close is valid
    ],
)
def test_nearest_valid_appointments(moment: datetime, before: datetime, after: datetime) -> None:
    assert WorkingCalendar().nearest_valid_appointments(moment) == (before, after)
