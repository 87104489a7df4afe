"""SLA rules with real 2026 dates (pure: calendar in, moments out)."""

from __future__ import annotations

from datetime import time

import pytest

from engine import sla
from engine.calendar import WorkingCalendar
from engine.sla import LegalTime, classify, colour, extend_by_pause, receipt_deadline, statutory_due
from tests.support.fixtures import vn

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("submitted", "deadline"),
    [
        (vn(2026, 3, 6, 16, 0), vn(2026, 3, 9, 16, 30)),  # Friday afternoon → Monday
        (vn(2026, 3, 7, 10, 0), vn(2026, 3, 10, 8, 0)),  # Saturday: counts from Monday 07:30
        (vn(2026, 3, 9, 12, 0), vn(2026, 3, 10, 14, 0)),  # lunch: counts from 13:30
        (vn(2026, 3, 9, 18, 0), vn(2026, 3, 11, 8, 0)),  # after 17:00: from the next morning
        (vn(2026, 2, 13, 16, 0), vn(2026, 2, 23, 16, 30)),  # across Tết 2026 (16–20 Feb off)
        (vn(2026, 4, 29, 16, 0), vn(2026, 5, 4, 16, 30)),  # across 30/4–1/5 and a weekend
    ],
)
def test_online_receipt_deadline_is_eight_working_hours(submitted, deadline) -> None:  # type: ignore[no-untyped-def]
    assert receipt_deadline(submitted, CAL) == deadline


def test_statutory_due_in_working_days_skips_holidays() -> None:
    assert statutory_due(vn(2026, 4, 28, 9, 0), LegalTime(3, "working_days"), CAL) == vn(2026, 5, 5, 9, 0)
    # 2026 swap: Saturday 22/8 is worked, Monday 31/8 and 1–2/9 are off.
    assert statutory_due(vn(2026, 8, 21, 9, 0), LegalTime(1, "working_days"), CAL) == vn(2026, 8, 22, 9, 0)
    assert statutory_due(vn(2026, 8, 28, 9, 0), LegalTime(1, "working_days"), CAL) == vn(2026, 9, 3, 9, 0)


def test_receipt_cutoff_moves_the_start_to_the_next_working_day() -> None:
    legal = LegalTime(4, "working_hours", receipt_cutoff=time(15, 0))
    assert statutory_due(vn(2026, 3, 2, 14, 0), legal, CAL) == vn(2026, 3, 3, 8, 30)
    assert statutory_due(vn(2026, 3, 2, 15, 30), legal, CAL) == vn(2026, 3, 3, 11, 30)
    # Friday after the cut-off: Monday.
    assert statutory_due(vn(2026, 3, 6, 15, 5), legal, CAL) == vn(2026, 3, 9, 11, 30)


def test_calendar_days_never_end_on_a_day_off() -> None:
    due = statutory_due(vn(2026, 2, 10, 9, 0), LegalTime(7, "calendar_days"), CAL)
    assert due == vn(2026, 2, 23, 17, 0)  # 17/2 falls in Tết → the end of the next working day


def test_calendar_days_end_at_the_close_of_the_last_day() -> None:
    # Counting starts the day after receipt (Civil Code Art. 147(2)): 24/08 + 10 = Thu 03/09.
    assert statutory_due(vn(2026, 8, 24, 10, 0), LegalTime(10, "calendar_days"), CAL) == vn(2026, 9, 3, 17)
    # After the cut-off the day of receipt is the next working day: 03/03 + 1 = 04/03.
    late = LegalTime(1, "calendar_days", receipt_cutoff=time(15, 0))
    assert statutory_due(vn(2026, 3, 2, 15, 30), late, CAL) == vn(2026, 3, 4, 17, 0)


@pytest.mark.parametrize(
    ("accepted", "due"),
    [
        (vn(2026, 3, 2, 10, 0), vn(2026, 3, 2, 17, 0)),  # before 15:00: the same day's close
        (vn(2026, 3, 2, 6, 0), vn(2026, 3, 2, 17, 0)),  # before opening: still that day
        (vn(2026, 3, 2, 14, 59), vn(2026, 3, 2, 17, 0)),
        (vn(2026, 3, 2, 15, 0), vn(2026, 3, 3, 17, 0)),  # 15:00 sharp is "after 15:00"
        (vn(2026, 3, 2, 17, 30), vn(2026, 3, 3, 17, 0)),  # after office hours
        (vn(2026, 3, 7, 9, 0), vn(2026, 3, 9, 17, 0)),  # Saturday desk → Monday
        (vn(2026, 2, 13, 16, 0), vn(2026, 2, 23, 17, 0)),  # Fri before Tết (16–20/2 off)
        (vn(2026, 4, 29, 15, 10), vn(2026, 5, 4, 17, 0)),  # 30/4, 1/5, weekend
        (vn(2026, 8, 21, 16, 30), vn(2026, 8, 22, 17, 0)),  # Sat 22/08 is a make-up working day
        (vn(2026, 8, 28, 16, 0), vn(2026, 9, 3, 17, 0)),  # 31/8 swapped off, 1–2/9 National Day
    ],
)
def test_same_working_day_closes_at_the_end_of_office_hours(accepted, due) -> None:  # type: ignore[no-untyped-def]
    legal = LegalTime(1, "same_working_day", receipt_cutoff=time(15, 0))
    assert statutory_due(accepted, legal, CAL) == due


