"""Engine settings: what an agency configures (agency code, thresholds, apology policy)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .calendar import CalendarConfig, parse_windows
from .errors import ValidationError


@dataclass(frozen=True)
class EngineSettings:
    """Defaults follow ../shared/domain; every value is overridable per deployment."""

    agency_code: str = "H99.12"
    hours_per_day: float = 8.0
    amber_threshold: float = 0.2
    max_apologies: int = 1
    library_dir: Path = field(default_factory=lambda: Path(__file__).resolve().parent.parent / "bpmn")
    calendar: CalendarConfig = field(default_factory=CalendarConfig)

    @classmethod
    def from_env(cls) -> EngineSettings:
        """Read ``MOTCUA_AGENCY_CODE`` and friends; unset values keep the defaults."""
        base = cls()
        hours_per_day = float(os.environ.get("MOTCUA_HOURS_PER_DAY", base.hours_per_day))
        return cls(
            agency_code=os.environ.get("MOTCUA_AGENCY_CODE", base.agency_code),
            hours_per_day=hours_per_day,
            calendar=calendar_from_env(base.calendar, hours_per_day),
            amber_threshold=float(os.environ.get("MOTCUA_AMBER_THRESHOLD", base.amber_threshold)),
            max_apologies=int(os.environ.get("MOTCUA_MAX_APOLOGIES", base.max_apologies)),
            library_dir=Path(os.environ.get("MOTCUA_LIBRARY_DIR", str(base.library_dir))),
        )


def calendar_from_env(base: CalendarConfig, hours_per_day: float) -> CalendarConfig:
    """An agency's desk hours: ``MOTCUA_WORKING_WINDOWS`` (``07:30-11:30,13:30-17:00``),
    ``MOTCUA_WEEKEND`` (weekday numbers, Monday = 0: ``5,6``) and ``MOTCUA_SATURDAY_RECEIVING``
    (Saturday desk windows that count for receipt only, e.g. ``07:30-11:30``)."""
    windows = os.environ.get("MOTCUA_WORKING_WINDOWS")
    weekend = os.environ.get("MOTCUA_WEEKEND")
    saturday = os.environ.get("MOTCUA_SATURDAY_RECEIVING")
    try:
        days = tuple(int(d) for d in weekend.split(",") if d.strip()) if weekend is not None else None
    except ValueError as exc:
        raise ValidationError(
            f"MOTCUA_WEEKEND '{weekend}' không hợp lệ (các số 0–6, cách nhau dấu phẩy)"
        ) from exc
    return CalendarConfig(
        windows=parse_windows(windows) if windows is not None else base.windows,
        weekend=days if days is not None else base.weekend,
        hours_per_day=hours_per_day,
        receiving_windows_saturday=(
            parse_windows(saturday) if saturday is not None else base.receiving_windows_saturday
        ),
        tz=base.tz,
    )
