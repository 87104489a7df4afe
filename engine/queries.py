"""Read-side queries for the desk, the tasklist, the control sheet and the SLA board.

These read the index rows the runtime maintains (``cases``, ``work_items``) rather than workflow
state, so a tasklist over 100k cases stays one indexed query. Times left are working hours counted
through the calendar, because that is how the statutory deadlines are counted.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from . import sla
from .cases import TERMINAL_STATUSES
from .domain.vocab import CASE_STAFF
from .models import Case, ProcedureVersion, User, WorkItem
from .statuses import STATUS_LABELS
from .users import Actor

STAFF_ROLES = CASE_STAFF
Colour = Literal["green", "amber", "red", "none"]


class QueueRow(BaseModel):
    """A dossier waiting at the desk (receipt or return)."""

    code: str
    procedure_id: str
    procedure_name: str
    applicant_name: str
    channel: int
    status: int
    status_label: str
    submitted_at: datetime
    receipt_due_at: datetime | None
    due_at: datetime | None
    task_id: str | None
    task_name: str | None
    assignee: str | None
    remaining_hours: float | None  # negative = overdue by that many working hours
    applicant_id_number: str | None = None
    breached: bool


class TaskRow(BaseModel):
    """One open work item as the tasklist shows it."""

    task_id: str
    element_id: str
    task_name: str
    role: str | None
    lane: str | None
    assignee: str | None
    ready_at: datetime
    due_at: datetime | None
    case_code: str
    procedure_id: str
    procedure_name: str
    applicant_name: str
    status: int
    status_label: str
    case_due_at: datetime | None
    colour: Colour
    remaining_hours: float | None


class TaskFilter(BaseModel):
    """Tasklist filters; ``scope`` mine = claimed by me, unit = open work of my roles."""

    scope: Literal["mine", "unit"] = "unit"
    procedure_id: str | None = None
    status: int | None = None
    due: Literal["overdue", "today", "week"] | None = None
    limit: int = 200


class ControlRow(BaseModel):
    """A line of the control sheet (Mẫu 05): who handed over to whom, when, and how it went."""

    element_id: str
    name: str
    role: str | None
    lane: str | None
    given_by: str
    received_at: datetime
    received_by: str | None
    handed_over_at: datetime | None
    due_at: datetime | None
    allocated_hours: float | None
    outcome: str | None
    cancelled: bool


class BoardDossier(BaseModel):
    code: str
    procedure_id: str
    procedure_name: str
    applicant_name: str
    status: int
    status_label: str
    received_at: datetime | None
    submitted_at: datetime
    due_at: datetime | None
    receipt_due_at: datetime | None
    colour: Colour
    remaining_hours: float | None
    apologies: int
    flags: list[str]
    open_steps: list[str]


class ProcedureCounts(BaseModel):
    procedure_id: str
    procedure_name: str
    open: int = 0
    breached: int = 0
    approaching: int = 0
    on_track: int = 0
    paused: int = 0  # waiting for a supplementation (status 5)
    waiting_payment: int = 0  # waiting for a fee with the clock paused (status 6): not a supplementation
    receipt_pending: int = 0
    receipt_breached: int = 0
    rescheduled: int = 0


class UnitCounts(BaseModel):
    """Open dossiers by the lane (unit) of their open step: where the time is being spent."""

    unit: str
    open: int = 0
    breached: int = 0
    approaching: int = 0


class Board(BaseModel):
    generated_at: datetime
    procedures: list[ProcedureCounts]
    breached: list[BoardDossier]
    approaching: list[BoardDossier]
    receipt_breaches: list[BoardDossier]
    rescheduled: list[BoardDossier]  # apology issued, new appointment set: still counts as late
    units: list[UnitCounts] = []


def remaining_hours(now: datetime, due: datetime | None, calendar: sla.BusinessCalendar) -> float | None:
    """Working hours left until ``due``; negative when late (by the working hours since)."""
    if due is None:
        return None
    if now <= due:
        return round(calendar.working_hours_between(now, due), 2)
    return -round(calendar.working_hours_between(due, now), 2)


def _colour(
    now: datetime,
    start: datetime | None,
    due: datetime | None,
    calendar: sla.BusinessCalendar,
    threshold: float,
) -> Colour:
    if due is None or start is None:
        return "none"
    return sla.colour(now, start, due, calendar, threshold)


# ------------------------------------------------------------------------------------------ desk


def desk_queue(
    session: Session, now: datetime, calendar: sla.BusinessCalendar, status: int, limit: int = 500
) -> list[QueueRow]:
    """Dossiers in ``status`` with the desk's open work: 1 = awaiting receipt, 9 = awaiting return.

    Sorted by the receipt deadline (online dossiers first: they carry the 8-working-hour rule), then
    by submission time.
    """
    stmt = (
        select(Case, ProcedureVersion.name, WorkItem)
        .join(ProcedureVersion, ProcedureVersion.id == Case.procedure_version_id)
        .outerjoin(
            WorkItem,
            (WorkItem.case_id == Case.id) & WorkItem.completed_at.is_(None) & (WorkItem.role == "desk_clerk"),
        )
        .where(Case.status == status, Case.completed.is_(False))
        .order_by(Case.receipt_due_at.is_(None), Case.receipt_due_at, Case.submitted_at, Case.id)
        .limit(limit)
    )
    rows: list[QueueRow] = []
    for case, name, item in session.execute(stmt):
        deadline = case.receipt_due_at if status == 1 else (item.due_at if item else None)
        rows.append(
            QueueRow(
                code=case.code,
                procedure_id=case.procedure_id,
                procedure_name=name,
                applicant_name=case.applicant_name,
                channel=case.channel,
                status=case.status,
                status_label=STATUS_LABELS.get(case.status, ""),
                submitted_at=case.submitted_at,
                receipt_due_at=case.receipt_due_at,
                due_at=case.due_at,
                task_id=item.task_id if item else None,
                task_name=item.name if item else None,
                assignee=item.assignee if item else None,
                remaining_hours=remaining_hours(now, deadline, calendar),
                breached=deadline is not None and now > deadline,
                applicant_id_number=(case.applicant or {}).get("id_number"),
            )
        )
    return rows


def search_key(text: str) -> str:
    """Case- and accent-insensitive form for matching what a clerk types ("nguyen van" finds
    "Nguyễn Văn"); đ has no decomposition, so it is mapped by hand."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def matching(rows: list[QueueRow], search: str | None) -> list[QueueRow]:
    """Rows whose dossier code, applicant name or CCCD contains ``search``."""
    wanted = search_key(search or "")
    if not wanted:
        return rows
    return [
        r
        for r in rows
        if any(wanted in search_key(v or "") for v in (r.code, r.applicant_name, r.applicant_id_number))
    ]


