"""``apply(state, event)``: how each kind of event changes a case — the only place that says so.

The runtime applies the events its rules emit to the case it stores; replay applies recorded events
to rebuild the case at any point. Dispatch is exhaustive: an event kind nobody handles raises
:class:`UnknownEvent` (a test checks every :class:`EventKind` has a handler).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from .. import sla
from ..errors import MotcuaError
from .procedure import ProcedureFacts
from .state import CaseState, Event, OpenTask, SlaState, Withdrawal
from .vocab import APOLOGY_KINDS, CLOSED_WITHOUT_RESULT, EventKind, Status

CalendarAt = Callable[[datetime], sla.BusinessCalendar]


class UnknownEvent(MotcuaError):
    """An event whose kind or content the rules cannot apply (a rewritten or foreign row)."""

    code = "unknown_event"


#: Which flag an ``sla_breach`` of each rule raises.
BREACH_FLAGS = {"receipt_8_working_hours": "receipt_overdue", "statutory_due": "overdue"}


def apply(state: CaseState, event: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    """Change ``state`` in place as ``event`` says; raise :class:`UnknownEvent` if it cannot."""
    handler = _HANDLERS.get(event.kind)
    if handler is None:
        raise UnknownEvent(f"loại sự kiện không biết: '{event.kind}'")
    try:
        handler(state, event, facts, calendar_at)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnknownEvent(f"không áp dụng được sự kiện '{event.kind}': {type(exc).__name__}: {exc}") from exc
    if event.seq:
        state.last_seq = event.seq
    if state.history_format < 2 and (
        event.kind == EventKind.CASE_COMPLETED or event.status_to in CLOSED_WITHOUT_RESULT
    ):
        # Histories before format 2 record no task_cancelled: a closed case has no open steps.
        state.tasks.clear()


def evolve(state: CaseState, event: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> CaseState:
    """The state after ``event``, leaving ``state`` as it was."""
    nxt = state.copy()
    apply(nxt, event, facts, calendar_at)
    return nxt


def rebuild(
    events: Iterable[Event], facts: ProcedureFacts, calendar_at: CalendarAt
) -> list[tuple[Event, CaseState]]:
    """The state after each event, from the events alone (no workflow execution)."""
    state = CaseState()
    out: list[tuple[Event, CaseState]] = []
    for event in events:
        apply(state, event, facts, calendar_at)
        out.append((event, state.copy()))
    return out


# ------------------------------------------------------------------------------------ handlers
Handler = Callable[[CaseState, Event, ProcedureFacts, CalendarAt], None]


def _started(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    p = e.payload
    s.procedure_id = str(p["procedure_id"])
    s.version = int(p["version"])
    s.channel = int(p["channel"])
    s.applicant = dict(p.get("applicant") or {})
    s.data = dict(p.get("data") or {})
    s.status = int(e.status_to or Status.NEW)
    s.submitted_at = e.at
    s.receipt_due_at = _moment(p.get("receipt_due_at"))
    s.sla = SlaState()
    s.history_format = int(p.get("format", 1))


def _task_completed(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    data = e.payload.get("data") or {}
    if not isinstance(data, Mapping):
        raise TypeError("task data is not an object")
    s.data = {**s.data, **data}
    s.tasks.pop(str(e.task_id), None)


def _nothing(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    """Recorded for the history; the state does not change (the derived events that follow do)."""


def _apology(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    kind = str(e.payload.get("kind") or "late")
    if kind not in APOLOGY_KINDS:
        raise ValueError(f"unknown apology kind {kind!r}")
    if kind == "late":
        s.sla.apologies += 1
        s.sla.late_by_apology = True
        s.due_at = _required(e.payload.get("new_due_at"))
        return
    # A mistake or a calendar change: apologised for, not late; a new appointment is optional.
    s.sla.mistake_apologies += 1
    new_due = _moment(e.payload.get("new_due_at"))
    if new_due is not None:
        s.due_at = new_due
        _unflag(s, "appointment_on_day_off")


def _supplement_approved(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.sla.repeat_approved = True


def _calendar_changed(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    p = e.payload
    if "receipt_due_at" in p:
        s.receipt_due_at = _required(p["receipt_due_at"])
    dues = p.get("task_dues") or {}
    if not isinstance(dues, Mapping):
        raise TypeError("task_dues is not an object")
    for task_id, due in dues.items():
        task = s.tasks[str(task_id)]
        s.tasks[task.task_id] = OpenTask(**{**task.__dict__, "due_at": _moment(due)})
    if p.get("appointment_on_day_off"):
        _flag(s, "appointment_on_day_off")
    else:
        _unflag(s, "appointment_on_day_off")


def _repeat_request(s: CaseState) -> None:
    """A second supplementation request in one phase: flagged, and the head's approval is used up."""
    _flag(s, "repeat_supplement")
    s.sla.repeat_approved = False


def _flag(s: CaseState, flag: str) -> None:
    if flag not in s.sla.flags:
        s.sla.flags.append(flag)


def _unflag(s: CaseState, flag: str) -> None:
    if flag in s.sla.flags:
        s.sla.flags.remove(flag)


