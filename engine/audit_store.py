"""Reading what the auditor's pure modules need from the database (replay inputs, report facts).

Rows are read straight from the tables, never through the runtime's snapshot (``cases.state``), so
replay and reports stand on the history alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import sla
from .calendar import DEFAULT_OVERRIDES, WorkingCalendar
from .calendar_store import effective_overrides, history
from .clock import Clock
from .models import Case, CaseEvent, WorkItem
from .procedures import ProcedureStore
from .replay import (
    CaseState,
    Divergence,
    ReplayError,
    ReplayEvent,
    VersionSpec,
    comparable_view,
    differences,
    replay,
)
from .spiff import MotcuaScriptEngine, business_functions


def case_events(session: Session, case_id: int) -> list[ReplayEvent]:
    """A case's events in seq order, as replay takes them."""
    rows = session.execute(
        select(
            CaseEvent.seq,
            CaseEvent.at,
            CaseEvent.actor,
            CaseEvent.kind,
            CaseEvent.task_id,
            CaseEvent.element_id,
            CaseEvent.status_from,
            CaseEvent.status_to,
            CaseEvent.payload,
        )
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.seq, CaseEvent.id)
    )
    return [ReplayEvent(*row) for row in rows]


def version_spec(session: Session, procedures: ProcedureStore, case: Case) -> VersionSpec:
    """The procedure version the case is pinned to (specs are cached by the store)."""
    loaded = procedures.load(session, case.procedure_version_id)
    return VersionSpec(meta=loaded.meta, elements=loaded.elements, specs=loaded.specs)


def calendar_history(session: Session, base: WorkingCalendar) -> Callable[[datetime], sla.BusinessCalendar]:
    """The working calendar as the engine knew it at each moment.

    Overrides are appended by an admin over time; a due date computed before an override existed
    must be recomputed without it, or replay would disagree with a correct history.
    """
    rows = history(session)
    if not rows:
        return lambda _moment: base
    cache: dict[int, WorkingCalendar] = {}

    def at(moment: datetime) -> sla.BusinessCalendar:
        known = [r for r in rows if r.created_at <= moment]
        key = known[-1].id if known else 0
        if key not in cache:
            cache[key] = WorkingCalendar(base.config, (*DEFAULT_OVERRIDES, *effective_overrides(known)))
        return cache[key]

    return at


def script_engine_for(clock: Clock, calendar: sla.BusinessCalendar) -> MotcuaScriptEngine:
    """The engine's script environment (sandbox + business-time functions) on replay's own clock."""
    from .sandbox import SandboxedEnvironment

    functions = business_functions(clock, calendar.add_working_hours, calendar.add_working_days)
    return MotcuaScriptEngine(clock, SandboxedEnvironment(functions))


@dataclass(frozen=True)
class ReplayReport:
    """``audit replay``: the state at event N, the divergence if any, and the check against the snapshot."""

    code: str
    events: int
    state: CaseState | None
    divergence: Divergence | None
    # Only at the last event: fields where the replay disagrees with the stored case (empty = equal).
    snapshot_differences: dict[str, tuple[Any, Any]] | None

    @property
    def ok(self) -> bool:
        return self.divergence is None and not self.snapshot_differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.code,
            "events": self.events,
            "ok": self.ok,
            "state": self.state.to_json() if self.state is not None else None,
            "divergence": asdict(self.divergence) if self.divergence is not None else None,
            "snapshot_differences": (
                {k: list(v) for k, v in self.snapshot_differences.items()}
                if self.snapshot_differences is not None
                else None
            ),
        }


def stored_view(session: Session, case: Case) -> dict[str, Any]:
    """The engine's stored view of a case (row + open work items) in :func:`comparable_view` shape."""
    items = session.execute(
        select(
            WorkItem.task_id,
            WorkItem.element_id,
            WorkItem.role,
            WorkItem.ready_at,
            WorkItem.due_at,
            WorkItem.assignee,
        ).where(WorkItem.case_id == case.id, WorkItem.completed_at.is_(None))
    )
    return comparable_view(
        status=case.status,
        data=case.data,
        receipt_due_at=case.receipt_due_at,
        received_at=case.received_at,
        due_at=case.due_at,
        finished_at=case.finished_at,
        returned_at=case.returned_at,
        completed=case.completed,
        outcome=case.outcome,
        sla=case.sla,
        tasks=list(items),
    )


def replay_case(
    session: Session, procedures: ProcedureStore, base: WorkingCalendar, case: Case, at: int | None = None
) -> ReplayReport:
    """Replay ``case`` up to event ``at`` (default: the last) and, at the last, compare with the snapshot."""
    events = case_events(session, case.id)
    if not events:
        raise ReplayError(f"Hồ sơ {case.code} không có sự kiện nào")
    result = replay(
        version_spec(session, procedures, case),
        events,
        script_engine_for,
        calendar_history(session, base),
        until=at,
    )
    target = at if at is not None else len(events)
    state = result.states[target - 1] if len(result.states) >= target else None
    diff = None
    if state is not None and target == len(events):
        diff = differences(state.comparable(), stored_view(session, case))
    return ReplayReport(case.code, len(events), state, result.divergence, diff)
