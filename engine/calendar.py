"""Working-time calendar: statutory deadlines counted in working hours and working days.

Everything here is pure: values in, values out, no clock reads and no I/O. Public functions take aware
datetimes in any zone and answer in aware UTC; callers convert for display.

How the arithmetic stays fast: every moment maps to a *working ordinal*, the number of working
microseconds since a fixed anchor day. Adding working time is then one addition plus an inversion that
indexes a list of working days — no walking minute by minute, hour by hour or even day by day. The
lists are built lazily, a year at a time, and cached on the calendar.

Why a fixed UTC offset: Asia/Ho_Chi_Minh has been +07:00 without daylight saving since 13/06/1975, so
the hot path converts with integer arithmetic instead of zoneinfo lookups. The zone is still
consulted once per day when a year is built; a configured zone whose offset changes (DST, or Vietnam
before 1976) is refused there rather than silently mis-counted.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays

from engine.errors import ValidationError

# Vietnam's offset is fixed from 1976; the holidays package knows VN up to 2100. Outside this range a
# deadline would be silently wrong, so it is refused.
FIRST_YEAR = 1976
LAST_YEAR = 2100

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Window = tuple[time, time]


def _check_windows(windows: tuple[Window, ...], *, allow_empty: bool) -> None:
    if not windows and not allow_empty:
        raise ValidationError("Lịch làm việc phải có ít nhất một khung giờ làm việc")
    previous_end: time | None = None
    for start, end in windows:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValidationError("Khung giờ làm việc là giờ địa phương, không kèm múi giờ")
        if not start < end:
            raise ValidationError(f"Khung giờ {start}–{end} không hợp lệ: bắt đầu phải trước kết thúc")
        if previous_end is not None and start < previous_end:
            raise ValidationError("Các khung giờ phải theo thứ tự và không chồng lấn nhau")
        previous_end = end


def parse_windows(text: str) -> tuple[Window, ...]:
    """``"07:30-11:30,13:30-17:00"`` → windows (for settings); raises ValidationError with the culprit."""
    windows: list[Window] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            start, end = (time.fromisoformat(x.strip()) for x in part.split("-"))
        except ValueError as exc:
            raise ValidationError(f"Khung giờ '{part}' không hợp lệ (dạng HH:MM-HH:MM)") from exc
        windows.append((start, end))
    return tuple(windows)


@dataclass(frozen=True)
class CalendarConfig:
    """An agency's working hours; published desk hours differ between agencies, hence configurable.

    ``hours_per_day`` converts *fractional* working days into working hours (0.5 day = 4 h by default).
    It is deliberately independent of the windows: the default windows hold 7.5 h while the national
    convention counts a working day as 8 h.
    """

    windows: tuple[Window, ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
    weekend: tuple[int, ...] = (5, 6)
    hours_per_day: float = 8.0
    # Saturday-morning desk hours count for receipt only, never for processing time.
    receiving_windows_saturday: tuple[Window, ...] = ()
    tz: str = "Asia/Ho_Chi_Minh"

    def __post_init__(self) -> None:
        _check_windows(self.windows, allow_empty=False)
        _check_windows(self.receiving_windows_saturday, allow_empty=True)
        if not set(self.weekend) <= set(range(7)) or len(set(self.weekend)) == 7:
            raise ValidationError("Ngày nghỉ cuối tuần phải là các thứ (0–6) và không được nghỉ cả tuần")
        if not (math.isfinite(self.hours_per_day) and self.hours_per_day > 0):
            raise ValidationError("Số giờ của một ngày làm việc phải là số dương")
        ZoneInfo(self.tz)  # fail at configuration time on an unknown zone name


@dataclass(frozen=True)
class CalendarOverride:
    """A dated exception decided by the government or the agency; it wins over holidays and weekends."""

    day: date
    kind: Literal["off", "work"]
    note: str

    def __post_init__(self) -> None:
        if self.kind not in ("off", "work"):
            raise ValidationError(f"Loại điều chỉnh lịch không hợp lệ: {self.kind!r} (chỉ 'off' hoặc 'work')")


#: A legal basis names its document's number ("số 123/TB-UBND", "01/QĐ-UBND") and date.
_DOCUMENT_NUMBER = re.compile(r"\b[sS]ố\s*\d+|\b\d+\s*/\s*[A-ZĐ]{2}")
_DOCUMENT_DATE = re.compile(r"\b\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")


def check_override(calendar: WorkingCalendar, day: date, kind: str, note: str) -> None:
    """Refuse an override the law would not make, with the reason, before anything is stored.

    A make-up day ("làm bù") pays back a day off by working on a weekend day; a day off ("nghỉ") takes
    away a working day — on a day already off it would do nothing and hide a typo. Either needs its
    legal basis: the number and the date of the document deciding it. Withdrawing an override
    (``none``) only needs a reason.
    """
    if kind == "work" and day.weekday() not in calendar.config.weekend:
        raise ValidationError(
            f"Ngày làm bù phải là ngày nghỉ cuối tuần (thứ Bảy, Chủ nhật); {day:%d/%m/%Y} là ngày thường"
        )
    if kind == "off" and not calendar.is_working_day(day):
        raise ValidationError(
            f"Ngày {day:%d/%m/%Y} đã là ngày nghỉ: chỉ đặt ngày nghỉ thêm vào ngày làm việc"
        )
    if kind in ("work", "off") and not (_DOCUMENT_NUMBER.search(note) and _DOCUMENT_DATE.search(note)):
        raise ValidationError(
            "Căn cứ phải ghi số và ngày của văn bản, ví dụ “Thông báo số 123/TB-UBND ngày 05/01/2026”"
        )


# The holidays package lists the swapped days off (29/04/2024, 02/05/2025, 31/08/2026) but not the
# Saturdays worked to pay them back; without these, deadlines over a swap would be one day late.
DEFAULT_OVERRIDES: tuple[CalendarOverride, ...] = (
    CalendarOverride(date(2024, 5, 4), "work", "Làm bù cho ngày nghỉ 29/04/2024"),
    CalendarOverride(date(2025, 4, 26), "work", "Làm bù cho ngày nghỉ 02/05/2025"),
    CalendarOverride(date(2026, 8, 22), "work", "Làm bù cho ngày nghỉ 31/08/2026"),
)

DEFAULT_CONFIG = CalendarConfig()


def calendar_sources() -> tuple[object, ...]:
    """What every working calendar is built on besides its configuration and stored overrides:
    the built-in overrides and the holidays package's version (a new release may move a day)."""
    return DEFAULT_OVERRIDES, getattr(holidays, "__version__", "")


