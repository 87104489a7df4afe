"""Replay: the case at any event, from its history alone, through the same rules as the runtime.

An auditor must not have to trust the stored snapshot (``cases.state``, ``work_items``): the
history is the evidence. Two ways to read it, both pure (no database, no clock):

- :func:`rebuild` applies the recorded events (``engine.domain.evolve``) — the state after each one,
  cheaply, without running the workflow.
- :func:`replay` re-executes: it starts a fresh SpiffWorkflow from ``case_started`` and feeds every
  recorded input (a completed task with its data, a fired timer, an apology, a payment...) through
  the runtime's own operations (``engine.operations``, ``engine.domain.rules``) at the recorded
  moment, then compares the events they emit with the recorded ones; the first mismatch is a
  :class:`Divergence` (as Temporal's replayer runs live workflow code against a history).

SpiffWorkflow gives tasks new ids on every run, so replay binds each new ready task to the id the
history recorded for it (``task_ready`` of the same element, in order) before the rules see it: the
rebuilt state carries the engine's ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from . import audit, operations, sla
from .clock import Clock, FixedClock
from .domain import rules
from .domain.evolve import BREACH_FLAGS, CalendarAt, UnknownEvent, apply
from .domain.procedure import ProcedureFacts
from .domain.rules import Observation, ReadyTask, Step
from .domain.state import ROW_FIELDS, START_FIELDS, Event, OpenTask
from .domain.state import CaseState as DomainState
from .domain.vocab import DERIVED_KINDS, INPUT_KINDS, EventKind, Status, label
from .errors import MotcuaError
from .spiff import CompiledSpecs, MotcuaScriptEngine, dump_state, load_state, ready_user_tasks, waiting_timers

ReplayEvent = Event
ScriptEngineFactory = Callable[[Clock, sla.BusinessCalendar], MotcuaScriptEngine]
Mode = Literal["auto", "fast", "faithful"]
__all__ = [
    "INPUT_KINDS",
    "DERIVED_KINDS",
    "CaseState",
    "Divergence",
    "OpenTask",
    "ReplayError",
    "ReplayEvent",
    "ReplayResult",
    "VersionSpec",
    "rebuild",
    "replay",
]


class ReplayError(MotcuaError):
    """The history cannot be replayed (it does not start with ``case_started``, or N is out of range)."""

    code = "replay_error"


@dataclass(frozen=True)
class VersionSpec:
    """What replay needs from the procedure version the case is pinned to."""

    meta: Mapping[str, Any]
    elements: Mapping[str, Mapping[str, Any]]
    specs: CompiledSpecs

    def facts(self) -> ProcedureFacts:
        return ProcedureFacts(self.meta, self.elements, self.specs.spec_names())


@dataclass(frozen=True)
class CaseState:
    """The case as of one event: what the auditor's slider shows."""

    seq: int
    at: datetime
    kind: str
    actor: str
    procedure_id: str
    version: int
    channel: int
    applicant: dict[str, Any]
    status: int
    data: dict[str, Any]
    submitted_at: datetime
    receipt_due_at: datetime | None
    received_at: datetime | None
    due_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    completed: bool
    outcome: str | None
    sla: dict[str, Any]
    tasks: tuple[OpenTask, ...]
    timers: tuple[tuple[str, datetime], ...]  # waiting BPMN timers: (element id, when it fires)
    path: tuple[str, ...]  # element ids completed so far, in order (the path taken on the diagram)
    documents: tuple[dict[str, Any], ...]

    @property
    def status_label(self) -> str:
        return label(self.status)

    @property
    def sla_status(self) -> str:
        """SLA position at this event: early/on_time/late once finished, else paused/overdue/on_track."""
        if self.outcome is not None:
            return self.outcome
        if self.completed:
            return "closed"
        if self.status == Status.NEW:
            if self.receipt_due_at is not None and self.at > self.receipt_due_at:
                return "receipt_overdue"
            return "awaiting_receipt"
        if self.status in (Status.SUPPLEMENT, Status.FEE) and "paused_at" in self.sla:
            return "paused"
        if self.due_at is not None and self.at > self.due_at:
            return "overdue"
        return "on_track"

    def comparable(self) -> dict[str, Any]:
        """The fields the engine's stored view also has, in one canonical shape."""
        return comparable_view(
            **{name: getattr(self, name) for name in ROW_FIELDS},
            data=self.data,
            sla=self.sla,
            tasks=[(t.task_id, t.element_id, t.role, t.ready_at, t.due_at, t.assignee) for t in self.tasks],
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for ``audit replay --json`` and the auditor UI."""
        return {
            "seq": self.seq,
            "at": _iso(self.at),
            "kind": self.kind,
            "actor": self.actor,
            "procedure_id": self.procedure_id,
            "version": self.version,
            "channel": self.channel,
            "applicant": self.applicant,
            "status": self.status,
            "status_label": self.status_label,
            "data": self.data,
            "submitted_at": _iso(self.submitted_at),
            "receipt_due_at": _iso(self.receipt_due_at),
            "received_at": _iso(self.received_at),
            "due_at": _iso(self.due_at),
            "finished_at": _iso(self.finished_at),
            "returned_at": _iso(self.returned_at),
            "completed": self.completed,
            "outcome": self.outcome,
            "sla_status": self.sla_status,
            "sla": self.sla,
            "tasks": [
                {
                    "task_id": t.task_id,
                    "element_id": t.element_id,
                    "name": t.name,
                    "role": t.role,
                    "lane": t.lane,
                    "ready_at": _iso(t.ready_at),
                    "due_at": _iso(t.due_at),
                    "assignee": t.assignee,
                }
                for t in self.tasks
            ],
            "timers": [{"element_id": e, "due_at": _iso(d)} for e, d in self.timers],
            "path": list(self.path),
            "documents": list(self.documents),
        }


@dataclass(frozen=True)
class Divergence:
    """Where the recorded history stops agreeing with its re-execution, and how."""

    seq: int
    reason: str
    expected: dict[str, Any] | None = None
    found: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReplayResult:
    """States after each replayed event (``states[i].seq == i + 1``) and the first divergence, if any."""

    states: tuple[CaseState, ...]
    divergence: Divergence | None

    def at(self, seq: int) -> CaseState:
        """The state as of event ``seq``."""
        if not 1 <= seq <= len(self.states):
            raise ReplayError(
                f"Không có trạng thái tại sự kiện {seq} (đã dựng lại {len(self.states)} sự kiện)"
            )
        return self.states[seq - 1]


def comparable_view(
    *,
    status: int,
    data: Mapping[str, Any],
    receipt_due_at: datetime | None,
    received_at: datetime | None,
    due_at: datetime | None,
    finished_at: datetime | None,
    returned_at: datetime | None,
    completed: bool,
    outcome: str | None,
    sla: Mapping[str, Any],
    tasks: Iterable[tuple[str, str, str | None, datetime, datetime | None, str | None]],
) -> dict[str, Any]:
    """One shape for the replayed state and the engine's stored view, so they compare with ``==``."""
    return {
        "status": status,
        "data": audit.canonical(data),
        "receipt_due_at": _iso(receipt_due_at),
        "received_at": _iso(received_at),
        "due_at": _iso(due_at),
        "finished_at": _iso(finished_at),
        "returned_at": _iso(returned_at),
        "completed": completed,
        "outcome": outcome,
        "sla": audit.canonical(sla),
        "tasks": sorted(
            (task_id, element_id, role, _iso(ready), _iso(due), assignee)
            for task_id, element_id, role, ready, due, assignee in tasks
        ),
    }


def differences(replayed: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields where two :func:`comparable_view` dicts disagree: name → (replayed, stored)."""
    keys = sorted(set(replayed) | set(stored))
    return {k: (replayed.get(k), stored.get(k)) for k in keys if replayed.get(k) != stored.get(k)}


# ------------------------------------------------------------------------------------ rebuild
def rebuild(
    version: VersionSpec | ProcedureFacts, events: Sequence[Event], calendar_at: CalendarAt
) -> ReplayResult:
    """The state after each event by applying the recorded events (no workflow execution).

    Stops at the first event the rules cannot apply (a divergence at that event); the path taken
    and waiting BPMN timers are known only to :func:`replay`.
    """
    if not events or events[0].kind != EventKind.CASE_STARTED:
        raise ReplayError("Nhật ký hồ sơ phải bắt đầu bằng sự kiện case_started")
    facts = version.facts() if isinstance(version, VersionSpec) else version
    state = DomainState()
    states: list[CaseState] = []
    for event in events:
        try:
            apply(state, event, facts, calendar_at)
        except UnknownEvent as exc:
            return ReplayResult(tuple(states), Divergence(event.seq, exc.message, found=_event_dict(event)))
        states.append(_public(state, event, (), ()))
    return ReplayResult(tuple(states), None)


# ------------------------------------------------------------------------------------ replay
def replay(
    version: VersionSpec,
    events: Sequence[Event],
    script_engine: ScriptEngineFactory,
    calendar_at: CalendarAt,
    *,
    until: int | None = None,
    mode: Mode = "auto",
) -> ReplayResult:
    """Re-execute ``events`` (in seq order) up to event ``until`` (default: all).

    Stops at the first divergence; the states before it are still returned.

    ``faithful`` stores and reloads the workflow between operations as the engine does when it has
    not kept the case's workflow in memory (it keeps one only when a reload would rebuild it exactly,
    ``engine.cases.WorkflowCache``); ``fast`` keeps it in memory (the reload is most of the cost of a
    long case); ``auto`` runs fast
    and, only if that diverges, confirms with a faithful run, whose answer is the one returned.
    """
    if not events or events[0].kind != EventKind.CASE_STARTED:
        raise ReplayError("Nhật ký hồ sơ phải bắt đầu bằng sự kiện case_started")
    last = len(events) if until is None else until
    if not 1 <= last <= len(events):
        raise ReplayError(f"Sự kiện {until} nằm ngoài nhật ký (1–{len(events)})")
    facts = version.facts()
    if mode == "auto":
        quick = _Replayer(version, facts, script_engine, calendar_at, round_trip=False).run(events, last)
        if quick.divergence is None:
            return quick
        mode = "faithful"
    return _Replayer(version, facts, script_engine, calendar_at, round_trip=mode == "faithful").run(
        events, last
    )


class _Diverged(Exception):
    def __init__(self, divergence: Divergence) -> None:
        super().__init__(divergence.reason)
        self.divergence = divergence


@dataclass
class _Group:
    """One recorded operation: its input event and the derived events recorded after it."""

    events: Sequence[Event]
    bound: set[str] = field(default_factory=set)  # recorded task ids already bound in this group


class _Replayer:
    """Feeds recorded inputs through the runtime's operations and checks what they emit."""

    def __init__(
        self,
        version: VersionSpec,
        facts: ProcedureFacts,
        script_engine: ScriptEngineFactory,
        calendar_at: CalendarAt,
        *,
        round_trip: bool,
    ) -> None:
        self.version = version
        self.facts = facts
        self.new_script_engine = script_engine
        self.calendar_at = calendar_at
        self.round_trip = round_trip
        self.clock = FixedClock(datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
        self.state = DomainState()
        self.live: BpmnWorkflow | None = None
        self.state_text: str | None = None
        self.recorded_of: dict[str, str] = {}  # SpiffWorkflow task id -> recorded task id
        self.spiff_of: dict[str, str] = {}  # recorded task id -> SpiffWorkflow task id
        self.path: list[str] = []
        self.timers: tuple[tuple[str, datetime], ...] = ()
        self.snapshots: list[DomainState] = []

    # ------------------------------------------------------------------ driving
    def run(self, events: Sequence[Event], last: int) -> ReplayResult:
        states: list[CaseState] = []
        index = 0
        while index < last:
            first = events[index]
            if not _is_input(first):
                reason = (
                    f"sự kiện '{first.kind}' không thuộc thao tác nào (thiếu sự kiện đầu vào trước nó)"
                    if first.kind in DERIVED_KINDS
                    else f"loại sự kiện không biết: '{first.kind}'"
                )
                return ReplayResult(tuple(states), Divergence(first.seq, reason, found=_event_dict(first)))
            end = index + 1
            while end < len(events) and not _is_input(events[end]):
                end += 1
            group = _Group(events[index:end])
            try:
                predicted = self.perform(group)
            except _Diverged as exc:
                return ReplayResult(tuple(states), exc.divergence)
            except Exception as exc:  # noqa: BLE001 — a rewritten row must read as a finding, not a crash
                reason = f"không chạy lại được sự kiện: {type(exc).__name__}: {getattr(exc, 'message', exc)}"
                return ReplayResult(tuple(states), Divergence(first.seq, reason, found=_event_dict(first)))
            for offset, recorded in enumerate(group.events):
                if index + offset >= last:
                    break
                if offset >= len(predicted):
                    return ReplayResult(
                        tuple(states),
                        Divergence(
                            recorded.seq,
                            "sự kiện không được dự đoán khi chạy lại",
                            found=_event_dict(recorded),
                        ),
                    )
                problem = _mismatch(predicted[offset], recorded)
                if problem is not None:
                    return ReplayResult(tuple(states), problem)
                states.append(_public(self.snapshots[offset], recorded, tuple(self.path), self.timers))
            if end <= last and len(predicted) > len(group.events):
                missing = predicted[len(group.events)]
                seq = events[end].seq if end < len(events) else group.events[-1].seq + 1
                return ReplayResult(
                    tuple(states),
                    Divergence(seq, "thiếu sự kiện mà lần chạy lại tạo ra", expected=_event_dict(missing)),
                )
            index = end
        return ReplayResult(tuple(states), None)

    def perform(self, group: _Group) -> list[Event]:
        """Re-run the operation ``group`` records; returns the events it emits, in order."""
        first = group.events[0]
        self.clock.set(first.at)
        calendar = self.calendar_at(first.at)
        self.snapshots = []
        step = Step(
            self.state,
            self.facts,
            calendar,
            first.at,
            first.actor,
            self.calendar_at,
            on_emit=lambda _event: self.snapshots.append(self.state.copy()),
        )
        self._dispatch(step, group, first, calendar)
        return step.events

    def _dispatch(self, step: Step, group: _Group, first: Event, calendar: sla.BusinessCalendar) -> None:
        p = first.payload
        kind = first.kind

        def bind(seen: Observation) -> Observation:
            return self.bind(group, seen)

        if kind == EventKind.CASE_STARTED:
            if self.state_text is not None or self.live is not None:
                self._fail(first, "hồ sơ được bắt đầu hai lần")
            workflow = self.version.specs.new_workflow(self.new_script_engine(self.clock, calendar))
            seen = operations.start(step, workflow, dict(p), int(p.get("format", 1)), bind)
            self._after_run(workflow, seen)
        elif kind == EventKind.TASK_COMPLETED:
            workflow = self._load(calendar)
            task = self._ready_task(workflow, first)
            data = p.get("data") or {}
            if not isinstance(data, Mapping):
                self._fail(first, "không chạy lại được sự kiện: dữ liệu của bước không phải là một đối tượng")
            seen = operations.complete(step, workflow, task, dict(data), first.task_id, bind)
            self._after_run(workflow, seen)
        elif kind == EventKind.TIMER_FIRED:
            workflow = self._load(calendar)
            task, due = self._waiting_timer(workflow, first)
            seen = operations.fire_timer(step, workflow, task, due, first.task_id, bind)
            self._after_run(workflow, seen)
        elif kind == EventKind.WITHDRAWAL_CONFIRMED:
            workflow = self._load(calendar)
            seen = operations.stop(step, workflow, bind)
            self._after_run(workflow, seen)
        elif kind == EventKind.STATUS_CHANGED:  # format 1: a withdrawal recorded as a status change
            self._legacy_withdrawal(step, group, first, calendar)
        elif kind == EventKind.APOLOGY_ISSUED:
            new_due = _moment(p.get("new_due_at"))
            apology = str(p.get("kind") or "late")
            if new_due is None and apology != "mistake":
                self._fail(first, "phiếu xin lỗi không có ngày hẹn mới")
            rules.apology_issued(
                step, new_due, str(p.get("reason", "")), str(p.get("unit_at_fault", "")), apology
            )
        elif kind == EventKind.SUPPLEMENT_APPROVED:
            rules.supplement_approved(step, str(p.get("reason", "")))
        elif kind == EventKind.CALENDAR_CHANGED:
            # Recomputed under the calendar in force at the event (it includes the override it records).
            moves = rules.calendar_moves(self.state, self.facts, calendar)
            rules.calendar_changed(
                step, str(p.get("day", "")), str(p.get("change", "")), str(p.get("basis", "")), moves
            )
        elif kind == EventKind.SLA_BREACH:
            rule = str(p.get("rule", ""))
            if rule not in BREACH_FLAGS:
                self._fail(first, f"quy tắc thời hạn không biết: '{rule}'")
            rules.sla_breach(step, rule)
        elif kind == EventKind.WITHDRAWAL_REQUESTED:
            paper = p.get("paper")
            rules.withdrawal_requested(
                step, str(p.get("reason", "")), paper if isinstance(paper, Mapping) else None
            )
        elif kind in (EventKind.TASK_CLAIMED, EventKind.TASK_RELEASED, EventKind.TASK_REASSIGNED):
            task_id = first.task_id or ""
            if task_id not in self.state.tasks:
                self._fail(first, f"công việc {first.task_id} không đang mở khi chạy lại")
            rules.recorded(
                step,
                EventKind(kind),
                dict(p),
                task_id=task_id,
                element_id=self.state.tasks[task_id].element_id,
            )
        elif kind in (
            EventKind.DOCUMENT_ADDED,
            EventKind.FEE_PAID,
            EventKind.RESULT_ATTACHED,
            EventKind.IDENTITY_CHECKED,
            EventKind.IDENTITY_OVERRIDDEN,
            EventKind.DOCUMENT_DIGITISED,
            EventKind.DOCUMENT_REUSED,
            EventKind.SECRET_REISSUED,
        ):
            rules.recorded(step, EventKind(kind), dict(p))
        else:  # pragma: no cover — _is_input admits only the kinds above
            self._fail(first, f"loại sự kiện không biết: '{kind}'")

    def _legacy_withdrawal(
        self, step: Step, group: _Group, first: Event, calendar: sla.BusinessCalendar
    ) -> None:
        """Before format 2 a withdrawal was one status change carrying the reason (7) or 'withdrawn' (8)."""
        payload = {"label": label(first.status_to), "reason": first.payload.get("reason")}
        if first.status_to == Status.WITHDRAWAL_REQUESTED:
            step.emit(
                EventKind.STATUS_CHANGED,
                status_from=self.state.status,
                status_to=first.status_to,
                payload=payload,
            )
            return
        workflow = self._load(calendar)
        done = operations.completed_ids(workflow)
        workflow.cancel()
        step.emit(
            EventKind.STATUS_CHANGED,
            status_from=self.state.status,
            status_to=first.status_to,
            payload=payload,
        )
        seen = operations.observe(workflow, done)
        rules.observe(step, self.bind(group, seen))
        self._after_run(workflow, seen)

    # ------------------------------------------------------------------ workflow and ids
    def _load(self, calendar: sla.BusinessCalendar) -> BpmnWorkflow:
        engine = self.new_script_engine(self.clock, calendar)
        if not self.round_trip:
            assert self.live is not None
            self.live.script_engine = engine  # this operation's clock and calendar
            return self.live
        assert self.state_text is not None
        return load_state(self.state_text, self.version.specs, engine)

    def _after_run(self, workflow: BpmnWorkflow, seen: Observation) -> None:
        self.path.extend(seen.walked)
        self.timers = tuple((element, due) for _, element, due in seen.timers)
        if self.round_trip:
            self.state_text = dump_state(workflow)
        else:
            self.live, self.state_text = workflow, ""

    def _ready_task(self, workflow: BpmnWorkflow, event: Event) -> Any:
        ref = self.spiff_of.get(event.task_id or "")
        ready = {str(t.id): t for t in ready_user_tasks(workflow)}
        if ref is None or ref not in ready:
            self._fail(event, f"công việc {event.task_id} ({event.element_id}) không đang mở khi chạy lại")
        task = ready[ref or ""]
        if task.task_spec.name != event.element_id:
            self._fail(
                event,
                f"công việc {event.task_id} là bước '{task.task_spec.name}', không phải '{event.element_id}'",
            )
        return task

    def _waiting_timer(self, workflow: BpmnWorkflow, event: Event) -> tuple[Any, datetime]:
        waiting = [(t, due) for t, due in waiting_timers(workflow) if t.task_spec.name == event.element_id]
        ref = self.spiff_of.get(event.task_id or "")
        chosen = [(t, due) for t, due in waiting if str(t.id) == ref] or waiting[:1]
        if not chosen:
            self._fail(event, f"không có hẹn giờ '{event.element_id}' đang chờ khi chạy lại")
        timer, due = chosen[0]
        known = self.recorded_of.get(str(timer.id))
        if known is None and event.task_id and event.task_id not in self.spiff_of:
            self.recorded_of[str(timer.id)] = event.task_id
            self.spiff_of[event.task_id] = str(timer.id)
        elif known != event.task_id:
            self._fail(event, f"hẹn giờ {event.task_id} không khớp với hẹn giờ khi chạy lại")
        return timer, due

    def bind(self, group: _Group, seen: Observation) -> Observation:
        """The observation with SpiffWorkflow's task ids replaced by the recorded ones.

        A task that became ready in this run takes the id of the next recorded ``task_ready`` of the
        same element in this operation; one the history does not have keeps its own id, and the
        comparison reports it.
        """
        ready: list[ReadyTask] = []
        for task in seen.ready:
            known = self.recorded_of.get(task.task_id)
            if known is None:
                for recorded in group.events:
                    rid = recorded.task_id or ""
                    if (
                        recorded.kind == EventKind.TASK_READY
                        and recorded.element_id == task.element_id
                        and rid
                        and rid not in group.bound
                        and rid not in self.spiff_of
                    ):
                        group.bound.add(rid)
                        self.recorded_of[task.task_id] = rid
                        self.spiff_of[rid] = task.task_id
                        known = rid
                        break
            ready.append(ReadyTask(known or task.task_id, task.element_id))
        timers = tuple((self.recorded_of.get(t, t), e, d) for t, e, d in seen.timers)
        return Observation(seen.reached, seen.walked, tuple(ready), timers, seen.completed)

    def _fail(self, event: Event, reason: str) -> None:
        raise _Diverged(Divergence(event.seq, reason, found=_event_dict(event)))


def _is_input(event: Event) -> bool:
    if event.kind in INPUT_KINDS:
        return True
    # Format 1 recorded a withdrawal request (7, with its reason) and its confirmation (8,
    # 'withdrawn') as bare status changes; derived status changes never carry a reason.
    return (
        event.kind == EventKind.STATUS_CHANGED
        and event.status_to in (Status.WITHDRAWAL_REQUESTED, Status.STOPPED)
        and "reason" in event.payload
    )


def _mismatch(predicted: Event, recorded: Event) -> Divergence | None:
    def diverged(reason: str) -> Divergence:
        return Divergence(recorded.seq, reason, expected=_event_dict(predicted), found=_event_dict(recorded))

    if recorded.kind != predicted.kind:
        return diverged(f"ghi nhận '{recorded.kind}', chạy lại ra '{predicted.kind}'")
    if recorded.at != predicted.at or recorded.actor != predicted.actor:
        return diverged("sự kiện phát sinh không cùng thời điểm hoặc người thực hiện với thao tác gây ra nó")
    if (recorded.element_id, recorded.status_from, recorded.status_to) != (
        predicted.element_id,
        predicted.status_from,
        predicted.status_to,
    ):
        return diverged("bước hoặc trạng thái khác với khi chạy lại")
    if audit.canonical(recorded.payload) != audit.canonical(predicted.payload):
        return diverged("nội dung sự kiện khác với khi chạy lại")
    if (recorded.task_id or None) != (predicted.task_id or None):
        return diverged("mã công việc khác với công việc khi chạy lại")
    return None


#: Fields the public state takes from the domain state as they are.
_PLAIN_FIELDS = ("version", *START_FIELDS, *ROW_FIELDS)


def _public(
    state: DomainState, event: Event, path: tuple[str, ...], timers: tuple[tuple[str, datetime], ...]
) -> CaseState:
    assert state.submitted_at is not None
    plain: dict[str, Any] = {name: getattr(state, name) for name in _PLAIN_FIELDS}
    return CaseState(
        seq=event.seq,
        at=event.at,
        kind=event.kind,
        actor=event.actor,
        applicant=state.applicant,
        data=state.data,
        sla=state.sla.to_json(),
        tasks=tuple(state.tasks.values()),
        timers=timers,
        path=path,
        documents=tuple(state.documents),
        **plain,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _event_dict(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "kind": event.kind,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "status_from": event.status_from,
        "status_to": event.status_to,
        "payload": dict(event.payload) if isinstance(event.payload, Mapping) else event.payload,
    }
