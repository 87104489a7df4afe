"""Reading what the auditor's pure modules need from the database (replay inputs, report facts).

Rows are read straight from the tables, never through the runtime's snapshot (``cases.state``), so
replay and reports stand on the history alone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from . import sla
from .calendar import DEFAULT_OVERRIDES, WorkingCalendar
from .calendar_store import effective_overrides, history
from .clock import Clock
from .digital_models import FeedbackItem
from .domain.state import ROW_FIELDS, SlaState
from .domain.vocab import EventKind
from .integrity import Finding
from .models import (
    Case,
    CaseEvent,
    CaseResult,
    OutboxMessage,
    Payment,
    ProcedureVersion,
    Rating,
    User,
    WorkItem,
)
from .procedures import ProcedureStore
from .replay import (
    CaseState,
    Divergence,
    ReplayError,
    ReplayEvent,
    VersionSpec,
    comparable_view,
    differences,
    rebuild,
    replay,
)
from .reports import DESK_ROLES, DossierFacts, dossier_facts
from .spiff import MotcuaScriptEngine, business_functions

# The stored fields of an event, in ReplayEvent's order.
_REPLAY_COLUMNS = (
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


def _event(fields: Any) -> ReplayEvent:
    seq, at, actor, kind, task_id, element_id, status_from, status_to, payload = fields
    return ReplayEvent(
        kind=kind,
        at=at,
        actor=actor,
        task_id=task_id,
        element_id=element_id,
        status_from=status_from,
        status_to=status_to,
        payload=payload,
        seq=seq,
    )


def case_events(session: Session, case_id: int) -> list[ReplayEvent]:
    """A case's events in seq order, as replay takes them."""
    rows = session.execute(
        select(*_REPLAY_COLUMNS).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq, CaseEvent.id)
    )
    return [_event(row) for row in rows]


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
        **{name: getattr(case, name) for name in ROW_FIELDS},
        data=case.data,
        sla=_canonical_sla(case.sla),
        tasks=list(items),
    )


def _canonical_sla(value: Any) -> Any:
    """The stored SLA JSON as the typed state writes it; a row rewritten into another shape is kept
    as it is, so the comparison with the replayed state reports it."""
    try:
        return SlaState.from_json(value).to_json()
    except (TypeError, ValueError, AttributeError):
        return value


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


# ------------------------------------------------------------------------------------ report facts
PORTAL_SYNC_HANDLER = "portal.status_sync"  # engine.outbox.STATUS_SYNC


def load_facts(
    session: Session, before: datetime, since: datetime | None = None, active_since: datetime | None = None
) -> list[DossierFacts]:
    """Timelines of every dossier submitted before ``before`` (report windows end there) and, when
    ``since`` is given, not before it (a report of dossiers submitted in a window reads only those).

    With ``active_since`` (the start of a periodic report's window) the dossiers that cannot count
    in a window starting then are left out in SQL: those with no history, and those whose every
    event came before it, one of them ending the dossier (``reports.count_dossier`` gives them
    nothing: every moment it tests is before the window, and the dossier settled before it).

    The timeline comes from the events; the tables the history does not cover (ratings, payments,
    electronic results, portal sync, the users' units) fill the rest, and stay None (no data)
    where nothing was ever recorded.
    """
    window = [Case.submitted_at < before]
    if since is not None:
        # The row's submission time is taken a moment before the case_started event's (the facts'):
        # the margin keeps a dossier opened across the window's start; the report filters exactly.
        window.append(Case.submitted_at >= since - timedelta(hours=1))
    if active_since is not None:
        window.append(_active_since(active_since))
    cases = list(
        session.execute(
            select(Case.id, Case.code, Case.procedure_version_id).where(*window).order_by(Case.id)
        )
    )
    return facts_of(session, cases)


