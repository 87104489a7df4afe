"""Replay: rebuild a case's state at any event from its events alone (pure).

An auditor must not have to trust the stored snapshot (``cases.state``, ``work_items``): the
history is the evidence. Replay starts a fresh SpiffWorkflow from the ``case_started`` data and
re-performs every recorded input — a completed task with its data, a fired timer, an apology, an
SLA breach, a claim — at the recorded moment on a :class:`~engine.clock.FixedClock`. Everything
the engine derived from those inputs (statuses reached, due dates, tasks opened, the outcome) is
derived again here, independently, and each derived event the engine recorded must match the one
replay predicts, payload included. The first mismatch is a :class:`Divergence`.

SpiffWorkflow gives tasks new UUIDs on every run, so recorded task ids are mapped to the replay's
tasks when the engine recorded them becoming ready (``task_ready``: same element id, in order).

Like the engine, replay stores and reloads the workflow between operations, so both walk the same
code path (task order after a reload, data after a JSON round trip).

The module takes values (the version's specs/elements/metadata, the event list, a calendar per
moment, a script-engine factory) and returns values; it reads neither the database nor the clock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any, Literal

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from . import audit, sla
from .clock import Clock, FixedClock
from .errors import MotcuaError
from .spiff import CompiledSpecs, MotcuaScriptEngine, all_tasks, dump_state, load_state, ready_user_tasks
from .spiff import waiting_timers as spiff_waiting_timers
from .statuses import STATUS_LABELS

#: Events that record something done to the case (an input); each starts an operation.
INPUT_KINDS = frozenset(
    {
        "case_started",
        "task_completed",
        "timer_fired",
        "apology_issued",
        "sla_breach",
        "document_added",
        "task_claimed",
        "task_released",
        "task_reassigned",
    }
)
#: Events the engine derives from an input; replay predicts each of them.
DERIVED_KINDS = frozenset(
    {"status_changed", "due_set", "clock_paused", "case_finished", "task_ready", "case_completed"}
)

_BREACH_FLAGS = {"receipt_8_working_hours": "receipt_overdue", "statutory_due": "overdue"}

ScriptEngineFactory = Callable[[Clock, sla.BusinessCalendar], MotcuaScriptEngine]
Mode = Literal["auto", "fast", "faithful"]
CalendarAt = Callable[[datetime], sla.BusinessCalendar]


class ReplayError(MotcuaError):
    """The history cannot be replayed (it does not start with ``case_started``, or N is out of range)."""

    code = "replay_error"


@dataclass(frozen=True)
class ReplayEvent:
    """One stored event, as replay needs it (the hashed fields)."""

    seq: int
    at: datetime
    actor: str
    kind: str
    task_id: str | None
    element_id: str | None
    status_from: int | None
    status_to: int | None
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class VersionSpec:
    """What replay needs from the procedure version the case is pinned to."""

    meta: Mapping[str, Any]
    elements: Mapping[str, Mapping[str, Any]]
    specs: CompiledSpecs


@dataclass(frozen=True)
class OpenTask:
    """An open user task as of an event (``task_id`` is the engine's recorded id)."""

    task_id: str
    element_id: str
    name: str
    role: str | None
    lane: str | None
    ready_at: datetime
    due_at: datetime | None
    assignee: str | None = None


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
        return STATUS_LABELS.get(self.status, "")

    @property
    def sla_status(self) -> str:
        """SLA position at this event: early/on_time/late once finished, else paused/overdue/on_track."""
        if self.outcome is not None:
            return self.outcome
        if self.completed:
            return "closed"
        if self.status == 1:
            if self.receipt_due_at is not None and self.at > self.receipt_due_at:
                return "receipt_overdue"
            return "awaiting_receipt"
        if self.status in (5, 6) and "paused_at" in self.sla:
            return "paused"
        if self.due_at is not None and self.at > self.due_at:
            return "overdue"
        return "on_track"

    def comparable(self) -> dict[str, Any]:
        """The fields the engine's stored view also has, in one canonical shape."""
        return comparable_view(
            status=self.status,
            data=self.data,
            receipt_due_at=self.receipt_due_at,
            received_at=self.received_at,
            due_at=self.due_at,
            finished_at=self.finished_at,
            returned_at=self.returned_at,
            completed=self.completed,
            outcome=self.outcome,
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


def replay(
    version: VersionSpec,
    events: Sequence[ReplayEvent],
    script_engine: ScriptEngineFactory,
    calendar_at: CalendarAt,
    *,
    until: int | None = None,
    mode: Mode = "auto",
) -> ReplayResult:
    """Re-execute ``events`` (in seq order) up to event ``until`` (default: all).

    Stops at the first divergence; the states before it are still returned.

    ``faithful`` stores and reloads the workflow between operations exactly as the engine does;
    ``fast`` keeps it in memory (the reload is most of the cost of a long case); ``auto`` runs fast
    and, only if that diverges, confirms with a faithful run, whose answer is the one returned.
    """
    if not events or events[0].kind != "case_started":
        raise ReplayError("Nhật ký hồ sơ phải bắt đầu bằng sự kiện case_started")
    last = len(events) if until is None else until
    if not 1 <= last <= len(events):
        raise ReplayError(f"Sự kiện {until} nằm ngoài nhật ký (1–{len(events)})")
    if mode == "auto":
        quick = _run(_Replay(version, script_engine, calendar_at, round_trip=False), events, last)
        if quick.divergence is None:
            return quick
        mode = "faithful"
    return _run(_Replay(version, script_engine, calendar_at, round_trip=mode == "faithful"), events, last)


def _run(run: _Replay, events: Sequence[ReplayEvent], last: int) -> ReplayResult:
    states: list[CaseState] = []
    index = 0
    while index < last:
        first = events[index]
        if first.kind not in INPUT_KINDS:
            reason = (
                f"sự kiện '{first.kind}' không thuộc thao tác nào (thiếu sự kiện đầu vào trước nó)"
                if first.kind in DERIVED_KINDS
                else f"loại sự kiện không biết: '{first.kind}'"
            )
            return ReplayResult(tuple(states), Divergence(first.seq, reason, found=_event_dict(first)))
        end = index + 1
        while end < len(events) and events[end].kind not in INPUT_KINDS:
            end += 1
        group = events[index:end]
        try:
            predicted = run.perform(first)
        except _Diverged as exc:
            return ReplayResult(tuple(states), exc.divergence)
        except Exception as exc:  # noqa: BLE001 — a rewritten row must read as a finding, not a crash
            reason = f"không chạy lại được sự kiện: {type(exc).__name__}: {exc}"
            return ReplayResult(tuple(states), Divergence(first.seq, reason, found=_event_dict(first)))
        for offset, recorded in enumerate(group):
            if index + offset >= last:
                break
            if offset >= len(predicted):
                return ReplayResult(
                    tuple(states),
                    Divergence(
                        recorded.seq, "sự kiện không được dự đoán khi chạy lại", found=_event_dict(recorded)
                    ),
                )
            problem = run.match(predicted[offset], recorded, first)
            if problem is not None:
                return ReplayResult(tuple(states), problem)
            states.append(run.state_at(predicted[offset], recorded))
        if end <= last and len(predicted) > len(group):
            missing = predicted[len(group)]
            seq = events[end].seq if end < len(events) else group[-1].seq + 1
            return ReplayResult(
                tuple(states),
                Divergence(seq, "thiếu sự kiện mà lần chạy lại tạo ra", expected=missing.as_dict()),
            )
        index = end
    return ReplayResult(tuple(states), None)


# ------------------------------------------------------------------------------------ internals


@dataclass
class _Work:
    """The mutable case the simulation works on (mirrors the ``cases`` row)."""

    procedure_id: str = ""
    version: int = 0
    channel: int = 1
    applicant: dict[str, Any] = field(default_factory=dict)
    status: int = 1
    data: dict[str, Any] = field(default_factory=dict)
    submitted_at: datetime | None = None
    receipt_due_at: datetime | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    completed: bool = False
    outcome: str | None = None
    sla: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, OpenTask] = field(default_factory=dict)  # by replay task id, in ready order
    timers: tuple[tuple[str, datetime], ...] = ()
    path: list[str] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Predicted:
    """An event the re-execution emits, with the case as it stood before the next one."""

    kind: str
    task_ref: str | None  # the replay's task id (task_ready / task_completed / timer_fired)
    element_id: str | None
    status_from: int | None
    status_to: int | None
    payload: dict[str, Any]
    snapshot: _Work | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "element_id": self.element_id,
            "status_from": self.status_from,
            "status_to": self.status_to,
            "payload": self.payload,
        }


