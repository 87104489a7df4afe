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
    assert due == vn(2026, 2, 23, 7, 30)  # 17/2 falls in Tết → first working moment after it


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
