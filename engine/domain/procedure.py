"""What the case rules read from a procedure version: statuses, steps, legal time, clock settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import sla


@dataclass(frozen=True)
class ProcedureFacts:
    """A version's rule inputs; built once per loaded version (runtime) or per replay.

    ``spec_names`` gives each BPMN element's own name and lane, for user tasks that carry no
    ``motcua:step`` name (foreign diagrams).
    """

    meta: Mapping[str, Any]
    elements: Mapping[str, Mapping[str, Any]]
    spec_names: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def element(self, element_id: str) -> Mapping[str, Any]:
        return self.elements.get(element_id) or {}

    def status_of(self, element_id: str) -> int | None:
        status = self.element(element_id).get("status")
        return int(status) if status is not None else None

    def role_of(self, element_id: str) -> str | None:
        role = self.element(element_id).get("role")
        return str(role) if role is not None else None

    def hours_of(self, element_id: str) -> float | None:
        hours = self.element(element_id).get("hours")
        return float(hours) if hours else None

    def name_of(self, element_id: str) -> str:
        own, _ = self.spec_names.get(element_id, (None, None))
        return str(self.element(element_id).get("name") or own or element_id)

    def lane_of(self, element_id: str) -> str | None:
        _, lane = self.spec_names.get(element_id, (None, None))
        value = self.element(element_id).get("lane") or lane
        return str(value) if value else None

    def unit_of(self, element_id: str) -> str | None:
        """The unit a step is routed to (its lane's or its own ``motcua`` assignment), if declared."""
        unit = self.element(element_id).get("unit")
        return str(unit) if unit else None

    def legal_time(self) -> sla.LegalTime:
        return sla.LegalTime.from_meta(self.meta)

    @property
    def clock_mode(self) -> str:
        """How supplementation moves the due date: ``restart`` (count again) or ``extend``."""
        return str(self.meta.get("clock_mode") or "restart")

    @property
    def repeat_supplement(self) -> str:
        """A second supplementation request: ``refuse`` (the law's default) or ``head_approval``."""
        return str(self.meta.get("repeat_supplement") or "refuse")

    @property
    def fee_wait_counts(self) -> bool:
        """Whether waiting for a fee counts toward the processing time (default: it does not)."""
        return sla.fee_wait_counts(self.meta)

    @property
    def due_extensions(self) -> Sequence[Mapping[str, Any]]:
        return tuple(self.meta.get("due_extensions") or ())

    @property
    def fee(self) -> int:
        return int(self.meta.get("fee") or 0)

    @property
    def code(self) -> str:
        return str(self.meta.get("code", ""))