# -------------------------------------------------------------------------------------- tasklist


_TASK_COLUMNS = (
    WorkItem.id,
    WorkItem.task_id,
    WorkItem.element_id,
    WorkItem.name,
    WorkItem.role,
    WorkItem.lane,
    WorkItem.assignee,
    WorkItem.ready_at,
    WorkItem.due_at,
    Case.code,
    Case.procedure_id,
    Case.applicant_name,
    Case.status,
    Case.due_at.label("case_due_at"),
    ProcedureVersion.name.label("procedure_name"),
)


def _task_query(
    actor: Actor, filters: TaskFilter, now: datetime, role: str | None, dated: bool, limit: int
) -> Select[*tuple[Any, ...]]:
    """One index walk: open items of one role (or mine) in deadline order, with or without a deadline.

    One role per query lets the (completed_at, role, due_at) index deliver rows already sorted, so
    the first page costs the same with 100 or 100 000 open items; callers merge the roles.
    """
    # Named columns, not entities: a case row carries its whole workflow state, which a list never needs.
    stmt = (
        select(*_TASK_COLUMNS)
        .select_from(WorkItem)
        .join(Case, Case.id == WorkItem.case_id)
        .join(ProcedureVersion, ProcedureVersion.id == Case.procedure_version_id)
        .where(WorkItem.completed_at.is_(None))
    )
    if role is not None:
        stmt = stmt.where(WorkItem.role == role)
    if actor.unit is not None and "director" not in actor.roles:
        # Steps routed to another unit are not "my unit's tasks"; unrouted steps are the role's.
        stmt = stmt.where(or_(WorkItem.unit.is_(None), WorkItem.unit == actor.unit))
    if filters.scope == "mine":
        stmt = stmt.where(WorkItem.assignee == actor.username)
    if filters.procedure_id:
        stmt = stmt.where(Case.procedure_id == filters.procedure_id)
    if filters.status is not None:
        stmt = stmt.where(Case.status == filters.status)
    if filters.due == "overdue":
        stmt = stmt.where(WorkItem.due_at < now)
    elif filters.due in ("today", "week"):
        local = now.astimezone(sla.LOCAL_TZ)
        days = 1 if filters.due == "today" else 7
        end = datetime.combine(local.date() + timedelta(days=days), time(0, 0), sla.LOCAL_TZ)
        stmt = stmt.where(WorkItem.due_at < end)
    if dated:
        stmt = stmt.where(WorkItem.due_at.is_not(None)).order_by(WorkItem.due_at, WorkItem.id)
    else:
        stmt = stmt.where(WorkItem.due_at.is_(None)).order_by(WorkItem.ready_at, WorkItem.id)
    return stmt.limit(limit)


def _open_work(session: Session, actor: Actor, filters: TaskFilter, now: datetime) -> list[Any]:
    limit = max(1, min(filters.limit, 1000))
    roles: list[str | None] = sorted(actor.roles & STAFF_ROLES)  # type: ignore[assignment]
    if filters.scope == "mine":
        roles = [None]
    elif not roles:
        return []
    dated = [
        row
        for role in roles
        for row in session.execute(_task_query(actor, filters, now, role, True, limit)).all()
    ]
    dated.sort(key=lambda r: (r.due_at, r.id))
    found = dated[:limit]
    if len(found) < limit and filters.due is None:
        for role in roles:
            found += session.execute(_task_query(actor, filters, now, role, False, limit - len(found))).all()
    return found


def tasklist(
    session: Session,
    actor: Actor,
    filters: TaskFilter,
    now: datetime,
    calendar: sla.BusinessCalendar,
    threshold: float,
) -> list[TaskRow]:
    """Open work items of the actor (claimed) or of the actor's roles, sorted by step deadline."""
    rows: list[TaskRow] = []
    for r in _open_work(session, actor, filters, now):
        rows.append(
            TaskRow(
                task_id=r.task_id,
                element_id=r.element_id,
                task_name=r.name,
                role=r.role,
                lane=r.lane,
                assignee=r.assignee,
                ready_at=r.ready_at,
                due_at=r.due_at,
                case_code=r.code,
                procedure_id=r.procedure_id,
                procedure_name=r.procedure_name,
                applicant_name=r.applicant_name,
                status=r.status,
                status_label=STATUS_LABELS.get(r.status, ""),
                case_due_at=r.case_due_at,
                colour=_colour(now, r.ready_at, r.due_at, calendar, threshold),
                remaining_hours=remaining_hours(now, r.due_at, calendar),
            )
        )
    return rows


# --------------------------------------------------------------------------------- control sheet


def control_sheet(session: Session, case: Case) -> list[ControlRow]:
    """Every step of a case in order, with the giver being whoever finished the step before it."""
    items = list(
        session.scalars(
            select(WorkItem).where(WorkItem.case_id == case.id).order_by(WorkItem.ready_at, WorkItem.id)
        )
    )
    names = _full_names(session, {i.completed_by for i in items} | {i.assignee for i in items})
    rows: list[ControlRow] = []
    for item in items:
        previous = [
            i
            for i in items
            if i.completed_at is not None and not i.cancelled and i.completed_at <= item.ready_at
        ]
        giver = previous[-1].completed_by if previous else None
        giver_name = names.get(giver or "", giver) if giver else f"Người nộp: {case.applicant_name}"
        receiver = item.completed_by or item.assignee
        rows.append(
            ControlRow(
                element_id=item.element_id,
                name=item.name,
                role=item.role,
                lane=item.lane,
                given_by=giver_name or "",
                received_at=item.ready_at,
                received_by=names.get(receiver, receiver) if receiver else None,
                handed_over_at=item.completed_at if not item.cancelled else None,
                due_at=item.due_at,
                allocated_hours=item.allocated_hours,
                outcome=item.outcome,
                cancelled=item.cancelled,
            )
        )
    return rows


def _full_names(session: Session, usernames: set[str | None]) -> dict[str, str]:
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.full_name).where(User.username.in_(wanted)))
    return {username: full_name for username, full_name in rows}


# ------------------------------------------------------------------------------------- SLA board


def sla_board(
    session: Session, now: datetime, calendar: sla.BusinessCalendar, threshold: float, recent_days: int = 30
) -> Board:
    """Breached and approaching dossiers per procedure, receipt-deadline breaches, apology status.

    Open = received, not finished and not terminal; dossiers waiting for the citizen (status 5) are
    counted as paused, not breached, because their clock is stopped. A dossier waiting for a fee
    (status 6) whose clock is paused counts as waiting for payment, never as a supplementation; where
    the procedure counts the fee wait toward processing time its clock runs and it is judged as usual.
    """
    open_rows = session.execute(
        select(Case, ProcedureVersion.name)
        .join(ProcedureVersion, ProcedureVersion.id == Case.procedure_version_id)
        .where(
            Case.completed.is_(False),
            Case.finished_at.is_(None),
            Case.status.not_in(TERMINAL_STATUSES),
            or_(Case.due_at.is_not(None), Case.status == 1),
        )
    ).all()
    since = now - timedelta(days=recent_days)
    late_receipts = session.execute(
        select(Case, ProcedureVersion.name)
        .join(ProcedureVersion, ProcedureVersion.id == Case.procedure_version_id)
        .where(Case.receipt_due_at.is_not(None), Case.receipt_due_at >= since, Case.status != 1)
    ).all()
    steps, steps_lanes = _open_steps(session, [c.id for c, _ in open_rows])
    counts: dict[str, ProcedureCounts] = {}
    breached: list[BoardDossier] = []
    approaching: list[BoardDossier] = []
    receipt: list[BoardDossier] = []
    rescheduled: list[BoardDossier] = []
    colours: dict[int, Colour] = {}

    def count(case: Case, name: str) -> ProcedureCounts:
        return counts.setdefault(
            case.procedure_id, ProcedureCounts(procedure_id=case.procedure_id, procedure_name=name)
        )

    for case, name in open_rows:
        entry = count(case, name)
        if case.status == 1:
            entry.receipt_pending += 1
            if case.receipt_due_at is not None and now > case.receipt_due_at:
                entry.receipt_breached += 1
                receipt.append(_dossier(case, name, now, calendar, threshold, steps, case.submitted_at))
            continue
        entry.open += 1
        if case.status == 5:
            entry.paused += 1
            continue
        if _paused_for_payment(case):
            entry.waiting_payment += 1
            continue
        view = _dossier(case, name, now, calendar, threshold, steps, case.received_at)
        colours[case.id] = view.colour
        if view.apologies:
            entry.rescheduled += 1
            rescheduled.append(view)
        if view.colour == "red":
            entry.breached += 1
            breached.append(view)
        elif view.colour == "amber":
            entry.approaching += 1
            approaching.append(view)
        else:
            entry.on_track += 1
    for case, name in late_receipts:
        if case.sla.get("receipt_outcome") == "late" or "receipt_overdue" in case.sla.get("flags", []):
            count(case, name).receipt_breached += 1
            receipt.append(_dossier(case, name, now, calendar, threshold, steps, case.submitted_at))
    breached.sort(key=lambda d: d.due_at or now)
    approaching.sort(key=lambda d: d.due_at or now)
    receipt.sort(key=lambda d: d.receipt_due_at or now)
    rescheduled.sort(key=lambda d: d.due_at or now)
    units: dict[str, UnitCounts] = {}
    for case, _ in open_rows:
        if case.status in (1, 5) or _paused_for_payment(case):
            continue
        colour = colours.get(case.id, "green")
        for lane in steps_lanes.get(case.id, []) or ["—"]:
            unit = units.setdefault(lane, UnitCounts(unit=lane))
            unit.open += 1
            unit.breached += colour == "red"
            unit.approaching += colour == "amber"
    return Board(
        generated_at=now,
        procedures=sorted(counts.values(), key=lambda c: c.procedure_name),
        breached=breached,
        approaching=approaching,
        receipt_breaches=receipt,
        rescheduled=rescheduled,
        units=sorted(units.values(), key=lambda u: (-u.breached, -u.approaching, u.unit)),
    )