def test_same_working_day_counts_the_day_of_receipt_as_the_first() -> None:
    legal = LegalTime(3, "same_working_day", receipt_cutoff=time(15, 0))
    assert statutory_due(vn(2026, 2, 13, 9, 0), legal, CAL) == vn(2026, 2, 24, 17, 0)  # 13, 23, 24/02


def test_close_of_working_day_follows_the_agency_windows() -> None:
    from engine.calendar import CalendarConfig

    desk = WorkingCalendar(CalendarConfig(windows=((time(8, 0), time(11, 0)), (time(14, 0), time(16, 30)))))
    assert sla.close_of_working_day(vn(2026, 3, 2, 9, 0), desk) == vn(2026, 3, 2, 16, 30)
    legal = LegalTime(1, "same_working_day", receipt_cutoff=time(15, 0))
    assert statutory_due(vn(2026, 3, 2, 15, 5), legal, desk) == vn(2026, 3, 3, 16, 30)


def test_legal_time_from_stored_meta() -> None:
    meta = {"legal_time": 1, "legal_unit": "same_working_day", "receipt_cutoff": "15:00:00"}
    assert LegalTime.from_meta(meta) == LegalTime(1.0, "same_working_day", time(15, 0))
    assert LegalTime.from_meta({"legal_time": "40", "legal_unit": "working_hours"}).receipt_cutoff is None
    with pytest.raises(ValueError, match="legal unit"):
        LegalTime.from_meta({"legal_time": 1, "legal_unit": "weeks"})
    assert sla.fee_wait_counts({"fee_wait_counts": True}) and not sla.fee_wait_counts({})


def test_classification() -> None:
    due = vn(2026, 3, 10, 16, 0)
    assert classify(vn(2026, 3, 9, 16, 0), due) == "early"
    assert classify(vn(2026, 3, 10, 9, 0), due) == "on_time"
    assert classify(due, due) == "on_time"
    assert classify(vn(2026, 3, 10, 16, 1), due) == "late"


def test_colour_turns_amber_at_twenty_percent_left_and_red_when_late() -> None:
    start, due = vn(2026, 3, 9, 7, 30), vn(2026, 3, 10, 16, 30)  # 7.5 + 7.5 - 0.5 = 14.5 h allocated
    assert colour(vn(2026, 3, 9, 9, 0), start, due, CAL) == "green"
    assert colour(vn(2026, 3, 10, 14, 0), start, due, CAL) == "amber"  # 2.5 h left ≤ 2.9 h
    assert colour(vn(2026, 3, 10, 16, 31), start, due, CAL) == "red"


def test_extend_mode_pushes_the_due_by_the_working_time_waited() -> None:
    due = vn(2026, 3, 13, 16, 0)
    # Waited Monday 09:00 → Tuesday 09:00 = 7.5 working hours.
    assert extend_by_pause(due, vn(2026, 3, 9, 9, 0), vn(2026, 3, 10, 9, 0), CAL) == vn(2026, 3, 16, 16, 0)


def test_extensions_are_granted_by_a_true_answer_once() -> None:
    rules = [{"field": "bulk", "working_days": 2.0}, {"field": "complex", "working_days": 1.0}]
    assert sla.granted_extensions(rules, {"bulk": True, "complex": False}, []) == [("bulk", 2.0)]
    assert sla.granted_extensions(rules, {"bulk": True}, ["bulk"]) == []
    assert sla.granted_extensions(rules, {"bulk": "yes"}, []) == []  # only a real yes/no answer
    assert sla.granted_extensions(rules, {"bulk": True, "complex": True}, []) == [
        ("bulk", 2.0),
        ("complex", 1.0),
    ]


def test_extend_due_keeps_an_appointment_at_the_close() -> None:
    # Diploma copy accepted Fri 24/04 10:00 → 17:00 24/04; bulk +2 working days: 27/04 is the Hùng
    # Kings compensation day off → 28/04, 29/04 → 17:00 29/04 (not "07:30 04/05").
    assert sla.extend_due(vn(2026, 4, 24, 17, 0), 2, CAL) == vn(2026, 4, 29, 17, 0)
    assert sla.extend_due(vn(2026, 3, 2, 11, 30), 1, CAL) == vn(2026, 3, 3, 11, 30)
    assert sla.extend_due(vn(2026, 3, 2, 10, 0), 2, CAL) == vn(2026, 3, 4, 10, 0)