@cache
def _package_holidays(year: int) -> Mapping[date, str]:
    # Shared across calendars: callers may build one calendar per request (overrides come from the
    # DB), and the package's first lookup of a year costs far more than the rest of the calendar.
    # country_holidays("VN") is holidays.VN, spelled so that mypy sees a typed function.
    return dict(holidays.country_holidays("VN", years=year, language="vi"))


def _require_aware(t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError("naive datetime: give a time zone (e.g. +07:00 or UTC)")


def _negative_amount(amount: float) -> ValidationError:
    return ValidationError(f"Thời gian cộng thêm phải là số không âm (nhận được {amount})")


def _epoch_day(d: date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


@dataclass(frozen=True, slots=True)
class _Span:
    """A contiguous run of whole years, replaced (never mutated) when it grows.

    Working-day ordinals count from an anchor day fixed at the first build, so ordinals taken from an
    older span stay valid in a newer one; readers need no lock.
    """

    first_year: int
    last_year: int
    first_day: int  # epoch-day number of day index 0
    day_ordinals: list[int]  # [i] = working days between the anchor and day i; one extra entry at the end
    midnights: list[datetime]  # UTC moment of local midnight of each working day, in order
    first_ordinal: int  # working-day ordinal of midnights[0]


class WorkingCalendar:
    """Working days and hours of one agency, with holidays, weekends and dated overrides.

    Overrides win over both the holidays package and the weekend rule; when two overrides name the
    same day, the later one in ``overrides`` wins.
    """

    def __init__(
        self,
        config: CalendarConfig = DEFAULT_CONFIG,
        overrides: Iterable[CalendarOverride] = DEFAULT_OVERRIDES,
    ) -> None:
        self.config = config
        self._overrides = {override.day: override for override in overrides}
        self._zone = ZoneInfo(config.tz)
        offset = datetime(FIRST_YEAR, 1, 1, 12, tzinfo=self._zone).utcoffset()
        assert offset is not None  # a ZoneInfo always has an offset
        self._offset = offset
        self._offset_us = offset // timedelta(microseconds=1)
        self._windows = self._window_table(config.windows)
        self._day_length = sum(end - start for start, end, _ in self._windows)
        self._receiving = self._window_table(config.receiving_windows_saturday)
        self._years: dict[int, list[bool]] = {}
        self._anchor: int | None = None
        self._span: _Span | None = None
        self._lock = threading.Lock()

    def with_overrides(self, *extra: CalendarOverride) -> WorkingCalendar:
        """A new calendar with more overrides; they win over this calendar's own (e.g. a fresh decree)."""
        return WorkingCalendar(self.config, (*self._overrides.values(), *extra))

    # --- days -----------------------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Whether processing time runs on this local date; a datetime is read as its local date."""
        if isinstance(d, datetime):
            d = self._local_date(d)
        return self._year_flags(d.year)[d.toordinal() - date(d.year, 1, 1).toordinal()]

    def days_off(self, year: int) -> list[tuple[date, str]]:
        """Weekdays that are not worked (holidays and override-offs), sorted; a holiday falling on a
        weekend is left out because it removes no working day (its compensation day is listed)."""
        package = _package_holidays(year)
        result = []
        for d in self._dates_of(year):
            if d.weekday() in self.config.weekend or self.is_working_day(d):
                continue
            override = self._overrides.get(d)
            reason = override.note if override is not None and override.note else package.get(d, "Ngày nghỉ")
            result.append((d, reason))
        return result

    def make_up_days(self, year: int) -> list[tuple[date, str]]:
        """Weekend days worked by override (e.g. a Saturday paying back a swapped day off), sorted."""
        return [
            (d, self._overrides[d].note)
            for d in self._dates_of(year)
            if d.weekday() in self.config.weekend and self.is_working_day(d)
        ]

    # --- moments --------------------------------------------------------------------------------

    def is_working_time(self, t: datetime) -> bool:
        """Whether ``t`` falls inside a window ([start, end): the closing minute is not worked) of a
        working day."""
        day, offset = self._local(t)
        if not self._is_working_epoch_day(day):
            return False
        return any(start <= offset < end for start, end, _ in self._windows)

    def is_receiving_time(self, t: datetime) -> bool:
        """Whether a desk may receive a dossier at ``t``: working time, or the Saturday receiving
        windows unless that Saturday is a holiday or an override day off."""
        if self.is_working_time(t):
            return True
        day, offset = self._local(t)
        d = date.fromordinal(day + _EPOCH_ORDINAL)
        if d.weekday() != 5 or not any(start <= offset < end for start, end, _ in self._receiving):
            return False
        override = self._overrides.get(d)
        if override is not None:
            return override.kind == "work"
        return d not in _package_holidays(d.year)

    def next_working_moment(self, t: datetime) -> datetime:
        """The moment processing time starts running: ``t`` itself in working time, else the next
        window's opening (morning opening, 13:30 after lunch, next working day after 17:00)."""
        return self._moment(self._ordinal(t), at_close=False)

    def nearest_valid_appointments(self, t: datetime) -> tuple[datetime, datetime]:
        """The working moments nearest to ``t``: the close of the last window before it and the next
        opening (both ``t`` itself in working time) — what to offer when an appointment typed by a
        clerk falls on a day off, at lunch or after hours (a window's close is a valid appointment)."""
        ordinal = self._ordinal(t)
        if self.is_working_time(t) or self._moment(ordinal, at_close=True) == t:
            return t, t
        return self._moment(ordinal, at_close=True), self._moment(ordinal, at_close=False)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` of working time after ``start`` (counted from its next working moment).

        When the hours run out exactly at a window's close, the close itself is returned (11:30 or
        17:00), not the next opening: a deadline "by 17:00" is met at 17:00, and the answer stays on
        the day the time was used up. Zero hours gives ``next_working_moment(start)``. Raises
        ValidationError on negative hours.
        """
        if not 0 <= hours < math.inf:  # also rejects NaN
            raise _negative_amount(hours)
        amount = round(hours * _US_PER_HOUR)
        ordinal = self._ordinal(start)
        if amount == 0:
            return self._moment(ordinal, at_close=False)
        return self._moment(ordinal + amount, at_close=True)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """The due moment ``days`` working days after ``start``, as Vietnamese desks count it.

        The whole days step to the same local time of day on the n-th next working day after the
        normalised start: received Monday 09:00 with 1 working day → due Tuesday 09:00; received
        Friday 09:00 → due Monday 09:00; received Saturday or after 17:00 → counted from the next
        opening, so due at that opening time. The fraction is added as ``fraction × hours_per_day``
        working hours with the window-close rule of :meth:`add_working_hours`. The due moment never
        falls on a day off. Raises ValidationError on negative days.
        """
        if not 0 <= days < math.inf:
            raise _negative_amount(days)
        whole = int(days)
        fraction = round((days - whole) * self.config.hours_per_day * _US_PER_HOUR)
        # Every working day has the same windows, so "same time of day, n working days later" is
        # exactly n day-lengths further in working-ordinal space from the normalised start.
        target = self._ordinal(start) + whole * self._day_length
        if fraction == 0:
            return self._moment(target, at_close=False)
        return self._moment(target + fraction, at_close=True)

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours elapsed from ``a`` to ``b`` (0 when ``b`` is not after ``a``); the inverse of
        :meth:`add_working_hours` for a start already in working time."""
        # Ordinals grow with real time, so no datetime comparison is needed; one would be wrong for two
        # datetimes sharing a DST zone around its fold, which Python compares as wall-clock times.
        return max(0, self._ordinal(b) - self._ordinal(a)) / _US_PER_HOUR

    def start_of_last_hours(self, end: datetime, hours: float) -> datetime:
        """The earliest moment from which at most ``hours`` of working time remain until ``end``:
        ``working_hours_between(t, end) <= hours`` holds for every ``t`` from it on and for no
        earlier one, with that very float comparison (so a colour read from it agrees with
        :func:`engine.sla.colour` to the microsecond). A point at a window's opening is given as the
        previous close, since the break between them leaves the same time.
        """
        if not 0 <= hours < math.inf:
            raise _negative_amount(hours)
        end_ordinal = self._ordinal(end)

        def fits(ordinal: int) -> bool:
            return max(0, end_ordinal - ordinal) / _US_PER_HOUR <= hours

        ordinal = end_ordinal - math.floor(hours * _US_PER_HOUR)
        while fits(ordinal - 1):
            ordinal -= 1
        while not fits(ordinal):
            ordinal += 1
        return self._moment(ordinal, at_close=True)

    # --- internals ------------------------------------------------------------------------------

    @staticmethod
    def _window_table(windows: tuple[Window, ...]) -> tuple[tuple[int, int, int], ...]:
        """(start, end, worked before start) in microseconds since local midnight."""
        table = []
        worked = 0
        for start, end in windows:
            start_us = _time_us(start)
            end_us = _time_us(end)
            table.append((start_us, end_us, worked))
            worked += end_us - start_us
        return tuple(table)

    def _local(self, t: datetime) -> tuple[int, int]:
        """(local epoch-day, microseconds since local midnight), with integer arithmetic only."""
        try:
            delta = t - _EPOCH
        except TypeError:  # naive minus aware
            _require_aware(t)
            raise
        into_day = delta.seconds * 1_000_000 + delta.microseconds + self._offset_us
        if into_day >= _US_PER_DAY:
            return delta.days + 1, into_day - _US_PER_DAY
        if into_day < 0:
            return delta.days - 1, into_day + _US_PER_DAY
        return delta.days, into_day

    def _local_date(self, t: datetime) -> date:
        _require_aware(t)
        return (t.astimezone(UTC) + self._offset).date()

    def _ordinal(self, t: datetime) -> int:
        """Working microseconds from the anchor to ``t``; time outside windows adds nothing, so a
        non-working moment has the ordinal of its next working moment."""
        # Hot path: _local() is inlined here, it is worth a tenth of add_working_hours.
        try:
            delta = t - _EPOCH
        except TypeError:  # naive minus aware
            _require_aware(t)
            raise
        day = delta.days
        offset = delta.seconds * 1_000_000 + delta.microseconds + self._offset_us
        if offset >= _US_PER_DAY:
            day += 1
            offset -= _US_PER_DAY
        elif offset < 0:
            day -= 1
            offset += _US_PER_DAY
        span = self._span
        if span is None or not 0 <= day - span.first_day < len(span.day_ordinals) - 1:
            span = self._grow_to_day(day)
        index = day - span.first_day
        before = span.day_ordinals[index]
        ordinal = before * self._day_length
        if span.day_ordinals[index + 1] == before:  # a day off
            return ordinal
        for start, end, worked in self._windows:
            if offset < start:
                return ordinal + worked
            if offset < end:
                return ordinal + worked + offset - start
        return ordinal + self._day_length

    def _moment(self, ordinal: int, *, at_close: bool) -> datetime:
        """Invert :meth:`_ordinal`. ``at_close`` resolves the ambiguity at a window boundary towards
        the close (end of used time) instead of the next opening (start of time to run)."""
        day_number, into_day = divmod(ordinal, self._day_length)
        if at_close and into_day == 0:
            day_number -= 1
            into_day = self._day_length
        span = self._span
        if span is None or not 0 <= day_number - span.first_ordinal < len(span.midnights):
            span = self._grow_to_working_day(day_number)
        for start, end, worked in self._windows:  # always breaks: 0 <= into_day <= day length
            into_window = into_day - worked
            if into_window < end - start or (at_close and into_window == end - start):
                break
        seconds, micro = divmod(start + into_window, 1_000_000)
        # Normalised (days, seconds, microseconds) is timedelta's fast constructor path.
        return span.midnights[day_number - span.first_ordinal] + timedelta(0, seconds, micro)

    def _is_working_epoch_day(self, day: int) -> bool:
        span = self._span
        if span is None or not 0 <= day - span.first_day < len(span.day_ordinals) - 1:
            span = self._grow_to_day(day)
        index = day - span.first_day
        return span.day_ordinals[index + 1] != span.day_ordinals[index]

    def _grow_to_day(self, day: int) -> _Span:
        year = date.fromordinal(day + _EPOCH_ORDINAL).year
        with self._lock:
            span = self._span
            if span is None:
                return self._rebuild(year, year)
            if span.first_year <= year <= span.last_year:
                return span
            return self._rebuild(min(year, span.first_year), max(year, span.last_year))

    def _grow_to_working_day(self, day_number: int) -> _Span:
        with self._lock:
            span = self._span
            assert span is not None  # an ordinal only exists after a span was built
            while (missing := day_number - span.first_ordinal - len(span.midnights) + 1) > 0:
                # A year holds at most 366 working days, so this never builds past the needed year.
                span = self._rebuild(span.first_year, span.last_year + 1 + (missing - 1) // 366)
            while day_number < span.first_ordinal:
                span = self._rebuild(span.first_year - 1, span.last_year)
            return span

    def _rebuild(self, first_year: int, last_year: int) -> _Span:
        if first_year < FIRST_YEAR or last_year > LAST_YEAR:
            raise ValidationError(
                f"Ngoài phạm vi lịch làm việc ({FIRST_YEAR}–{LAST_YEAR}): không tính được hạn xử lý"
            )
        first_day = _epoch_day(date(first_year, 1, 1))
        day_ordinals = [0]
        midnights = []
        for year in range(first_year, last_year + 1):
            for working in self._year_flags(year):
                if working:
                    day = first_day + len(day_ordinals) - 1
                    midnights.append(_EPOCH + timedelta(days=day, microseconds=-self._offset_us))
                day_ordinals.append(len(midnights))
        if self._anchor is None:
            self._anchor = first_day
        shift = day_ordinals[self._anchor - first_day]
        span = _Span(
            first_year=first_year,
            last_year=last_year,
            first_day=first_day,
            day_ordinals=[count - shift for count in day_ordinals],
            midnights=midnights,
            first_ordinal=-shift,
        )
        self._span = span
        return span

    def _year_flags(self, year: int) -> list[bool]:
        flags = self._years.get(year)
        if flags is None:
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValidationError(f"Ngoài phạm vi lịch làm việc ({FIRST_YEAR}–{LAST_YEAR})")
            package = _package_holidays(year)
            flags = [self._is_working(d, package) for d in self._dates_of(year)]
            self._years[year] = flags
        return flags

    def _is_working(self, d: date, package: Mapping[date, str]) -> bool:
        if datetime(d.year, d.month, d.day, 12, tzinfo=self._zone).utcoffset() != self._offset:
            raise ValueError(f"zone {self.config.tz} does not have a fixed offset on {d}: unsupported")
        override = self._overrides.get(d)
        if override is not None:
            return override.kind == "work"
        return d.weekday() not in self.config.weekend and d not in package

    @staticmethod
    def _dates_of(year: int) -> list[date]:
        first = date(year, 1, 1).toordinal()
        return [date.fromordinal(n) for n in range(first, date(year + 1, 1, 1).toordinal())]


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond
