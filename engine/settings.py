"""Engine settings: what an agency configures (agency code, thresholds, apology policy)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class EngineSettings:
    """Defaults follow ../shared/domain; every value is overridable per deployment."""

    agency_code: str = "H99.12"
    hours_per_day: float = 8.0
    amber_threshold: float = 0.2
    max_apologies: int = 1
    library_dir: Path = field(default_factory=lambda: Path(__file__).resolve().parent.parent / "bpmn")

    @classmethod
    def from_env(cls) -> EngineSettings:
        """Read ``MOTCUA_AGENCY_CODE`` and friends; unset values keep the defaults."""
        base = cls()
        return cls(
            agency_code=os.environ.get("MOTCUA_AGENCY_CODE", base.agency_code),
            hours_per_day=float(os.environ.get("MOTCUA_HOURS_PER_DAY", base.hours_per_day)),
            amber_threshold=float(os.environ.get("MOTCUA_AMBER_THRESHOLD", base.amber_threshold)),
            max_apologies=int(os.environ.get("MOTCUA_MAX_APOLOGIES", base.max_apologies)),
            library_dir=Path(os.environ.get("MOTCUA_LIBRARY_DIR", str(base.library_dir))),
        )
