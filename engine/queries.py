"""Read-side queries for the desk, the tasklist, the control sheet and the SLA board.

These read the index rows the runtime maintains (``cases``, ``work_items``) rather than workflow
state, so a tasklist over 100k cases stays one indexed query. Times left are working hours counted
through the calendar, because that is how the statutory deadlines are counted.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Select, and_, func, literal, or_, select, text, tuple_
from sqlalchemy.orm import Session

from . import board, sla
from .cases import TERMINAL_STATUSES
from .domain.vocab import CASE_STAFF
from .errors import ValidationError
from .models import BOARD_FLAGS, LATE_RECEIPT, Case, ProcedureVersion, User, WorkItem, flagged_predicate
from .statuses import STATUS_LABELS
from .text import SEARCH_SEPARATOR, search_key
from .users import Actor

STAFF_ROLES = CASE_STAFF
Colour = Literal["green", "amber", "red", "none"]


class QueueRow(BaseModel):
    """A dossier waiting at the desk (receipt or return)."""

    code: str
    procedure_id: str
    procedure_name: str
    applicant_name: str
    applicant_id_number: str | None = None
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
    day_off_appointments: int = 0
    repeat_supplements: int = 0


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
    # A calendar change put the printed appointment on a day off: offer a new one (Mẫu 04).
    day_off_appointments: list[BoardDossier] = []
    # Asked a second time for documents (with a head's approval): counted and shown apart.
    repeat_supplements: list[BoardDossier] = []


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


#: Dossiers per page of a desk queue section in the web page (the API asks for up to 500).
DESK_PAGE = 50


class DeskPage(BaseModel):
    """One page of a desk queue: its rows, how many dossiers the whole queue (with the search)
    holds, and the cursor of the next page (None on the last one)."""

    rows: list[QueueRow]
    total: int
    next_after: str | None = None


def _desk_cursor(receipt_due_at: datetime | None, submitted_at: datetime, case_id: int) -> str:
    """Opaque keyset cursor: the sort key of the last row shown."""
    due = receipt_due_at.astimezone(UTC).isoformat() if receipt_due_at is not None else ""
    raw = f"{due}|{submitted_at.astimezone(UTC).isoformat()}|{case_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def parse_desk_cursor(cursor: str) -> tuple[datetime | None, datetime, int]:
    """The sort key a cursor of :func:`_desk_cursor` holds; a ValidationError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, submitted, case_id = raw.split("|")
        key = (
            datetime.fromisoformat(due) if due else None,
            datetime.fromisoformat(submitted),
            int(case_id),
        )
    except ValueError as error:
        raise ValidationError(
            "Vị trí trang không hợp lệ", details={"fields": [{"field": "after", "message": "không hợp lệ"}]}
        ) from error
    if key[1].tzinfo is None or (key[0] is not None and key[0].tzinfo is None):
        raise ValidationError(
            "Vị trí trang không hợp lệ", details={"fields": [{"field": "after", "message": "không hợp lệ"}]}
        )
    return key


def _typed(key: tuple[Any, ...]) -> Any:
    """A cursor's sort key as a row value bound with the columns' types (times as stored)."""
    columns = (Case.receipt_due_at, Case.submitted_at, Case.id)[-len(key) :]
    return tuple_(*(literal(v, c.type) for v, c in zip(key, columns, strict=True)))


def desk_search(search: str | None) -> Any:
    """The SQL condition of a desk search (code, applicant name or CCCD contains it, accents and
    case optional), or None when there is nothing to search for."""
    wanted = search_key(search or "")
    if not wanted:
        return None
    if SEARCH_SEPARATOR in wanted:  # no field holds it: nothing matches
        return Case.id.is_(None)
    return Case.search_key.contains(wanted, autoescape=True)


def desk_queue(
    session: Session,
    now: datetime,
    calendar: sla.BusinessCalendar,
    status: int,
    limit: int = 500,
    search: str | None = None,
    after: str | None = None,
) -> DeskPage:
    """Dossiers in ``status`` with the desk's open work: 1 = awaiting receipt, 9 = awaiting return.

    Sorted by the receipt deadline (online dossiers first: they carry the 8-working-hour rule), then
    by submission time. One page of ``limit`` rows after the cursor ``after`` (keyset pagination on
    that order, so every page reads only its own rows); ``search`` is matched in SQL against each
    dossier's folded code, applicant name and CCCD (``cases.search_key``).
    """
    # Named columns, not entities (a case row carries its workflow state), and two index walks of
    # (status, receipt_due_at, submitted_at, id): dossiers with a receipt deadline, then the others.
    wanted = desk_search(search)
    scope = and_(Case.status == status, Case.completed.is_(False), *([wanted] if wanted is not None else []))
    base = (
        select(
            Case.id,
            Case.code,
            Case.procedure_id,
            Case.applicant_name,
            Case.applicant,
            Case.channel,
            Case.status,
            Case.submitted_at,
            Case.receipt_due_at,
            Case.due_at,
            ProcedureVersion.name.label("procedure_name"),
        )
        .join(ProcedureVersion, ProcedureVersion.id == Case.procedure_version_id)
        .where(scope)
    )
    key = parse_desk_cursor(after) if after else None
    found: list[Any] = []
    if key is None or key[0] is not None:
        dated = base.where(Case.receipt_due_at.is_not(None))
        if key is not None:
            dated = dated.where(tuple_(Case.receipt_due_at, Case.submitted_at, Case.id) > _typed(key))
        found += session.execute(
            dated.order_by(Case.receipt_due_at, Case.submitted_at, Case.id).limit(limit + 1)
        ).all()
    if len(found) <= limit:
        undated = base.where(Case.receipt_due_at.is_(None))
        if key is not None and key[0] is None:
            undated = undated.where(tuple_(Case.submitted_at, Case.id) > _typed(key[1:]))
        found += session.execute(
            undated.order_by(Case.submitted_at, Case.id).limit(limit + 1 - len(found))
        ).all()
    more = len(found) > limit
    found = found[:limit]
    # The whole section's size from the board's status counts (kept in the case row's write); a
    # search's matches are counted, as only they can tell.
    total = (
        board.open_in_status(session, status)
        if wanted is None
        else int(session.scalar(select(func.count()).select_from(Case).where(scope)) or 0)
    )
    desk = _desk_steps(session, [r.id for r in found])
    rows: list[QueueRow] = []
    for r in found:
        item = desk.get(r.id)
        deadline = r.receipt_due_at if status == 1 else (item.due_at if item else None)
        rows.append(
            QueueRow(
                code=r.code,
                procedure_id=r.procedure_id,
                procedure_name=r.procedure_name,
                applicant_name=r.applicant_name,
                applicant_id_number=(r.applicant or {}).get("id_number"),
                channel=r.channel,
                status=r.status,
                status_label=STATUS_LABELS.get(r.status, ""),
                submitted_at=r.submitted_at,
                receipt_due_at=r.receipt_due_at,
                due_at=r.due_at,
                task_id=item.task_id if item else None,
                task_name=item.name if item else None,
                assignee=item.assignee if item else None,
                remaining_hours=remaining_hours(now, deadline, calendar),
                breached=deadline is not None and now > deadline,
            )
        )
    last = found[-1] if found and more else None
    return DeskPage(
        rows=rows,
        total=total,
        next_after=_desk_cursor(last.receipt_due_at, last.submitted_at, last.id)
        if last is not None
        else None,
    )


def _desk_steps(session: Session, case_ids: list[int]) -> dict[int, Any]:
    """The open desk step of each listed dossier (the first one, if several).

    Looked up by case id and filtered here: a join asking SQL for "open desk steps" lets the planner
    walk every open desk step for each dossier instead.
    """
    found: dict[int, Any] = {}
    for start in range(0, len(case_ids), 500):
        for item in session.execute(
            select(
                WorkItem.id,
                WorkItem.case_id,
                WorkItem.task_id,
                WorkItem.name,
                WorkItem.assignee,
                WorkItem.due_at,
                WorkItem.role,
                WorkItem.completed_at,
            )
            .where(WorkItem.case_id.in_(case_ids[start : start + 500]))
            .order_by(WorkItem.id)
        ):
            if item.completed_at is None and item.role == "desk_clerk":
                found.setdefault(item.case_id, item)
    return found


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

    One role per query lets the partial (role, due_at, id) index of open items deliver rows sorted, so
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
    if "director" not in actor.roles:
        # engine.access.same_unit in SQL: steps routed to another unit are not "my unit's tasks";
        # unrouted steps are the role's; an account without a unit sees only those.
        mine = WorkItem.unit.is_(None)
        stmt = stmt.where(or_(mine, WorkItem.unit == actor.unit) if actor.unit is not None else mine)
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

#: Dossiers listed per board section; the counts above them cover every dossier.
BOARD_TOP = 50


def _flagged(dialect: str, flag: str) -> Any:
    """``cases.sla.flags`` holds ``flag`` (a JSON array test in each database's own spelling)."""
    return text(flagged_predicate(dialect, flag))


#: "Given a new appointment by an apology", spelt exactly as the partial index ix_cases_apologised.
APOLOGISED = {
    "sqlite": text("json_extract(cases.sla, '$.apologies') > 0"),
    "postgresql": text("CAST(cases.sla ->> 'apologies' AS INTEGER) > 0"),
}

_BOARD_COLUMNS = (
    Case.id,
    Case.code,
    Case.procedure_id,
    Case.applicant_name,
    Case.status,
    Case.received_at,
    Case.submitted_at,
    Case.due_at,
    Case.receipt_due_at,
    Case.sla,
    ProcedureVersion.name.label("procedure_name"),
)


def _board_open() -> Any:
    """Open = received or awaiting receipt, not finished and not terminal."""
    return and_(
        Case.completed.is_(False),
        Case.finished_at.is_(None),
        Case.status.not_in(TERMINAL_STATUSES),
        or_(Case.due_at.is_not(None), Case.status == 1),
    )


