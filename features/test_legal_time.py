"""Binds features/legal_time.feature: the engine's appointment for real procedures (SQLite and
PostgreSQL) and the pure rule for every way the law writes a processing time."""

from __future__ import annotations

from datetime import time
from typing import Any

from pytest_bdd import given, parsers, scenarios, then, when

from engine import sla
from engine.calendar import WorkingCalendar
from features.conftest import local

scenarios("legal_time.feature", "legal_time_rules.feature")


@given(parsers.parse('thời hạn luật định {amount:d} "{unit}" với giờ chốt "{cutoff}"'))
def legal_time(ctx: dict[str, Any], amount: int, unit: str, cutoff: str) -> None:
    given_cutoff = None if cutoff == "không" else cutoff
    ctx["legal"] = sla.LegalTime.from_meta(
        {"legal_time": amount, "legal_unit": unit, "receipt_cutoff": given_cutoff}
    )
    assert ctx["legal"].receipt_cutoff == (time.fromisoformat(given_cutoff) if given_cutoff else None)


@when(parsers.parse('hồ sơ được tiếp nhận lúc "{moment}"'))
def accepted(ctx: dict[str, Any], moment: str) -> None:
    ctx["due"] = sla.statutory_due(local(moment), ctx["legal"], WorkingCalendar())


@then(parsers.parse('ngày hẹn trả là "{moment}"'))
def appointment(ctx: dict[str, Any], moment: str) -> None:
    assert ctx["due"] == local(moment)
