"""Sensible ranges for dates typed into step forms: a signing date of 01/01/1900 is a typo, not a
decision, and it would end up in the register and on printed forms.

A form's date property may say how far back and ahead it may lie, in days from today (local time):
``"x-min-days": -365, "x-max-days": 0`` for a signing date; without them a date must lie within ten
years back and one year ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from .errors import ValidationError

DEFAULT_MIN_DAYS = -3652
DEFAULT_MAX_DAYS = 366


def bounds(spec: Mapping[str, Any], today: date) -> tuple[date, date]:
    low = int(spec.get("x-min-days", DEFAULT_MIN_DAYS))
    high = int(spec.get("x-max-days", DEFAULT_MAX_DAYS))
    return today + timedelta(days=low), today + timedelta(days=high)


def check_dates(form: Mapping[str, Any] | None, data: Mapping[str, Any], today: date) -> None:
    """Refuse dates outside their field's range; values that are not dates are left to the schema."""
    problems = []
    for name, spec in ((form or {}).get("properties") or {}).items():
        value = data.get(name)
        if not isinstance(spec, Mapping) or spec.get("format") != "date" or not isinstance(value, str):
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            continue
        low, high = bounds(spec, today)
        if not low <= day <= high:
            title = str(spec.get("title") or name)
            message = f"phải trong khoảng {low:%d/%m/%Y} – {high:%d/%m/%Y}"
            problems.append({"field": name, "title": title, "message": message})
    if problems:
        text = "; ".join(f"{p['title']}: {p['message']}" for p in problems)
        raise ValidationError(f"Ngày không hợp lệ — {text}", details={"fields": problems})