def _breach(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    flag = BREACH_FLAGS[str(e.payload.get("rule"))]
    if flag not in s.sla.flags:
        s.sla.flags.append(flag)


def _document(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.documents.append(dict(e.payload))


def _payment(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.payments.append(dict(e.payload))


def _result(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.results.append(dict(e.payload))


def _assign(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    task = s.tasks[str(e.task_id)]
    who = e.payload.get("assignee") if e.kind != EventKind.TASK_RELEASED else None
    s.tasks[task.task_id] = OpenTask(**{**task.__dict__, "assignee": str(who) if who else None})


def _withdrawal_requested(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    paper = e.payload.get("paper")
    document_id = paper.get("document_id") if isinstance(paper, Mapping) else None
    s.sla.withdrawal = Withdrawal(
        e.at,
        str(e.payload.get("reason", "")),
        s.status,
        int(document_id) if document_id is not None else None,
    )


def _status(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    old, new = s.status, int(e.status_to)  # type: ignore[arg-type]
    if new == Status.WITHDRAWAL_REQUESTED and "reason" in e.payload:
        # Before format 2 the withdrawal request was recorded as this status change alone.
        s.sla.withdrawal = Withdrawal(e.at, str(e.payload["reason"]), old)
    s.status = new
    if old == Status.NEW and s.channel == sla.ONLINE_CHANNEL and s.sla.receipt_decided_at is None:
        s.sla.receipt_decided_at = e.at
        if s.receipt_due_at is not None:
            s.sla.receipt_outcome = "late" if e.at > s.receipt_due_at else "on_time"
    if new == Status.SUPPLEMENT and s.received_at is None and s.history_format >= 4:
        s.sla.receipt_supplements += 1
        if s.sla.receipt_supplements > 1:
            _repeat_request(s)
    if new == Status.RECEIVED:
        s.received_at = e.at
    elif new == Status.NEW and old == Status.SUPPLEMENT and s.channel == sla.ONLINE_CHANNEL:
        # Supplemented before acceptance: the desk gets a fresh 8 working hours.
        s.receipt_due_at = sla.receipt_deadline(e.at, calendar_at(e.at))
        s.sla.receipt_decided_at = None
    elif new == Status.RETURNED:
        s.returned_at = e.at
        s.completed = True
    if new in CLOSED_WITHOUT_RESULT:
        s.finished_at = s.finished_at or e.at
        s.completed = True


def _due_set(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.due_at = _required(e.payload.get("due_at"))
    if "paused_at" in e.payload:  # the clock resumes
        s.sla.paused_at = None
        s.sla.waiting_for = None
    if s.history_format >= 4:
        _unflag(s, "appointment_on_day_off")  # a due the calendar computed is a working moment
    reason = str(e.payload.get("reason", ""))
    if reason.startswith("extended_"):
        s.sla.extensions.append(reason.removeprefix("extended_"))


def _paused(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    waiting = e.payload.get("waiting_for", "supplementation")
    if waiting not in ("supplementation", "payment"):
        raise ValueError(f"unknown waiting_for {waiting!r}")
    s.sla.paused_at = e.at
    s.sla.waiting_for = waiting
    if waiting == "supplementation":
        s.sla.supplements += 1
        if s.sla.supplements > 1:
            s.sla.late_766 = True
            if s.history_format >= 4:
                _repeat_request(s)


def _finished(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.finished_at = e.at
    s.outcome = e.payload.get("outcome")


def _ready(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    element = str(e.element_id)
    s.tasks[str(e.task_id)] = OpenTask(
        task_id=str(e.task_id),
        element_id=element,
        name=facts.name_of(element),
        role=e.payload.get("role"),
        lane=facts.lane_of(element),
        ready_at=e.at,
        due_at=_moment(e.payload.get("due_at")),
        unit=e.payload.get("unit"),
    )


def _cancelled(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.tasks.pop(str(e.task_id))


def _completed(s: CaseState, e: Event, facts: ProcedureFacts, calendar_at: CalendarAt) -> None:
    s.completed = True
    s.finished_at = s.finished_at or e.at


_HANDLERS: dict[str, Handler] = {
    EventKind.CASE_STARTED: _started,
    EventKind.TASK_COMPLETED: _task_completed,
    EventKind.TIMER_FIRED: _nothing,
    EventKind.APOLOGY_ISSUED: _apology,
    EventKind.SLA_BREACH: _breach,
    EventKind.DOCUMENT_ADDED: _document,
    EventKind.TASK_CLAIMED: _assign,
    EventKind.TASK_RELEASED: _assign,
    EventKind.TASK_REASSIGNED: _assign,
    EventKind.FEE_PAID: _payment,
    EventKind.RESULT_ATTACHED: _result,
    EventKind.WITHDRAWAL_REQUESTED: _withdrawal_requested,
    EventKind.WITHDRAWAL_CONFIRMED: _nothing,
    # Recorded facts kept by their own modules (engine.identity, engine.digitise): no case field moves.
    EventKind.IDENTITY_CHECKED: _nothing,
    EventKind.IDENTITY_OVERRIDDEN: _nothing,
    EventKind.DOCUMENT_DIGITISED: _nothing,
    EventKind.DOCUMENT_REUSED: _document,  # a component of the dossier, like an upload
    EventKind.SECRET_REISSUED: _nothing,  # only the secret's digest on the case row changes
    EventKind.SUPPLEMENT_APPROVED: _supplement_approved,
    EventKind.CALENDAR_CHANGED: _calendar_changed,
    EventKind.STATUS_CHANGED: _status,
    EventKind.DUE_SET: _due_set,
    EventKind.CLOCK_PAUSED: _paused,
    EventKind.CASE_FINISHED: _finished,
    EventKind.TASK_READY: _ready,
    EventKind.TASK_CANCELLED: _cancelled,
    EventKind.CASE_COMPLETED: _completed,
}


def handled_kinds() -> frozenset[str]:
    """Event kinds :func:`apply` knows (a test checks this is every :class:`EventKind`)."""
    return frozenset(_HANDLERS)


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _required(value: Any) -> datetime:
    moment = _moment(value)
    if moment is None:
        raise ValueError("a required moment is missing")
    return moment