def sla_board(
    session: Session,
    now: datetime,
    calendar: sla.BusinessCalendar,
    threshold: float,
    recent_days: int = 30,
    top: int = BOARD_TOP,
) -> Board:
    """Breached and approaching dossiers per procedure, receipt-deadline breaches, apology status.

    Open = received or awaiting receipt, not finished and not terminal; dossiers waiting for the
    citizen (status 5) are counted as paused, not breached, because their clock is stopped. A
    dossier waiting for a fee (status 6) whose clock is paused counts as waiting for payment, never
    as a supplementation; where the procedure counts the fee wait toward processing time its clock
    runs and it is judged as usual (the groups of :func:`engine.board.group_of`).

    The counts come from the board's read model (:mod:`engine.board`: sums of count deltas plus the
    dossiers due or turning amber in the current hour) and each list holds the ``top`` most urgent
    dossiers, read by index in deadline order, so neither the queries' rows nor the page grow with
    the number of dossiers; no workflow state is read, and no dossier is coloured to be counted.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Every query below reads a few rows; PostgreSQL misjudges the partial indexes' predicates
        # (e.g. received after the receipt deadline) as thousands and starts parallel workers,
        # which alone cost more than the whole board. For this read transaction only.
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    names = dict(session.execute(select(ProcedureVersion.procedure_id, ProcedureVersion.name)).all())
    counts: dict[str, ProcedureCounts] = {}
    units: dict[str, UnitCounts] = {}

    def count(procedure_id: str) -> ProcedureCounts:
        return counts.setdefault(
            procedure_id,
            ProcedureCounts(procedure_id=procedure_id, procedure_name=names.get(procedure_id, procedure_id)),
        )

    for (procedure_id, group, lanes), tally in sorted(board.tallies(session, now).items()):
        entry = count(procedure_id)
        if group == board.DESK:
            entry.receipt_pending += tally.total
            entry.receipt_breached += tally.receipt_late
            continue
        entry.open += tally.total
        if group == board.PAUSED:
            entry.paused += tally.total
        elif group == board.PAYING:
            entry.waiting_payment += tally.total
        elif group == board.IDLE:
            entry.on_track += tally.total
        else:
            approaching = tally.amber - tally.late  # amber moment passed, deadline not yet
            entry.breached += tally.late
            entry.approaching += approaching
            entry.on_track += tally.total - tally.amber
            for lane in board.split_lanes(lanes):
                unit = units.setdefault(lane, UnitCounts(unit=lane))
                unit.open += tally.total
                unit.breached += tally.late
                unit.approaching += approaching
    running = Case.board_group == board.RUNNING
    # One pass over the apologised dossiers (the count lives in their SLA state): counts, then the top.
    apologised = APOLOGISED[session.get_bind().dialect.name]
    rescheduled_ids: list[int] = []
    for case_id, procedure_id, case_group in session.execute(
        select(Case.id, Case.procedure_id, Case.board_group)
        .where(
            apologised,
            # The running dossiers spelt without an equality on ``completed`` or the board group:
            # SQLite, which keeps no statistics, would take either for selective and walk every
            # open dossier instead of the small partial index of apologised ones. The group is
            # checked on the few rows found.
            Case.completed.is_not(True),
            Case.finished_at.is_(None),
            Case.status.not_in((1, 5, *TERMINAL_STATUSES)),
            Case.received_at.is_not(None),
            Case.due_at.is_not(None),
        )
        .order_by(Case.due_at, Case.id)
    ):
        if case_group == board.RUNNING:
            count(procedure_id).rescheduled += 1
            rescheduled_ids.append(case_id)
    # Flags the rules raise that need a person: both rare, read from open dossiers only.
    flagged: dict[str, list[int]] = {}
    for flag in BOARD_FLAGS:
        ids = flagged.setdefault(flag, [])
        for case_id, procedure_id in session.execute(
            select(Case.id, Case.procedure_id)
            .where(
                _flagged(session.get_bind().dialect.name, flag),
                # _board_open() spelt without an equality on ``completed`` (see the apologised
                # query above), so SQLite walks the flag's small partial index.
                Case.completed.is_not(True),
                Case.finished_at.is_(None),
                Case.status.not_in(TERMINAL_STATUSES),
                or_(Case.due_at.is_not(None), Case.status == 1),
            )
            .order_by(Case.due_at, Case.id)
        ):
            entry = count(procedure_id)
            if flag == "appointment_on_day_off":
                entry.day_off_appointments += 1
            else:
                entry.repeat_supplements += 1
            ids.append(case_id)
    day_off_rows = _rows_by_id(session, flagged["appointment_on_day_off"][:top])
    repeat_rows = _rows_by_id(session, flagged["repeat_supplement"][:top])
    # Both lists walk (board_group, due_at, id) from now: late ones backwards from the oldest,
    # amber ones forwards from now, skipping green ones (amber_at in the index) until ``top``.
    breached_rows = session.execute(
        _board_query().where(running, Case.due_at < now).order_by(Case.due_at, Case.id).limit(top)
    ).all()
    approaching_rows = session.execute(
        _board_query()
        .where(running, Case.due_at >= now, Case.amber_at <= now)
        .order_by(Case.due_at, Case.id)
        .limit(top)
    ).all()
    rescheduled_rows = _rows_by_id(session, rescheduled_ids[:top])
    pending_rows = session.execute(
        _board_query()
        .where(_board_open(), Case.status == 1, Case.receipt_due_at < now)
        .order_by(Case.receipt_due_at, Case.id)
        .limit(top)
    ).all()
    late_receipts = _late_receipts(session, now - timedelta(days=recent_days), now)
    for row in late_receipts:
        count(row.procedure_id).receipt_breached += 1
    steps = _open_steps(
        session,
        [
            r.id
            for rows in (breached_rows, approaching_rows, rescheduled_rows, pending_rows)
            + (day_off_rows, repeat_rows)
            for r in rows
        ]
        + [r.id for r in late_receipts[:top]],
    )

    def view(row: Any) -> BoardDossier:
        started = row.submitted_at if row.status == 1 else row.received_at
        return _dossier(row, now, calendar, threshold, steps, started)

    receipt = [view(r) for r in pending_rows] + [view(r) for r in late_receipts]
    receipt.sort(key=lambda d: d.receipt_due_at or now)
    return Board(
        generated_at=now,
        procedures=sorted(counts.values(), key=lambda c: c.procedure_name),
        breached=[view(r) for r in breached_rows],
        approaching=[view(r) for r in approaching_rows],
        receipt_breaches=receipt[:top],
        rescheduled=[view(r) for r in rescheduled_rows],
        day_off_appointments=[view(r) for r in day_off_rows],
        repeat_supplements=[view(r) for r in repeat_rows],
        units=sorted(
            (u for u in units.values() if u.open), key=lambda u: (-u.breached, -u.approaching, u.unit)
        ),
    )


def _board_query() -> Select[Any]:
    return select(*_BOARD_COLUMNS).join(ProcedureVersion, ProcedureVersion.id == Case.procedure_version_id)


def _rows_by_id(session: Session, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    found = {r.id: r for r in session.execute(_board_query().where(Case.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def _late_receipts(session: Session, since: datetime, now: datetime) -> list[Any]:
    """Dossiers past the desk whose receipt came after the 8-working-hour deadline (recent ones).

    A late receipt has a deadline already past, and either a receipt time after it or, when it was
    never received (refused, withdrawn), the breach recorded in its SLA state.
    """
    rows = session.execute(
        _board_query()
        # The predicate of the partial index ix_cases_late_receipt, spelt as it is.
        .where(text(LATE_RECEIPT), Case.receipt_due_at >= since, Case.receipt_due_at < now)
        .order_by(Case.receipt_due_at, Case.id)
    ).all()
    return [
        r
        for r in rows
        if r.sla.get("receipt_outcome") == "late" or "receipt_overdue" in r.sla.get("flags", [])
    ]


def _open_steps(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    """Open step labels per case, for the dossiers a board section lists.

    Read by case id and filtered here: asking SQL for "open" too tempts the planner to walk the
    open-items index over every open dossier instead of looking up the few listed.
    """
    found: dict[int, list[tuple[int, str]]] = {}
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        for item_id, case_id, name, lane, completed_at in session.execute(
            select(WorkItem.id, WorkItem.case_id, WorkItem.name, WorkItem.lane, WorkItem.completed_at).where(
                WorkItem.case_id.in_(chunk)
            )
        ):
            if completed_at is None:
                found.setdefault(case_id, []).append((item_id, f"{name} ({lane})" if lane else name))
    return {case_id: [label for _, label in sorted(items)] for case_id, items in found.items()}


def _dossier(
    row: Any,
    now: datetime,
    calendar: sla.BusinessCalendar,
    threshold: float,
    steps: dict[int, list[str]],
    started: datetime | None,
) -> BoardDossier:
    due = row.receipt_due_at if row.status == 1 else row.due_at
    return BoardDossier(
        code=row.code,
        procedure_id=row.procedure_id,
        procedure_name=row.procedure_name,
        applicant_name=row.applicant_name,
        status=row.status,
        status_label=STATUS_LABELS.get(row.status, ""),
        received_at=row.received_at,
        submitted_at=row.submitted_at,
        due_at=row.due_at,
        receipt_due_at=row.receipt_due_at,
        colour=_colour(now, started, due, calendar, threshold),
        remaining_hours=remaining_hours(now, due, calendar),
        apologies=int(row.sla.get("apologies", 0)),
        flags=list(row.sla.get("flags", [])),
        open_steps=steps.get(row.id, []),
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