class _Diverged(Exception):
    def __init__(self, divergence: Divergence) -> None:
        super().__init__(divergence.reason)
        self.divergence = divergence


class _Replay:
    """Re-performs operations one at a time, mirroring the engine's case runtime."""

    def __init__(
        self,
        version: VersionSpec,
        script_engine: ScriptEngineFactory,
        calendar_at: CalendarAt,
        *,
        round_trip: bool = True,
    ) -> None:
        self.version = version
        self.round_trip = round_trip
        self.live: BpmnWorkflow | None = None
        self.new_script_engine = script_engine
        self.calendar_at = calendar_at
        self.clock = FixedClock(datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
        self.calendar: sla.BusinessCalendar | None = None
        self.work = _Work()
        self.state_text: str | None = None
        self.recorded_of: dict[str, str] = {}  # replay task id -> engine task id
        self.replay_of: dict[str, str] = {}  # engine task id -> replay task id
        self.out: list[_Predicted] = []
        self.now = self.clock.now()

    # ------------------------------------------------------------------ one operation
    def perform(self, event: ReplayEvent) -> list[_Predicted]:
        """Re-run the operation ``event`` records; returns the events it emits, in order."""
        self.now = event.at
        self.clock.set(event.at)
        self.calendar = self.calendar_at(event.at)
        self.out = []
        handler = getattr(self, f"_op_{event.kind}")
        handler(event)
        if self.out:
            self.out[-1].snapshot = self._snapshot()
        return self.out

    def _emit(
        self,
        kind: str,
        *,
        task_ref: str | None = None,
        element_id: str | None = None,
        status_from: int | None = None,
        status_to: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        # The state "at" an event is the case as it stood when the engine emitted it (the engine
        # changes a field, then records the event); the operation's last event also shows what
        # the operation changed after it (see perform).
        predicted = _Predicted(kind, task_ref, element_id, status_from, status_to, dict(payload or {}))
        predicted.snapshot = self._snapshot()
        self.out.append(predicted)

    def _snapshot(self) -> _Work:
        """A copy of the case for one event: tasks are immutable, so only containers are copied."""
        w = self.work
        return replace(
            w,
            applicant=copy.deepcopy(w.applicant),
            data=copy.deepcopy(w.data),
            sla=copy.deepcopy(w.sla),
            tasks=dict(w.tasks),
            path=list(w.path),
            documents=copy.deepcopy(w.documents),
        )

    def _fail(self, event: ReplayEvent, reason: str) -> None:
        raise _Diverged(Divergence(event.seq, reason, found=_event_dict(event)))

    def _script_engine(self) -> MotcuaScriptEngine:
        assert self.calendar is not None
        return self.new_script_engine(self.clock, self.calendar)

    def _load(self) -> BpmnWorkflow:
        if not self.round_trip:
            assert self.live is not None
            self.live.script_engine = self._script_engine()  # this operation's clock and calendar
            return self.live
        assert self.state_text is not None
        return load_state(self.state_text, self.version.specs, self._script_engine())

    # ------------------------------------------------------------------ inputs
    def _op_case_started(self, event: ReplayEvent) -> None:
        if self.state_text is not None:
            self._fail(event, "hồ sơ được bắt đầu hai lần")
        p = event.payload
        w = self.work
        w.procedure_id = str(p.get("procedure_id", ""))
        w.version = int(p.get("version", 0))
        w.channel = int(p.get("channel", 1))
        w.applicant = dict(p.get("applicant") or {})
        w.data = dict(p.get("data") or {})
        w.submitted_at = self.now
        w.receipt_due_at = self._receipt_deadline() if w.channel == sla.ONLINE_CHANNEL else None
        w.sla = {"supplements": 0, "apologies": 0, "flags": []}
        workflow = self.version.specs.new_workflow(self._script_engine())
        workflow.task_tree.data.update(w.data)
        before_done, before_ready = _before(workflow)
        self._emit(
            "case_started",
            status_to=1,
            payload={
                "procedure_id": w.procedure_id,
                "version": w.version,
                "channel": w.channel,
                "applicant": w.applicant,
                "data": w.data,
                "receipt_due_at": _iso(w.receipt_due_at),
            },
        )
        workflow.do_engine_steps()
        self._walk(workflow, before_done)
        self._settle(workflow, before_done, before_ready)

    def _op_task_completed(self, event: ReplayEvent) -> None:
        workflow = self._load()
        ref = self.replay_of.get(event.task_id or "")
        ready = {str(t.id): t for t in ready_user_tasks(workflow)}
        if ref is None or ref not in ready:
            self._fail(event, f"công việc {event.task_id} ({event.element_id}) không đang mở khi chạy lại")
        assert ref is not None
        task = ready[ref]
        if task.task_spec.name != event.element_id:
            self._fail(
                event,
                f"công việc {event.task_id} là bước '{task.task_spec.name}', không phải '{event.element_id}'",
            )
        element = self.version.elements.get(task.task_spec.name) or {}
        clean = dict(event.payload.get("data") or {})
        before_done, before_ready = _before(workflow)
        w = self.work
        before = dict(w.data)
        task.data.update(clean)
        task.run()
        workflow.do_engine_steps()
        self._walk(workflow, before_done)
        w.data = {**before, **clean}
        # The completed step leaves the open list with its own event (the engine closes its work item
        # a moment later, in the same transaction).
        open_task = w.tasks.pop(ref, None)
        step_due = open_task.due_at if open_task is not None else None
        self._emit(
            "task_completed",
            task_ref=ref,
            element_id=task.task_spec.name,
            payload={
                "data": clean,
                "diff": _diff(before, w.data),
                "role": element.get("role"),
                "due_at": _iso(step_due),
                "outcome": sla.classify(self.now, step_due) if step_due else None,
            },
        )
        self._extend_due(clean)
        self._settle(workflow, before_done, before_ready)

    def _extend_due(self, answers: Mapping[str, Any]) -> None:
        w = self.work
        if w.due_at is None or w.finished_at is not None or "paused_at" in w.sla:
            return
        granted = list(w.sla.get("extensions", []))
        for name, days in sla.granted_extensions(
            self.version.meta.get("due_extensions") or (), answers, granted
        ):
            previous = w.due_at
            w.due_at = self._calendar().add_working_days(previous, days)
            granted.append(name)
            w.sla = {**w.sla, "extensions": list(granted)}
            self._emit(
                "due_set",
                payload={
                    "reason": f"extended_{name}",
                    "due_at": _iso(w.due_at),
                    "previous_due_at": _iso(previous),
                    "working_days": days,
                },
            )

    def _op_timer_fired(self, event: ReplayEvent) -> None:
        workflow = self._load()
        waiting = [
            (t, due) for t, due in spiff_waiting_timers(workflow) if t.task_spec.name == event.element_id
        ]
        ref = self.replay_of.get(event.task_id or "")
        chosen = [(t, due) for t, due in waiting if str(t.id) == ref] or waiting[:1]
        if not chosen:
            self._fail(event, f"không có hẹn giờ '{event.element_id}' đang chờ khi chạy lại")
        timer, due = chosen[0]
        self._bind(str(timer.id), event.task_id or "", event)
        before_done, before_ready = _before(workflow)
        workflow.refresh_timers()
        workflow.do_engine_steps()
        self._walk(workflow, before_done)
        self._emit(
            "timer_fired",
            task_ref=str(timer.id),
            element_id=timer.task_spec.name,
            payload={"due_at": _iso(due)},
        )
        self._settle(workflow, before_done, before_ready)

    def _op_apology_issued(self, event: ReplayEvent) -> None:
        w = self.work
        p = event.payload
        new_due = _moment(p.get("new_due_at"))
        if new_due is None:
            self._fail(event, "phiếu xin lỗi không có ngày hẹn mới")
        state = dict(w.sla)
        state["apologies"] = int(state.get("apologies", 0)) + 1
        state["late_by_apology"] = True
        w.sla = state
        old_due = w.due_at
        w.due_at = new_due
        self._emit(
            "apology_issued",
            payload={
                "form": "Mẫu 04",
                "reason": p.get("reason"),
                "unit_at_fault": p.get("unit_at_fault"),
                "original_due_at": _iso(old_due),
                "new_due_at": _iso(new_due),
            },
        )

    def _op_sla_breach(self, event: ReplayEvent) -> None:
        rule = str(event.payload.get("rule", ""))
        flag = _BREACH_FLAGS.get(rule)
        if flag is None:
            self._fail(event, f"quy tắc thời hạn không biết: '{rule}'")
        assert flag is not None
        w = self.work
        due = w.receipt_due_at if flag == "receipt_overdue" else w.due_at
        state = dict(w.sla)
        flags = list(state.get("flags", []))
        if flag not in flags:
            flags.append(flag)
        state["flags"] = flags
        w.sla = state
        self._emit("sla_breach", payload={"rule": rule, "due_at": _iso(due)})

    def _op_document_added(self, event: ReplayEvent) -> None:
        self.work.documents.append(dict(event.payload))
        self._emit("document_added", payload=dict(event.payload))

    def _op_task_claimed(self, event: ReplayEvent) -> None:
        self._assign(event, event.payload.get("assignee"))

    def _op_task_released(self, event: ReplayEvent) -> None:
        self._assign(event, None)

    def _op_task_reassigned(self, event: ReplayEvent) -> None:
        self._assign(event, event.payload.get("assignee"))

    def _assign(self, event: ReplayEvent, assignee: Any) -> None:
        ref = self.replay_of.get(event.task_id or "")
        task = self.work.tasks.get(ref or "")
        if ref is None or task is None:
            self._fail(event, f"công việc {event.task_id} không đang mở khi chạy lại")
        assert ref is not None and task is not None
        self.work.tasks[ref] = replace(task, assignee=str(assignee) if assignee else None)
        self._emit(event.kind, task_ref=ref, element_id=task.element_id, payload=dict(event.payload))

    # ------------------------------------------------------------------ derived (mirrors cases._Operation)
    def _walk(self, workflow: BpmnWorkflow, before_done: set[str]) -> None:
        """Extend the path taken with the BPMN elements this operation completed, in order."""
        walked = [
            (task.last_state_change or 0.0, order, task.task_spec.name)
            for order, task in enumerate(all_tasks(workflow))
            if task.state == TaskState.COMPLETED
            and str(task.id) not in before_done
            and getattr(task.task_spec, "bpmn_id", None)
        ]
        self.work.path.extend(name for _, _, name in sorted(walked))

    def _settle(self, workflow: BpmnWorkflow, before_done: set[str], before_ready: set[str]) -> None:
        reached: list[tuple[float, int, Any]] = []
        for order, task in enumerate(all_tasks(workflow)):
            tid = str(task.id)
            if task.state == TaskState.COMPLETED and tid not in before_done and not task.task_spec.manual:
                reached.append((task.last_state_change or 0.0, order, task))
        ready_now = ready_user_tasks(workflow)
        newly_ready = [t for t in ready_now if str(t.id) not in before_ready]
        reached.sort(key=lambda item: (item[0], item[1]))
        for _, _, task in reached:
            self._apply_status(task.task_spec.name)
        for task in newly_ready:
            self._apply_status(task.task_spec.name)
        self._sync_tasks(ready_now, newly_ready, before_ready)
        self.work.timers = tuple((t.task_spec.name, due) for t, due in spiff_waiting_timers(workflow))
        w = self.work
        if workflow.is_completed() and not w.completed:
            w.completed = True
            if w.finished_at is None:
                w.finished_at = self.now
            self._emit("case_completed", payload={"status": w.status})
        if self.round_trip:
            self.state_text = dump_state(workflow)
        else:
            self.live, self.state_text = workflow, ""

    def _apply_status(self, element_id: str) -> None:
        element = self.version.elements.get(element_id) or {}
        status = element.get("status")
        w = self.work
        if status is None or status == w.status:
            return
        old = w.status
        w.status = int(status)
        self._emit(
            "status_changed",
            element_id=element_id,
            status_from=old,
            status_to=w.status,
            payload={"label": STATUS_LABELS.get(w.status, "")},
        )
        if old == 1 and w.channel == sla.ONLINE_CHANNEL and "receipt_decided_at" not in w.sla:
            state = dict(w.sla)
            state["receipt_decided_at"] = self.now.isoformat()
            if w.receipt_due_at is not None:
                state["receipt_outcome"] = "late" if self.now > w.receipt_due_at else "on_time"
            w.sla = state
        if w.status == 2:
            w.received_at = self.now
            w.due_at = sla.statutory_due(self.now, self._legal(), self._calendar())
            self._emit("due_set", payload={"reason": "accepted", "due_at": _iso(w.due_at)})
        elif w.status in (5, 6):
            self._pause(supplement=w.status == 5)
        elif w.status == 4 and old in (5, 6):
            self._resume(payment=old == 6)
        elif w.status == 1 and old == 5 and w.channel == sla.ONLINE_CHANNEL:
            w.receipt_due_at = self._receipt_deadline()
            state = dict(w.sla)
            state.pop("receipt_decided_at", None)
            w.sla = state
        elif w.status == 9:
            self._finish()
        elif w.status == 10:
            w.returned_at = self.now
            if w.finished_at is None:
                self._finish()
            w.completed = True
        if w.status in (3, 8):
            w.finished_at = w.finished_at or self.now
            w.completed = True

    def _pause(self, *, supplement: bool) -> None:
        w = self.work
        if w.received_at is None or w.finished_at is not None:
            return
        state = dict(w.sla)
        state["paused_at"] = self.now.isoformat()
        if supplement:
            state["supplements"] = int(state.get("supplements", 0)) + 1
            if state["supplements"] > 1:
                state["late_766"] = True
        w.sla = state
        self._emit(
            "clock_paused",
            payload={
                "supplements": int(state.get("supplements", 0)),
                "waiting_for": "supplementation" if supplement else "payment",
            },
        )

    def _resume(self, *, payment: bool) -> None:
        w = self.work
        state = dict(w.sla)
        paused = state.pop("paused_at", None)
        if paused is None or w.due_at is None:
            return
        mode = "extend" if payment else self.version.meta.get("clock_mode", "restart")
        if mode == "extend":
            w.due_at = sla.extend_by_pause(
                w.due_at, datetime.fromisoformat(paused), self.now, self._calendar()
            )
        else:
            w.due_at = sla.statutory_due(self.now, self._legal(), self._calendar())
        w.sla = state
        self._emit(
            "due_set",
            payload={
                "reason": f"{'paid' if payment else 'supplemented'}_{mode}",
                "due_at": _iso(w.due_at),
                "paused_at": paused,
            },
        )

    def _finish(self) -> None:
        w = self.work
        w.finished_at = self.now
        outcome: str | None = None
        if w.due_at is not None:
            outcome = sla.classify(self.now, w.due_at)
            if w.sla.get("late_by_apology"):
                outcome = "late"
        w.outcome = outcome
        self._emit("case_finished", payload={"outcome": outcome, "due_at": _iso(w.due_at)})

    def _sync_tasks(self, ready_now: list[Any], newly_ready: list[Any], before_ready: set[str]) -> None:
        ready_ids = {str(t.id) for t in ready_now}
        for gone in before_ready - ready_ids:
            self.work.tasks.pop(gone, None)
        for task in newly_ready:
            element = self.version.elements.get(task.task_spec.name) or {}
            hours = element.get("hours")
            due = self._calendar().add_working_hours(self.now, float(hours)) if hours else None
            if due is not None and self.work.due_at is not None and self.work.finished_at is None:
                due = min(due, self.work.due_at)
            ref = str(task.id)
            self.work.tasks[ref] = OpenTask(
                task_id=ref,
                element_id=task.task_spec.name,
                name=element.get("name") or task.task_spec.bpmn_name or task.task_spec.name,
                role=element.get("role"),
                lane=element.get("lane") or task.task_spec.lane,
                ready_at=self.now,
                due_at=due,
            )
            self._emit(
                "task_ready",
                task_ref=ref,
                element_id=task.task_spec.name,
                payload={"role": element.get("role"), "due_at": _iso(due)},
            )

    # ------------------------------------------------------------------ matching
    def match(self, predicted: _Predicted, recorded: ReplayEvent, first: ReplayEvent) -> Divergence | None:
        """Compare one recorded event with the prediction; binds task ids on ``task_ready``."""

        def diverged(reason: str) -> Divergence:
            return Divergence(recorded.seq, reason, expected=predicted.as_dict(), found=_event_dict(recorded))

        if recorded.kind != predicted.kind:
            return diverged(f"ghi nhận '{recorded.kind}', chạy lại ra '{predicted.kind}'")
        if recorded.at != first.at or recorded.actor != first.actor:
            return diverged(
                "sự kiện phát sinh không cùng thời điểm hoặc người thực hiện với thao tác gây ra nó"
            )
        if (recorded.element_id, recorded.status_from, recorded.status_to) != (
            predicted.element_id,
            predicted.status_from,
            predicted.status_to,
        ):
            return diverged("bước hoặc trạng thái khác với khi chạy lại")
        if audit.canonical(recorded.payload) != audit.canonical(predicted.payload):
            return diverged("nội dung sự kiện khác với khi chạy lại")
        if predicted.kind == "task_ready" and predicted.task_ref is not None:
            if not recorded.task_id or recorded.task_id in self.replay_of:
                return diverged("mã công việc trống hoặc đã dùng cho công việc khác")
            self.replay_of[recorded.task_id] = predicted.task_ref
            self.recorded_of[predicted.task_ref] = recorded.task_id
        elif predicted.task_ref is not None and self.recorded_of.get(predicted.task_ref) != recorded.task_id:
            return diverged("mã công việc khác với công việc khi chạy lại")
        return None

    def _bind(self, ref: str, recorded: str, event: ReplayEvent) -> None:
        known = self.recorded_of.get(ref)
        if known is None and recorded and recorded not in self.replay_of:
            self.recorded_of[ref] = recorded
            self.replay_of[recorded] = ref
        elif known != recorded:
            self._fail(event, f"hẹn giờ {recorded} không khớp với hẹn giờ khi chạy lại")

    def state_at(self, predicted: _Predicted, recorded: ReplayEvent) -> CaseState:
        """The public state as of ``recorded``, with the engine's task ids."""
        w = predicted.snapshot
        assert w is not None and w.submitted_at is not None
        tasks = tuple(replace(t, task_id=self.recorded_of.get(ref, ref)) for ref, t in w.tasks.items())
        return CaseState(
            seq=recorded.seq,
            at=recorded.at,
            kind=recorded.kind,
            actor=recorded.actor,
            procedure_id=w.procedure_id,
            version=w.version,
            channel=w.channel,
            applicant=copy.deepcopy(w.applicant),
            status=w.status,
            data=copy.deepcopy(w.data),
            submitted_at=w.submitted_at,
            receipt_due_at=w.receipt_due_at,
            received_at=w.received_at,
            due_at=w.due_at,
            finished_at=w.finished_at,
            returned_at=w.returned_at,
            completed=w.completed,
            outcome=w.outcome,
            sla=copy.deepcopy(w.sla),
            tasks=tasks,
            timers=w.timers,
            path=tuple(w.path),
            documents=tuple(copy.deepcopy(w.documents)),
        )

    # ------------------------------------------------------------------ rules
    def _calendar(self) -> sla.BusinessCalendar:
        assert self.calendar is not None
        return self.calendar

    def _receipt_deadline(self) -> datetime:
        return sla.receipt_deadline(self.now, self._calendar())

    def _legal(self) -> sla.LegalTime:
        meta = self.version.meta
        cutoff = meta.get("receipt_cutoff")
        return sla.LegalTime(
            amount=float(meta["legal_time"]),
            unit=meta["legal_unit"],
            receipt_cutoff=time.fromisoformat(cutoff) if cutoff else None,
        )


def _before(workflow: BpmnWorkflow) -> tuple[set[str], set[str]]:
    done: set[str] = set()
    ready: set[str] = set()
    for task in all_tasks(workflow):
        if task.state == TaskState.COMPLETED:
            done.add(str(task.id))
        elif task.state == TaskState.READY and task.task_spec.manual:
            ready.add(str(task.id))
    return done, ready


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _event_dict(event: ReplayEvent) -> dict[str, Any]:
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
