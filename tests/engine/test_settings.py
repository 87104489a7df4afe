"""An agency's desk hours come from the environment and reach every deadline the engine computes."""

from __future__ import annotations

from datetime import time

import pytest

from engine.calendar import WorkingCalendar, parse_windows
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import ValidationError
from engine.service import Engine
from engine.settings import EngineSettings
from tests.support.fixtures import vn


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MOTCUA_WORKING_WINDOWS", "MOTCUA_WEEKEND", "MOTCUA_SATURDAY_RECEIVING"):
        monkeypatch.delenv(name, raising=False)
    config = EngineSettings.from_env().calendar
    assert config.windows == ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))
    assert config.weekend == (5, 6) and config.receiving_windows_saturday == ()


def test_agency_hours_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, db: Database, clock: FixedClock
) -> None:
    monkeypatch.setenv("MOTCUA_WORKING_WINDOWS", "08:00-12:00, 13:00-17:00")
    monkeypatch.setenv("MOTCUA_WEEKEND", "6")
    monkeypatch.setenv("MOTCUA_SATURDAY_RECEIVING", "")
    settings = EngineSettings.from_env()
    engine = Engine(db, clock=clock, settings=settings)
    calendar = engine.fresh_calendar()
    assert calendar.is_working_time(vn(2026, 3, 7, 8, 30))  # Saturday works at this agency
    assert not calendar.is_working_time(vn(2026, 3, 2, 7, 45))  # opens at 08:00
    # An online dossier on Friday 16:00: 1 h on Friday, 7 h on Saturday → Saturday 16:00.
    clock.set(vn(2026, 3, 6, 16, 0))
    case = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Phan Văn Khải"}, "channel": 2},
        engine.actor("clerk"),
    )
    assert case.receipt_due_at == vn(2026, 3, 7, 16, 0)


def test_saturday_receiving_hours_count_for_receipt_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_SATURDAY_RECEIVING", "07:30-11:30")
    monkeypatch.delenv("MOTCUA_WEEKEND", raising=False)
    monkeypatch.delenv("MOTCUA_WORKING_WINDOWS", raising=False)
    calendar = WorkingCalendar(EngineSettings.from_env().calendar)
    saturday = vn(2026, 3, 7, 9, 0)
    assert calendar.is_receiving_time(saturday) and not calendar.is_working_time(saturday)
    assert calendar.next_working_moment(saturday) == vn(2026, 3, 9, 7, 30)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("MOTCUA_WORKING_WINDOWS", "7h30-11h30", "7h30-11h30"),
        ("MOTCUA_WORKING_WINDOWS", "13:30-17:00,07:30-11:30", "thứ tự"),
        ("MOTCUA_WEEKEND", "sat,sun", "MOTCUA_WEEKEND"),
        ("MOTCUA_WEEKEND", "9", "0–6"),
    ],
)
def test_bad_settings_fail_at_start_with_the_culprit(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as err:
        EngineSettings.from_env()
    assert says in err.value.message


def test_parse_windows() -> None:
    assert parse_windows("07:30-11:30,13:30-17:00") == (
        (time(7, 30), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )
    assert parse_windows("") == ()