def _paused_for_payment(case: Case) -> bool:
    return case.status == 6 and case.sla.get("paused_at") is not None


def _open_steps(session: Session, case_ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Open step labels and the lanes (units) holding them, per case."""
    found: dict[int, list[str]] = {}
    lanes: dict[int, list[str]] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        for case_id, name, lane in session.execute(
            select(WorkItem.case_id, WorkItem.name, WorkItem.lane).where(
                WorkItem.case_id.in_(chunk), WorkItem.completed_at.is_(None)
            )
        ):
            found.setdefault(case_id, []).append(f"{name} ({lane})" if lane else name)
            if lane and lane not in lanes.setdefault(case_id, []):
                lanes[case_id].append(lane)
    return found, lanes


def _dossier(
    case: Case,
    name: str,
    now: datetime,
    calendar: sla.BusinessCalendar,
    threshold: float,
    steps: dict[int, list[str]],
    started: datetime | None,
) -> BoardDossier:
    due = case.receipt_due_at if case.status == 1 else case.due_at
    return BoardDossier(
        code=case.code,
        procedure_id=case.procedure_id,
        procedure_name=name,
        applicant_name=case.applicant_name,
        status=case.status,
        status_label=STATUS_LABELS.get(case.status, ""),
        received_at=case.received_at,
        submitted_at=case.submitted_at,
        due_at=case.due_at,
        receipt_due_at=case.receipt_due_at,
        colour=_colour(now, started, due, calendar, threshold),
        remaining_hours=remaining_hours(now, due, calendar),
        apologies=int(case.sla.get("apologies", 0)),
        flags=list(case.sla.get("flags", [])),
        open_steps=steps.get(case.id, []),
    )


# ----------------------------------------------------------------------------------- field labels


class FieldLabel(BaseModel):
    """How a dossier data field reads to people: its form title and its values' labels."""

    title: str
    labels: dict[str, str] = {}


def field_labels(session: Session, case: Case) -> dict[str, FieldLabel]:
    """Titles (and enum labels) of every form field of the case's procedure version, first form wins."""
    version = session.get(ProcedureVersion, case.procedure_version_id)
    found: dict[str, FieldLabel] = {}
    for element in (version.elements if version else {}).values():
        form = element.get("form") or {}
        for name, spec in (form.get("properties") or {}).items():
            if name in found or not isinstance(spec, dict):
                continue
            values = spec.get("enum") or (spec.get("items") or {}).get("enum") or []
            names = spec.get("x-labels") or (spec.get("items") or {}).get("x-labels") or []
            found[name] = FieldLabel(
                title=str(spec.get("title") or name),
                labels={str(v): str(names[i]) for i, v in enumerate(values) if i < len(names)},
            )
    return found
