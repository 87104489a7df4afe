"""Dates typed into step forms stay within sensible ranges (no signing date of 01/01/1900)."""

from __future__ import annotations

from datetime import date

import pytest

from engine.date_bounds import bounds, check_dates
from engine.errors import ValidationError

FORM = {
    "type": "object",
    "properties": {
        "decision_date": {
            "type": "string",
            "title": "Ngày ký",
            "format": "date",
            "x-min-days": -365,
            "x-max-days": 0,
        },
        "inspection_date": {"type": "string", "title": "Ngày kiểm tra", "format": "date"},
        "note": {"type": "string"},
    },
}
TODAY = date(2026, 3, 2)


def test_signing_date_in_1900_or_in_the_future_is_refused() -> None:
    for bad in ("1900-01-01", "2026-03-03"):
        with pytest.raises(ValidationError) as caught:
            check_dates(FORM, {"decision_date": bad}, TODAY)
        assert caught.value.details["fields"] == [
            {
                "field": "decision_date",
                "title": "Ngày ký",
                "message": "phải trong khoảng 02/03/2025 – 02/03/2026",
            }
        ]


def test_dates_inside_their_range_and_non_dates_pass() -> None:
    check_dates(
        FORM, {"decision_date": "2026-03-02", "inspection_date": "2027-01-01", "note": "1900-01-01"}, TODAY
    )
    check_dates(FORM, {"decision_date": "not a date"}, TODAY)  # the schema's format check reports it
    check_dates(None, {"decision_date": "1900-01-01"}, TODAY)


def test_default_range_is_ten_years_back_one_year_ahead() -> None:
    low, high = bounds({}, TODAY)
    assert low == date(2016, 3, 2) and high == date(2027, 3, 3)
    with pytest.raises(ValidationError):
        check_dates(FORM, {"inspection_date": "2015-12-31"}, TODAY)