def facts_of(session: Session, cases: Sequence[Any]) -> list[DossierFacts]:
    """The facts of the given dossiers (rows with ``id``, ``code``, ``procedure_version_id``), in
    their order; a dossier without history has none. The one place the report facts are read from
    the tables: the reports over histories and the facts read model (engine.facts_store) both call it.
    """
    from .reports import handling_unit  # the reports' rule, kept beside the other report rules

    if not cases:
        return []
    versions = {
        row.id: row
        for row in session.execute(
            select(
                ProcedureVersion.id, ProcedureVersion.name, ProcedureVersion.elements, ProcedureVersion.meta
            ).where(ProcedureVersion.id.in_({c.procedure_version_id for c in cases}))
        )
    }
    units = {name: unit for name, unit in session.execute(select(User.username, User.unit))}
    ids = [c.id for c in cases]
    events: dict[int, list[ReplayEvent]] = {}
    ratings: dict[int, tuple[int, datetime]] = {}
    paid: dict[int, bool] = {}  # True: paid online at least once; False: cash at the desk only
    results: dict[int, bool] = {}  # True: a result signed by the agency (electronic); False: unsigned
    complaints: dict[int, list[datetime]] = {}
    synced: dict[int, bool] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for case_id, *fields in session.execute(
            select(CaseEvent.case_id, *_REPLAY_COLUMNS)
            .where(CaseEvent.case_id.in_(chunk))
            .order_by(CaseEvent.case_id, CaseEvent.seq)
        ):
            events.setdefault(case_id, []).append(readable(_event(fields)))
        for case_id, score, rated_at in session.execute(
            select(Rating.case_id, Rating.score, Rating.rated_at).where(Rating.case_id.in_(chunk))
        ):
            ratings[case_id] = (score, rated_at)
        for case_id, method in session.execute(
            select(Payment.case_id, Payment.method).where(Payment.case_id.in_(chunk))
        ):
            paid[case_id] = paid.get(case_id, False) or method == "online"
        for case_id, signer in session.execute(
            select(CaseResult.case_id, CaseResult.signer).where(CaseResult.case_id.in_(chunk))
        ):
            results[case_id] = results.get(case_id, False) or signer is not None
        for case_id, received_at in session.execute(
            select(FeedbackItem.case_id, FeedbackItem.received_at).where(
                FeedbackItem.case_id.in_(chunk), FeedbackItem.kind == "complaint"
            )
        ):
            if case_id is not None:
                complaints.setdefault(case_id, []).append(received_at)
        first_sync: dict[int, str] = {}
        for case_id, state in session.execute(
            select(OutboxMessage.case_id, OutboxMessage.state)
            .where(OutboxMessage.case_id.in_(chunk), OutboxMessage.handler == PORTAL_SYNC_HANDLER)
            .order_by(OutboxMessage.id)
        ):
            if case_id is not None:
                first_sync.setdefault(case_id, state)
        synced.update({k: v == "delivered" for k, v in first_sync.items()})
    found: list[DossierFacts] = []
    for case in cases:
        history = events.get(case.id)
        if not history:
            continue
        version = versions[case.procedure_version_id]
        rating = ratings.get(case.id)
        found.append(
            dossier_facts(
                case.code,
                history,
                procedure_name=version.name,
                elements=version.elements,
                unit=handling_unit(history, units),
                fee=int(version.meta.get("fee") or 0),
                result_type=str(version.meta.get("result_type") or "paper"),
                legal_unit=str(version.meta.get("legal_unit") or "working_days"),
                fee_wait_counts=bool(version.meta.get("fee_wait_counts", False)),
                paid_online=paid[case.id] if case.id in paid else _paid_in_form(history),
                electronic_result=results.get(case.id),
                complaints=tuple(sorted(complaints.get(case.id, ()))),
                synced=synced.get(case.id),
                rating=rating[0] if rating else None,
                rated_at=rating[1] if rating else None,
            )
        )
    return found


#: Events that end a dossier for statistics (``DossierFacts.ended_at``): the result ready, or the
#: status set to returned (10), stopped (8) or refused (3).
_ENDING_STATUSES = (3, 8, 10)


def _active_since(start: datetime) -> Any:
    """The dossier has an event at or after ``start``, or has events none of which ended it."""
    mine = CaseEvent.case_id == Case.id
    recent = select(CaseEvent.id).where(mine, CaseEvent.at >= start).exists()
    any_event = select(CaseEvent.id).where(mine).exists()
    ending = or_(
        CaseEvent.kind == EventKind.CASE_FINISHED.value,
        and_(CaseEvent.kind == EventKind.STATUS_CHANGED.value, CaseEvent.status_to.in_(_ENDING_STATUSES)),
    )
    ended = select(CaseEvent.id).where(mine, CaseEvent.at < start, ending).exists()
    return or_(recent, and_(any_event, ~ended))


