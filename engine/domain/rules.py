"""Decide: what events an input causes, given the case's state (pure; no database, no clock).

An operation is a :class:`Step`: the rules below look at the state, emit events, and every event is
applied at once (``evolve.apply``), so the next rule sees its effect. The runtime stores the events
of a step; replay feeds the recorded inputs through the very same functions and compares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .. import sla
from ..errors import SlaViolation, ValidationError
from .evolve import CalendarAt, apply
from .procedure import ProcedureFacts
from .state import HISTORY_FORMAT, CaseState, Event
from .vocab import (
    APOLOGY_KINDS,
    TERMINAL,
    WAITING_FOR_APPLICANT,
    EventKind,
    Status,
    label,
)

#: Finishing exactly at the deadline is on time, so an SLA check runs just after it.
SLA_TIMER_GRACE = timedelta(seconds=1)
RECEIPT_TIMER = "receipt_sla"
DUE_TIMER = "due_sla"


@dataclass(frozen=True)
class ReadyTask:
    """A user task SpiffWorkflow holds ready."""

    task_id: str
    element_id: str


@dataclass(frozen=True)
class Observation:
    """What one run of SpiffWorkflow did, as the rules need it (see ``engine.operations.observe``)."""

    reached: tuple[str, ...]  # elements completed by the engine in this run, in order (no user tasks)
    walked: tuple[str, ...]  # BPMN elements completed in this run, in order (the path on the diagram)
    ready: tuple[ReadyTask, ...]  # every ready user task after the run
    timers: tuple[tuple[str, str, datetime], ...]  # waiting BPMN timers: (task id, element id, due)
    completed: bool


class Step:
    """One operation on one case: the state it works on and the events it has emitted so far."""

    def __init__(
        self,
        state: CaseState,
        facts: ProcedureFacts,
        calendar: sla.BusinessCalendar,
        at: datetime,
        actor: str,
        calendar_at: CalendarAt | None = None,
        on_emit: Callable[[Event], None] | None = None,
    ) -> None:
        self.on_emit = on_emit
        self.state = state
        self.facts = facts
        self.calendar = calendar
        self.at = at
        self.actor = actor
        self.calendar_at: CalendarAt = calendar_at or (lambda _moment: calendar)
        self.events: list[Event] = []

    def emit(
        self,
        kind: EventKind,
        *,
        task_id: str | None = None,
        element_id: str | None = None,
        status_from: int | None = None,
        status_to: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> Event:
        event = Event(
            kind=str(kind),
            at=self.at,
            actor=self.actor,
            task_id=task_id,
            element_id=element_id,
            status_from=status_from,
            status_to=status_to,
            payload=dict(payload or {}),
        )
        apply(self.state, event, self.facts, self.calendar_at)
        self.events.append(event)
        if self.on_emit is not None:
            self.on_emit(event)
        return event


# ------------------------------------------------------------------------------------ inputs
def start(
    step: Step,
    *,
    procedure_id: str,
    version: int,
    channel: int,
    applicant: Mapping[str, Any],
    data: Mapping[str, Any],
    history_format: int = HISTORY_FORMAT,
) -> None:
    """A dossier is submitted (online) or entered at the counter."""
    receipt_due = sla.receipt_deadline(step.at, step.calendar) if channel == sla.ONLINE_CHANNEL else None
    payload: dict[str, Any] = {
        "procedure_id": procedure_id,
        "version": version,
        "channel": channel,
        "applicant": dict(applicant),
        "data": dict(data),
        "receipt_due_at": _iso(receipt_due),
    }
    if history_format >= 2:
        payload["format"] = history_format
    step.emit(EventKind.CASE_STARTED, status_to=Status.NEW, payload=payload)


def task_completed(step: Step, task_id: str, element_id: str, answers: Mapping[str, Any]) -> None:
    """A person completed a step with ``answers``; a granted due extension follows."""
    before = step.state.data
    after = {**before, **answers}
    open_task = step.state.tasks.get(task_id)
    step_due = open_task.due_at if open_task is not None else None
    step.emit(
        EventKind.TASK_COMPLETED,
        task_id=task_id,
        element_id=element_id,
        payload={
            "data": dict(answers),
            "diff": _diff(before, after),
            "role": step.facts.role_of(element_id),
            "due_at": _iso(step_due),
            "outcome": sla.classify(step.at, step_due) if step_due else None,
        },
    )
    _extend_due(step, answers)


def timer_fired(step: Step, task_id: str, element_id: str, due: datetime) -> None:
    """A BPMN timer fired (the workflow run that follows is observed separately)."""
    step.emit(EventKind.TIMER_FIRED, task_id=task_id, element_id=element_id, payload={"due_at": _iso(due)})


def breached_rule(state: CaseState, timer_kind: str, now: datetime) -> str | None:
    """The statutory rule an SLA timer finds broken when it fires at ``now`` (None: nothing broken)."""
    if (
        timer_kind == RECEIPT_TIMER
        and state.status == Status.NEW
        and state.receipt_due_at is not None
        and now > state.receipt_due_at
    ):
        return "receipt_8_working_hours"
    if (
        timer_kind == DUE_TIMER
        and state.due_at is not None
        and state.finished_at is None
        and now > state.due_at
        and state.status not in WAITING_FOR_APPLICANT
        and state.status not in TERMINAL
    ):
        return "statutory_due"
    return None


def sla_breach(step: Step, rule: str) -> None:
    """Record a broken statutory time (its flag shows on the board)."""
    due = step.state.receipt_due_at if rule == "receipt_8_working_hours" else step.state.due_at
    step.emit(EventKind.SLA_BREACH, payload={"rule": rule, "due_at": _iso(due)})


def check_apology(
    state: CaseState,
    now: datetime,
    new_due: datetime | None,
    reason: str,
    max_apologies: int,
    kind: str = "late",
) -> None:
    """What makes an apology letter (Mẫu 04) acceptable; raises with the reason it is not.

    ``late``: a new appointment after the old one, at most ``max_apologies`` times; the case counts as
    late. ``mistake`` (plan 003: "sai sót"): a reason, and a new appointment only if one is needed.
    ``calendar``: a printed appointment that a declared day off now covers gets a new one.
    """
    if kind not in APOLOGY_KINDS:
        raise ValidationError(f"Loại phiếu xin lỗi không hợp lệ: '{kind}' (late, mistake hoặc calendar)")
    if not reason.strip():
        raise ValidationError(
            "Phải nêu lý do chậm trễ trong phiếu xin lỗi"
            if kind == "late"
            else "Phải nêu sai sót (hoặc lý do hẹn lại) trong phiếu xin lỗi"
        )
    if kind == "mistake" and new_due is None:
        return  # an apology without a new appointment: nothing about the appointment to check
    if state.completed or state.finished_at is not None:
        raise ValidationError("Hồ sơ đã xử lý xong, không hẹn lại ngày trả kết quả")
    if state.due_at is None:
        raise ValidationError("Hồ sơ chưa được tiếp nhận nên chưa có ngày hẹn trả")
    if new_due is None:
        raise ValidationError(
            "Phải nhập ngày hẹn trả kết quả mới",
            details={"fields": [{"field": "new_due", "message": "thiếu trường bắt buộc"}]},
        )
    if kind == "late":
        if state.sla.apologies >= max_apologies:
            raise SlaViolation(f"Hồ sơ đã được hẹn lại {max_apologies} lần — không được hẹn lại thêm")
        if new_due <= max(now, state.due_at):
            raise ValidationError("Ngày hẹn mới phải sau ngày hẹn cũ và sau thời điểm hiện tại")
        return
    if kind == "calendar" and "appointment_on_day_off" not in state.sla.flags:
        raise ValidationError("Ngày hẹn trả của hồ sơ không rơi vào ngày nghỉ: không cần hẹn lại vì lịch")
    if new_due <= now:
        raise ValidationError("Ngày hẹn mới phải sau thời điểm hiện tại")


def check_appointment(calendar: sla.BusinessCalendar, moment: datetime) -> None:
    """A new appointment must be a moment the desk works (a window's close counts): one typed on a
    day off, at lunch or after hours is refused with the nearest valid moments, never moved silently."""
    before, after = calendar.nearest_valid_appointments(moment)
    if before == moment or after == moment:
        return
    raise ValidationError(
        f"Ngày hẹn mới {_local_text(moment)} nằm ngoài giờ làm việc. Hãy chọn {_local_text(before)} "
        f"hoặc {_local_text(after)}.",
        details={
            "fields": [{"field": "new_due", "message": "ngoài giờ làm việc"}],
            "nearest": [before.isoformat(), after.isoformat()],
        },
    )


def apology_issued(
    step: Step, new_due: datetime | None, reason: str, unit_at_fault: str, kind: str = "late"
) -> None:
    """An apology letter (Mẫu 04): for lateness with a new appointment (the case still counts as late),
    or for a mistake or a calendar change (not late), with a new appointment or none."""
    payload: dict[str, Any] = {
        "form": "Mẫu 04",
        "reason": reason.strip(),
        "unit_at_fault": unit_at_fault,
        "original_due_at": _iso(step.state.due_at),
        "new_due_at": _iso(new_due),
    }
    if kind != "late":  # histories before the kinds hold late apologies without the field
        payload["kind"] = kind
    step.emit(EventKind.APOLOGY_ISSUED, payload=payload)


def require_apology_if_late(state: CaseState, now: datetime, max_apologies: int) -> None:
    """A late dossier may not be processed further before the applicant got an apology letter."""
    if (
        state.due_at is not None
        and state.finished_at is None
        and state.status == Status.PROCESSING
        and now > state.due_at
        and state.sla.apologies < max_apologies
    ):
        raise SlaViolation(
            "Hồ sơ đã quá hạn: cần lập Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) trước khi "
            "tiếp tục xử lý",
            details={"due_at": _iso(state.due_at)},
        )


def supplementation_requested(state: CaseState, facts: ProcedureFacts, seen: Observation) -> bool:
    """Whether a workflow run asks the applicant for documents (reaches a step in status 5)."""
    if state.status == Status.SUPPLEMENT:
        return False
    elements = (*seen.reached, *(t.element_id for t in seen.ready))
    return any(facts.status_of(element) == Status.SUPPLEMENT for element in elements)


def check_supplement_request(
    state: CaseState, facts: ProcedureFacts, element_id: str, answers: Mapping[str, Any], seen: Observation
) -> None:
    """Supplementation is asked for once, listing everything missing (Mẫu 02; rules.md): a second
    request at the desk or from a processing department is refused, unless the procedure allows it
    with a head of department's approval and that approval was given. Raises with the reason."""
    if state.history_format < 4 or not supplementation_requested(state, facts, seen):
        return
    form = facts.element(element_id).get("form") or {}
    listed = answers.get("missing_documents")
    if "missing_documents" in (form.get("properties") or {}) and not listed:
        raise ValidationError(
            "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02) phải liệt kê một lần đầy đủ mọi thành phần "
            "hồ sơ cần bổ sung",
            details={"fields": [{"field": "missing_documents", "message": "chưa chọn thành phần nào"}]},
        )
    at_desk = state.received_at is None
    asked = state.sla.receipt_supplements if at_desk else state.sla.supplements
    if asked < 1:
        return
    where = "khi tiếp nhận" if at_desk else "trong quá trình giải quyết"
    if asked >= 2:
        raise ValidationError(
            f"Hồ sơ đã được yêu cầu bổ sung hai lần {where}: không được yêu cầu bổ sung thêm",
            details={"supplements": asked, "phase": "receipt" if at_desk else "processing"},
        )
    if facts.repeat_supplement != "head_approval":
        raise ValidationError(
            f"Hồ sơ đã được yêu cầu bổ sung một lần {where} (Mẫu 02). Mọi thành phần còn thiếu phải được "
            "nêu đầy đủ trong một lần; không được yêu cầu bổ sung lần thứ hai — hãy "
            + ("tiếp nhận hoặc từ chối hồ sơ." if at_desk else "kết luận trên hồ sơ hiện có."),
            details={"supplements": asked, "phase": "receipt" if at_desk else "processing"},
        )
    if not state.sla.repeat_approved:
        raise ValidationError(
            f"Hồ sơ đã được yêu cầu bổ sung một lần {where}. Thủ tục cho phép yêu cầu bổ sung lần thứ hai "
            "chỉ khi Lãnh đạo phòng phê duyệt: hãy đề nghị Lãnh đạo phòng phê duyệt trước.",
            details={"supplements": asked, "phase": "receipt" if at_desk else "processing"},
        )


def check_supplement_approval(state: CaseState, facts: ProcedureFacts, reason: str) -> None:
    """A head may allow one more supplementation request only where the procedure provides for it,
    after a first request, on an open case, with a reason; raises with what is wrong."""
    if state.history_format < 4 or facts.repeat_supplement != "head_approval":
        raise ValidationError(
            "Thủ tục này không cho phép yêu cầu bổ sung hồ sơ lần thứ hai (chỉ được yêu cầu bổ sung một lần)"
        )
    if state.completed or state.finished_at is not None:
        raise ValidationError("Hồ sơ đã kết thúc, không còn yêu cầu bổ sung")
    asked = state.sla.receipt_supplements if state.received_at is None else state.sla.supplements
    if asked < 1:
        raise ValidationError("Hồ sơ chưa được yêu cầu bổ sung lần nào: lần đầu không cần phê duyệt")
    if asked >= 2:
        raise ValidationError("Hồ sơ đã được yêu cầu bổ sung hai lần: không được phê duyệt thêm")
    if state.sla.repeat_approved:
        raise ValidationError("Đã có phê duyệt yêu cầu bổ sung lần thứ hai chưa dùng")
    if not reason.strip():
        raise ValidationError("Phải nêu lý do phê duyệt yêu cầu bổ sung lần thứ hai")


def supplement_approved(step: Step, reason: str) -> None:
    """A head of department allows one more supplementation request (it will be counted and flagged)."""
    phase = "receipt" if step.state.received_at is None else "processing"
    step.emit(EventKind.SUPPLEMENT_APPROVED, payload={"reason": reason.strip(), "phase": phase})


def calendar_moves(state: CaseState, facts: ProcedureFacts, calendar: sla.BusinessCalendar) -> dict[str, Any]:
    """What a changed working calendar moves in an open case (empty: nothing).

    The online receipt deadline (8 working hours from the moment the desk got the dossier, which is
    when its receipt step opened) and every open step's due are recomputed; the appointment printed
    on the receipt stays, but one that now falls outside working time is flagged so that the desk
    offers a new appointment (Mẫu 04).
    """
    if state.completed:
        return {}
    moves: dict[str, Any] = {}
    if (
        state.status == Status.NEW
        and state.channel == sla.ONLINE_CHANNEL
        and state.receipt_due_at is not None
        and state.sla.receipt_decided_at is None
    ):
        opened = [t.ready_at for t in state.tasks.values()]
        base = max(opened) if opened else state.submitted_at
        if base is not None:
            receipt_due = sla.receipt_deadline(base, calendar)
            if receipt_due != state.receipt_due_at:
                moves["receipt_due_at"] = _iso(receipt_due)
                moves["previous_receipt_due_at"] = _iso(state.receipt_due_at)
    dues: dict[str, str | None] = {}
    for task in state.tasks.values():
        hours = facts.hours_of(task.element_id)
        if not hours:
            continue
        due = calendar.add_working_hours(task.ready_at, hours)
        if state.due_at is not None and state.finished_at is None:
            due = min(due, state.due_at)
        if due != task.due_at:
            dues[task.task_id] = _iso(due)
    if dues:
        moves["task_dues"] = dues
    on_day_off = False
    if state.running and state.due_at is not None:
        nearest = calendar.nearest_valid_appointments(state.due_at)
        on_day_off = state.due_at not in nearest
    if not moves and on_day_off == ("appointment_on_day_off" in state.sla.flags):
        return {}
    moves["appointment_on_day_off"] = on_day_off
    if on_day_off:
        moves["nearest"] = [_iso(m) for m in nearest]
    return moves


def calendar_changed(step: Step, day: str, change: str, basis: str, moves: Mapping[str, Any]) -> None:
    """A declared day off (``off``) or make-up day (``work``; ``none`` withdraws one) moved this open
    case's deadlines (``moves`` from :func:`calendar_moves`), evented so the timeline shows it."""
    step.emit(
        EventKind.CALENDAR_CHANGED,
        payload={"day": day, "change": change, "basis": basis.strip(), "task_dues": {}, **moves},
    )


def withdrawal_requested(step: Step, reason: str, paper: Mapping[str, Any] | None = None) -> None:
    """The applicant asks to withdraw (status 7); processing waits for an officer's confirmation.
    ``paper`` names the scanned signed request (document id, SHA-256) when the desk entered it."""
    payload: dict[str, Any] = {"reason": reason}
    if paper is not None:
        payload["paper"] = dict(paper)
    step.emit(EventKind.WITHDRAWAL_REQUESTED, payload=payload)
    _change_status(step, Status.WITHDRAWAL_REQUESTED, element_id=None)


def withdrawal_confirmed(step: Step) -> None:
    """An officer stops processing (status 8); the workflow run that cancels the steps follows."""
    step.emit(EventKind.WITHDRAWAL_CONFIRMED, payload={})
    _change_status(step, Status.STOPPED, element_id=None)


def recorded(
    step: Step,
    kind: EventKind,
    payload: Mapping[str, Any],
    *,
    task_id: str | None = None,
    element_id: str | None = None,
) -> None:
    """An input that only records a fact (a document, a payment, a result, who holds a step)."""
    step.emit(kind, task_id=task_id, element_id=element_id, payload=payload)


# ------------------------------------------------------------------------------------ derived
def observe(step: Step, seen: Observation) -> None:
    """Statuses reached, steps opened and closed, and the end of the process, after a workflow run."""
    for element_id in seen.reached:
        _reach(step, element_id)
    ready_ids = {t.task_id for t in seen.ready}
    newly = [t for t in seen.ready if t.task_id not in step.state.tasks]
    for task in newly:
        _reach(step, task.element_id)
    if step.state.history_format >= 2:
        for task_id in [t for t in step.state.tasks if t not in ready_ids]:
            step.emit(
                EventKind.TASK_CANCELLED, task_id=task_id, element_id=step.state.tasks[task_id].element_id
            )
    else:
        for task_id in [t for t in step.state.tasks if t not in ready_ids]:
            step.state.tasks.pop(task_id)
    for task in newly:
        hours = step.facts.hours_of(task.element_id)
        due = step.calendar.add_working_hours(step.at, hours) if hours else None
        if due is not None and step.state.due_at is not None and step.state.finished_at is None:
            due = min(due, step.state.due_at)  # a step is never due after the citizen's appointment
        role = step.facts.role_of(task.element_id)
        payload: dict[str, Any] = {"role": role, "due_at": _iso(due)}
        unit = step.facts.unit_of(task.element_id)
        if unit is not None:  # the chained event says which unit the step was sent to
            payload["unit"] = unit
        step.emit(EventKind.TASK_READY, task_id=task.task_id, element_id=task.element_id, payload=payload)
    if seen.completed and not step.state.completed:
        step.emit(EventKind.CASE_COMPLETED, payload={"status": step.state.status})


def _reach(step: Step, element_id: str) -> None:
    status = step.facts.status_of(element_id)
    if status is not None and status != step.state.status:
        _change_status(step, status, element_id=element_id)


def _change_status(step: Step, status: int, *, element_id: str | None) -> None:
    s = step.state
    old = s.status
    step.emit(
        EventKind.STATUS_CHANGED,
        element_id=element_id,
        status_from=old,
        status_to=status,
        payload={"label": label(status)},
    )
    if status == Status.RECEIVED:
        s_due = sla.statutory_due(step.at, step.facts.legal_time(), step.calendar)
        step.emit(EventKind.DUE_SET, payload={"reason": "accepted", "due_at": _iso(s_due)})
    elif status in WAITING_FOR_APPLICANT:
        _pause(step, supplement=status == Status.SUPPLEMENT)
    elif status == Status.PROCESSING and old in WAITING_FOR_APPLICANT:
        _resume(step, payment=old == Status.FEE)
    elif status == Status.DONE or status == Status.RETURNED and s.finished_at is None:
        _finish(step)


def _pause(step: Step, *, supplement: bool) -> None:
    """Waiting for the applicant does not count: documents always, a fee unless the procedure says so."""
    s = step.state
    if s.received_at is None or s.finished_at is not None:
        return
    if not supplement and step.facts.fee_wait_counts:
        return
    supplements = s.sla.supplements + (1 if supplement else 0)
    step.emit(
        EventKind.CLOCK_PAUSED,
        payload={"supplements": supplements, "waiting_for": "supplementation" if supplement else "payment"},
    )


def _resume(step: Step, *, payment: bool) -> None:
    s = step.state
    paused = s.sla.paused_at
    if paused is None or s.due_at is None:
        return
    # A fee wait only extends; supplementation follows the procedure's clock mode.
    mode = "extend" if payment else step.facts.clock_mode
    if mode == "extend":
        due = sla.extend_by_pause(s.due_at, paused, step.at, step.calendar)
    else:
        due = sla.statutory_due(step.at, step.facts.legal_time(), step.calendar)
    step.emit(
        EventKind.DUE_SET,
        payload={
            "reason": f"{'paid' if payment else 'supplemented'}_{mode}",
            "due_at": _iso(due),
            "paused_at": paused.isoformat(),
        },
    )


def _finish(step: Step) -> None:
    s = step.state
    outcome: str | None = None
    if s.due_at is not None:
        outcome = "late" if s.sla.late_by_apology else sla.classify(step.at, s.due_at)
    step.emit(EventKind.CASE_FINISHED, payload={"outcome": outcome, "due_at": _iso(s.due_at)})


def _extend_due(step: Step, answers: Mapping[str, Any]) -> None:
    """Lengthen the statutory time when a step's answer grants it (``motcua:dueExtension``), only while
    the clock runs: a paused or finished case has no running due to extend."""
    s = step.state
    if not s.running or s.due_at is None:
        return
    for name, days in sla.granted_extensions(step.facts.due_extensions, answers, s.sla.extensions):
        previous = s.due_at
        if s.history_format >= 3:
            due = sla.extend_due(previous, days, step.calendar)
        else:
            due = step.calendar.add_working_days(previous, days)
        step.emit(
            EventKind.DUE_SET,
            payload={
                "reason": f"extended_{name}",
                "due_at": _iso(due),
                "previous_due_at": _iso(previous),
                "working_days": days,
            },
        )


# ------------------------------------------------------------------------------------ what follows
def sla_timers(state: CaseState) -> dict[str, datetime | None]:
    """When each statutory check must run for this state (None: no check pending)."""
    receipt = (
        state.receipt_due_at + SLA_TIMER_GRACE
        if state.status == Status.NEW
        and state.receipt_due_at is not None
        and state.sla.receipt_decided_at is None
        and not state.completed
        else None
    )
    due = state.due_at + SLA_TIMER_GRACE if state.running and not state.completed and state.due_at else None
    return {RECEIPT_TIMER: receipt, DUE_TIMER: due}


def applicant_notice(event: Event, case_code: str) -> str | None:
    """What the applicant is told by e-mail/SMS about an event that moves their appointment."""
    p = event.payload
    if event.kind == EventKind.APOLOGY_ISSUED and p.get("kind") in ("mistake", "calendar"):
        again = f" Hẹn trả kết quả mới: {_local_text(p.get('new_due_at'))}." if p.get("new_due_at") else ""
        return f"Hồ sơ {case_code}: cơ quan xin lỗi ông/bà ({p.get('reason')}).{again}"
    if event.kind == EventKind.APOLOGY_ISSUED:
        return (
            f"Hồ sơ {case_code}: cơ quan xin lỗi vì chậm trả kết quả ({p.get('reason')}). "
            f"Hẹn trả kết quả mới: {_local_text(p.get('new_due_at'))}."
        )
    if event.kind == EventKind.DUE_SET and str(p.get("reason", "")).startswith("extended_"):
        return (
            f"Hồ sơ {case_code}: thời hạn giải quyết được gia hạn {float(p.get('working_days', 0)):g} ngày "
            f"làm việc theo quy định của thủ tục. Hẹn trả kết quả mới: {_local_text(p.get('due_at'))}."
        )
    return None


def _local_text(value: Any) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return ""
    return moment.astimezone(sla.LOCAL_TZ).strftime("%H:%M ngày %d/%m/%Y")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}
