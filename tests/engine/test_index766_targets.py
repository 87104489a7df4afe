"""The director's view rules that need no dataset: group maxima by code, targets, months."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import ValidationError
from engine.index766 import DEFAULT_GROUP_MAX, ScorecardConfig, scorecard
from engine.index766_targets import DEFAULT_TARGETS, months_of, parse_group_max, parse_target


def test_plan_004_targets_are_the_defaults() -> None:
    assert DEFAULT_TARGETS == {
        "2.1": 1.0,
        "online": 0.994,
        "3.6": 1.0,
        "4.2": 0.996,
        "4.3": 0.98,
        "4.1": 1.0,
        "satisfied": 0.95,
        "receipt_8h": 1.0,
    }


def test_group_maxima_are_read_by_code_in_any_order() -> None:
    # Seed 004's 18/20/11/9/22/18 in its own order (… digitisation 22, satisfaction 18).
    seed = parse_group_max("CKMB=18, TDGQ=20, CLGQ=11, TTTT=9, MDSH=22, MDHL=18")
    assert seed == {"CKMB": 18, "TDGQ": 20, "CLGQ": 11, "TTTT": 9, "MDSH": 22, "MDHL": 18}
    assert parse_group_max("mdhl=18,mdsh=22,tttt=9,clgq=11,tdgq=20,ckmb=18") == seed
    card = scorecard([], date(2026, 1, 1), date(2026, 1, 31), config=ScorecardConfig(group_max=seed))
    assert (card.group("MDSH").max_points, card.group("MDHL").max_points, card.max_points) == (22, 18, 98)
    assert parse_group_max("") == {}
    assert set(DEFAULT_GROUP_MAX) == set(seed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("18,20,11,9,22,18", "theo mã nhóm"),  # by position: refused, it swaps groups silently
        ("CKMB=18,XYZ=3", "theo mã nhóm"),
        ("CKMB=mười", "không phải là số"),
        ("CKMB=120", "từ 0 đến 100"),
        ("CKMB=18,TDGQ=20", "Thiếu điểm tối đa của nhóm: CLGQ, TTTT, MDHL, MDSH"),
    ],
)
def test_bad_group_maxima_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_group_max(text)


def test_targets_are_entered_as_percentages() -> None:
    assert parse_target("online", "99,4") == pytest.approx(0.994)
    assert parse_target("2.1", "100 %") == 1.0
    with pytest.raises(ValidationError, match="Chỉ tiêu không xác định"):
        parse_target("9.9", "50")
    with pytest.raises(ValidationError, match="không phải là số phần trăm"):
        parse_target("online", "nhiều")
    with pytest.raises(ValidationError, match="từ 0 đến 100"):
        parse_target("online", "101")


def test_months_are_clipped_to_the_period() -> None:
    assert months_of(date(2025, 12, 15), date(2026, 2, 14)) == [
        (date(2025, 12, 15), date(2025, 12, 31)),
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 14)),
    ]
    assert months_of(date(2026, 3, 5), date(2026, 3, 5)) == [(date(2026, 3, 5), date(2026, 3, 5))]