_NESTED = ("data", "applicant", "diff")


def readable(event: ReplayEvent) -> ReplayEvent:
    """An event as statistics read it: a payload rewritten into another shape reads as empty.

    Reports and registers read past such a row instead of failing; reporting it is the job of the
    integrity check and replay, which read the stored row as it is.
    """
    payload = event.payload if isinstance(event.payload, Mapping) else {}
    odd = [k for k in _NESTED if k in payload and not isinstance(payload[k], Mapping)]
    if odd:
        payload = {**payload, **{k: {} for k in odd}}
    return event if payload is event.payload else replace(event, payload=payload)


def _unit(history: list[ReplayEvent], units: dict[str, str | None]) -> str | None:
    """The processing unit: that of whoever did the dossier's first step outside the desk."""
    for e in history:
        if e.kind == "task_completed" and e.payload.get("role") not in DESK_ROLES:
            return units.get(e.actor)
    return None


def _paid_in_form(history: list[ReplayEvent]) -> bool | None:
    """A fee step's recorded payment method (``payment_method`` online/desk), when there is one."""
    method = None
    for e in history:
        if e.kind == "task_completed":
            method = (e.payload.get("data") or {}).get("payment_method", method)
    return None if method is None else method == "online"


def case_history(session: Session, case: Case) -> tuple[list[ReplayEvent], dict[str, Any], dict[str, str]]:
    """A case's events, its version's elements and staff full names (for the control sheet)."""
    version = session.get(ProcedureVersion, case.procedure_version_id)
    names = {name: full for name, full in session.execute(select(User.username, User.full_name))}
    history = [readable(e) for e in case_events(session, case.id)]
    return history, (version.elements if version else {}), names


# ------------------------------------------------------------------------------------ stored rows vs history
def snapshot_findings(
    session: Session,
    procedures: ProcedureStore,
    base: WorkingCalendar,
    case_code: str | None = None,
    skip: Collection[str] = (),
) -> list[Finding]:
    """The case rows and work items checked against what their own histories rebuild.

    The hash chain proves the history was not rewritten; this proves the tables pages and reports
    read (status, dates, SLA state, open steps and who completed each step) say what the history
    says. A row edited by hand shows here even when every event is intact.
    """
    calendar_at = calendar_history(session, base)
    query = select(Case).order_by(Case.id)
    if case_code is not None:
        query = query.where(Case.code == case_code)
    found: list[Finding] = []
    for case in session.scalars(query):
        if case.code in skip:
            continue
        events = case_events(session, case.id)
        if not events:
            continue  # the chain check reports a case without history
        try:
            rebuilt = rebuild(version_spec(session, procedures, case), events, calendar_at)
        except ReplayError as exc:
            found.append(Finding(case.code, events[0].seq, "history_unreadable", exc.message))
            continue
        if rebuilt.divergence is not None:
            found.append(
                Finding(case.code, rebuilt.divergence.seq, "history_unreadable", rebuilt.divergence.reason)
            )
            continue
        diff = differences(rebuilt.states[-1].comparable(), stored_view(session, case))
        if diff:
            found.append(
                Finding(
                    case.code,
                    None,
                    "snapshot_mismatch",
                    "Dữ liệu hồ sơ đang lưu khác với trạng thái dựng lại từ nhật ký: "
                    + ", ".join(sorted(diff)),
                )
            )
        completers = {e.task_id: e.actor for e in events if e.kind == "task_completed"}
        for task_id, completed_by in session.execute(
            select(WorkItem.task_id, WorkItem.completed_by).where(
                WorkItem.case_id == case.id, WorkItem.completed_by.is_not(None)
            )
        ):
            if completers.get(task_id) != completed_by:
                found.append(
                    Finding(
                        case.code,
                        None,
                        "work_item_mismatch",
                        f"Người hoàn thành công việc {task_id} ghi trong danh sách công việc "
                        f"('{completed_by}') khác với nhật ký ('{completers.get(task_id)}')",
                    )
                )
    return found
