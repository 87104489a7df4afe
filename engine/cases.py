"""Case runtime: each operation is one unit of work that stores what the case rules decided.

An operation loads the case (its row and open work items become a typed ``CaseState``), lets
SpiffWorkflow and the rules of ``engine.domain`` decide what happened (``engine.operations``), and
then stores the result in the caller's transaction: the events (hash-chained), the case row, the
work items and timers derived from the new state, and the messages the events cause (outbox). The
same rules rebuild a case from its history in ``engine.replay``.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import (
    BindParameter,
    Connection,
    Executable,
    and_,
    bindparam,
    delete,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import audit, board, operations, outbox, sla
from .clock import Clock
from .db import dialect_insert, pipelined
from .domain import rules
from .domain.rules import Observation, Step
from .domain.state import HISTORY_FORMAT, ROW_FIELDS, START_FIELDS, CaseState, Event, OpenTask, SlaState
from .domain.vocab import TERMINAL, EventKind, Status, label
from .errors import ConflictError, Forbidden, NotFound, ValidationError
from .models import Base, Case, CaseEvent, DossierSequence, Timer, WorkItem
from .operations import spiff_errors
from .procedures import LoadedVersion, ProcedureStore
from .settings import EngineSettings
from .spiff import (
    CompiledSpecs,
    MotcuaScriptEngine,
    all_tasks,
    dump_state_checked,
    load_state,
    ready_user_tasks,
    waiting_timers,
)
from .text import cccd_key, dossier_search_key
from .users import SYSTEM, Actor

TERMINAL_STATUSES = frozenset(int(s) for s in TERMINAL)
__all__ = ["CaseRuntime", "find_case", "open_items", "secret_digest", "spiff_errors", "validate_form"]

# Test seam for fault injection: runs after the rows are flushed, before COMMIT (None in production).
after_flush_hook: Callable[[str], None] | None = None


def new_secret() -> str:
    """A lookup secret: 64 random bits in hex, stored only peppered (``engine.lookup_secrets``)."""
    return secrets.token_hex(8).upper()


def secret_digest(code: str, secret: str) -> str:
    from .lookup_secrets import digest

    return digest(code, secret)


@dataclass
class _Unit:
    """One operation on one case: the rows it read and the rules' step."""

    case: Case
    version: LoadedVersion
    items: dict[str, WorkItem]
    step: Step
    workflow: BpmnWorkflow | None = None
    seen: Observation | None = None
    waiting_before: frozenset[str] = frozenset()  # BPMN timers waiting before the workflow ran
    steps_read: bool = True  # the open work items were read (False: SLA checks, which keep them)
    sla_before: dict[str, datetime | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sla_before = rules.sla_timers(self.step.state)


class WorkflowCache:
    """The workflows this process last wrote, kept in memory for the cases' next operations.

    Rebuilding a case's workflow from its stored state is a large part of an operation; the process
    that wrote the state usually runs the case's next operation too. An entry is the workflow with the
    exact state text it was written as and the specs it runs on, and is valid only while the case row
    still holds that very text for that very version of the procedure: a write by another process, a
    rolled-back transaction (the row keeps the old text) or a redeployed database (other specs) all
    miss, and the state is loaded as before. An operation takes the entry out (so two threads never
    share a workflow, and one that failed half-way is never reused) and puts the workflow back after
    writing it, only when it is exactly what a reload would rebuild (``spiff.dump_state_checked``).

    Bounded by entries and by the length of the states kept (a workflow in memory takes about three
    times its state's length), the least recently written going first: the memory does not grow with
    the number of dossiers.
    """

    def __init__(self, entries: int = 512, state_chars: int = 8_000_000) -> None:
        self._entries_max = entries
        self._chars_max = state_chars
        self._chars = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, tuple[CompiledSpecs, str, BpmnWorkflow]] = OrderedDict()

    def take(self, case_id: int, specs: CompiledSpecs, state: str) -> BpmnWorkflow | None:
        with self._lock:
            entry = self._entries.pop(case_id, None)
            if entry is not None:
                self._chars -= len(entry[1])
        if entry is None or entry[0] is not specs or entry[1] != state:
            return None
        return entry[2]

    def put(self, case_id: int, specs: CompiledSpecs, state: str, workflow: BpmnWorkflow) -> None:
        if len(state) > self._chars_max:
            return
        with self._lock:
            old = self._entries.pop(case_id, None)
            if old is not None:
                self._chars -= len(old[1])
            self._entries[case_id] = (specs, state, workflow)
            self._chars += len(state)
            while len(self._entries) > self._entries_max or self._chars > self._chars_max:
                _, (_, dropped, _) = self._entries.popitem(last=False)
                self._chars -= len(dropped)

    def __len__(self) -> int:
        return len(self._entries)


class CaseRuntime:
    """The public operations on cases. Callers pass a session inside a unit of work."""

    def __init__(
        self,
        clock: Clock,
        calendar: sla.BusinessCalendar,
        settings: EngineSettings,
        procedures: ProcedureStore,
        script_engine_factory: Callable[[], MotcuaScriptEngine],
    ) -> None:
        self.clock = clock
        self.calendar = calendar
        self.settings = settings
        self.procedures = procedures
        self._script_engine = script_engine_factory
        self.workflows = WorkflowCache()

    # ----------------------------------------------------------------------------- start
    def start(
        self,
        session: Session,
        procedure_id: str,
        applicant: Mapping[str, Any],
        channel: int,
        data: Mapping[str, Any],
        actor: Actor,
    ) -> tuple[Case, str]:
        """Open a dossier on the latest version; returns the case and its lookup secret (shown once)."""
        version = self.procedures.load(session, self.procedures.latest_id(session, procedure_id))
        now = self.clock.now()
        code = self._next_code(session, now)
        secret = new_secret()
        case = Case(
            code=code,
            procedure_id=procedure_id,
            procedure_version_id=version.id,
            applicant_name=str(applicant["name"]),
            applicant=dict(applicant),
            search_key=dossier_search_key(code, str(applicant["name"]), applicant.get("id_number")),
            applicant_cccd=cccd_key(applicant.get("id_number")),
            channel=channel,
            status=int(Status.NEW),
            submitted_at=now,
            completed=False,
            sla=SlaState().to_json(),
            data=dict(data),
            state="",
            secret_hash=secret_digest(code, secret),
            history_format=HISTORY_FORMAT,
            last_seq=0,
            last_hash=audit.GENESIS,
        )
        session.add(case)
        unit = _Unit(case, version, {}, self._step(CaseState(), version, actor))
        unit.workflow = version.specs.new_workflow(self._script_engine())
        inputs = {
            "procedure_id": procedure_id,
            "version": version.version,
            "channel": channel,
            "applicant": applicant,
            "data": data,
        }
        unit.seen = operations.start(unit.step, unit.workflow, inputs, HISTORY_FORMAT)
        self._store(session, unit)
        return case, secret

    # ----------------------------------------------------------------------------- complete
    def complete(
        self,
        session: Session,
        case: Case,
        task_ref: str,
        data: Mapping[str, Any],
        actor: Actor,
        expected_version: int | None = None,
    ) -> Case:
        """Complete an open user task with validated data, as ``actor``."""
        if expected_version is not None and expected_version != case.version:
            raise ConflictError("Hồ sơ đã thay đổi kể từ khi bạn mở. Vui lòng tải lại.")
        unit = self._begin(session, case, actor, with_workflow=True)
        assert unit.workflow is not None
        task = _find_ready(unit.workflow, task_ref)
        element = unit.version.elements.get(task.task_spec.name, {})
        role = element.get("role")
        if not actor.has_role(role):
            raise Forbidden(
                f"Người dùng '{actor.username}' không có vai trò '{role}' để thực hiện bước "
                f"'{element.get('name') or task.task_spec.name}'"
            )
        rules.require_apology_if_late(unit.step.state, unit.step.at, self.settings.max_apologies)
        clean = validate_form(element.get("form"), data)
        unit.seen = operations.complete(unit.step, unit.workflow, task, clean)
        self._store(session, unit)
        return case

    # ----------------------------------------------------------------------------- timers
    def fire_timer(self, session: Session, case: Case, timer: Timer) -> bool:
        """Fire one due timer of a case; returns False if it no longer applies."""
        now = self.clock.now()
        if timer.kind == "bpmn":
            unit = self._begin(session, case, SYSTEM, with_workflow=True)
            assert unit.workflow is not None
            waiting = {str(t.id): (t, due) for t, due in waiting_timers(unit.workflow)}
            timer.fired_at = now
            if timer.ref not in waiting:
                return False
            task, due = waiting[timer.ref]
            unit.seen = operations.fire_timer(unit.step, unit.workflow, task, due)
            self._store(session, unit)
            return True
        timer.fired_at = now
        # An SLA check reads the case row only: it neither opens nor closes steps.
        unit = self._begin(session, case, SYSTEM, with_steps=False)
        rule = rules.breached_rule(unit.step.state, timer.kind, now)
        if rule is not None:
            rules.sla_breach(unit.step, rule)
        self._store(session, unit)
        return True

    # ----------------------------------------------------------------------------- apology
    def apologise(
        self,
        session: Session,
        case: Case,
        new_due: datetime | None,
        reason: str,
        unit_at_fault: str,
        actor: Actor,
        kind: str = "late",
    ) -> Case:
        """Record an apology letter (Mẫu 04): for lateness with a new appointment (the case still counts
        as late), for a mistake (with or without one) or for an appointment a calendar change put on a
        day off."""
        unit = self._begin(session, case, actor)
        rules.check_apology(unit.step.state, unit.step.at, new_due, reason, self.settings.max_apologies, kind)
        if new_due is not None:
            rules.check_appointment(self.calendar, new_due)
        due = new_due.astimezone(UTC) if new_due is not None else None
        rules.apology_issued(unit.step, due, reason, unit_at_fault, kind)
        self._store(session, unit)
        return case

    # ----------------------------------------------------------------------------- supplementation
    def approve_supplement(self, session: Session, case: Case, reason: str, actor: Actor) -> Case:
        """A head of department allows one more supplementation request (where the procedure allows)."""
        unit = self._begin(session, case, actor)
        rules.check_supplement_approval(unit.step.state, unit.version.facts, reason)
        rules.supplement_approved(unit.step, reason)
        self._store(session, unit)
        return case

    # ----------------------------------------------------------------------------- calendar
    def calendar_changed(
        self, session: Session, case: Case, day: str, change: str, basis: str, actor: Actor
    ) -> bool:
        """Recompute an open case's deadlines under the current calendar; False when nothing moved."""
        unit = self._begin(session, case, actor)
        moves = rules.calendar_moves(unit.step.state, unit.version.facts, self.calendar)
        if not moves:
            return False
        rules.calendar_changed(unit.step, day, change, basis, moves)
        self._store(session, unit)
        return True

    # ----------------------------------------------------------------------------- withdrawal
    def request_withdrawal(
        self,
        session: Session,
        case: Case,
        reason: str,
        actor: Actor,
        paper: Mapping[str, Any] | None = None,
    ) -> Case:
        """The applicant's request to withdraw is recorded (status 7); checks are the caller's."""
        unit = self._begin(session, case, actor)
        rules.withdrawal_requested(unit.step, reason, paper)
        self._store(session, unit)
        return case

    def stop(self, session: Session, case: Case, actor: Actor) -> Case:
        """Processing stops (status 8): the workflow is cancelled and its open steps close."""
        unit = self._begin(session, case, actor, with_workflow=True)
        assert unit.workflow is not None
        unit.seen = operations.stop(unit.step, unit.workflow)
        self._store(session, unit)
        return case

    # ----------------------------------------------------------------------------- recorded facts
    def record(
        self,
        session: Session,
        case: Case,
        actor: Actor,
        kind: EventKind,
        payload: Mapping[str, Any],
        *,
        task_id: str | None = None,
    ) -> Case:
        """Record a fact about the case (a document, a payment, a result, who holds a step)."""
        unit = self._begin(session, case, actor)
        element_id = None
        if task_id is not None:
            task = unit.step.state.tasks.get(task_id)
            if task is None:
                raise ConflictError(f"Công việc '{task_id}' đã được hoàn thành hoặc không còn mở")
            element_id = task.element_id
        rules.recorded(unit.step, kind, payload, task_id=task_id, element_id=element_id)
        self._store(session, unit)
        return case

    # ----------------------------------------------------------------------------- reading
    def load_workflow(self, session: Session, case: Case) -> BpmnWorkflow:
        version = self.procedures.load(session, case.procedure_version_id)
        return load_state(case.state, version.specs, self._script_engine())

    def state(self, session: Session, case: Case) -> CaseState:
        """The case's typed state as stored (row + open work items)."""
        return _state_of(
            case, self.procedures.load(session, case.procedure_version_id), open_items(session, case)
        )

    # ----------------------------------------------------------------------------- batches
    @contextmanager
    def batch(self, session: Session) -> Iterator[None]:
        """Operations inside that change only case rows, events and messages (SLA checks) write them
        together when the block ends: one statement for the rows, one for the events, one for the
        messages, instead of three per case. The caller holds the cases' row locks (the version check
        of each row is then redundant); on an error nothing is written and the transaction rolls back.
        """
        batch = _Batch()
        session.info[_BATCH] = batch
        try:
            yield
        finally:
            del session.info[_BATCH]
        _update_cases(session, [c for c in batch.cases.values() if inspect(c).modified])
        session.flush()
        _insert_events(session, batch.events)
        board.write(session, batch.counts)
        outbox.add_all(session, batch.messages)

    # ----------------------------------------------------------------------------- the unit of work
    def _step(self, state: CaseState, version: LoadedVersion, actor: Actor) -> Step:
        return Step(state, version.facts, self.calendar, self.clock.now(), actor.username)

    def _begin(
        self,
        session: Session,
        case: Case,
        actor: Actor,
        *,
        with_workflow: bool = False,
        with_steps: bool = True,
    ) -> _Unit:
        version = self.procedures.load(session, case.procedure_version_id)
        items = open_items(session, case) if with_steps else {}
        unit = _Unit(case, version, items, self._step(_state_of(case, version, items), version, actor))
        unit.steps_read = with_steps
        if with_workflow:
            unit.workflow = self._workflow(case, version)
            unit.waiting_before = frozenset(str(t.id) for t, _ in waiting_timers(unit.workflow))
        return unit

    def _workflow(self, case: Case, version: LoadedVersion) -> BpmnWorkflow:
        """The case's workflow as stored: kept from this process's last write when still current."""
        workflow = self.workflows.take(case.id, version.specs, case.state)
        if workflow is None:
            return load_state(case.state, version.specs, self._script_engine())
        workflow.script_engine = self._script_engine()  # this operation's clock and calendar
        return workflow

    def _store(self, session: Session, unit: _Unit) -> None:
        """Write what the step decided: the case row once, the events and the messages they cause in
        one batch each, the work items and timers that changed; then flush.

        Nothing is flushed early, so the case row gets one INSERT or one UPDATE per operation; timers
        are written by their key without being read first.
        """
        case, step = unit.case, unit.step
        events = [self._event_fields(case, event) for event in step.events]
        # A new case row counts nowhere yet (its constructor's status is not a stored one).
        on_board = board.stored_entries(case) if case.id is not None else []
        moved = (case.received_at, case.due_at) != (step.state.received_at, step.state.due_at)
        _write_state(case, step.state)
        lanes = (
            board.lanes_of(t.lane for t in step.state.tasks.values()) or None
            if unit.steps_read
            else case.board_lanes
        )
        board.derive(
            case,
            lanes,
            step.state.sla.paused_at is not None,
            self.calendar,
            self.settings.amber_threshold,
            moved=moved,
        )
        counts = board.deltas(on_board, board.stored_entries(case))
        faithful = False
        if unit.workflow is not None:
            case.state, faithful = dump_state_checked(unit.workflow)
        if case.id is None:
            session.flush()  # a new case: its complete row, whose id keys everything below
        if faithful:
            assert unit.workflow is not None
            self.workflows.put(case.id, unit.version.specs, case.state, unit.workflow)
        item_changes, opened = self._sync_work_items(unit)
        timer_changes = self._timer_changes(session, unit)
        rows = [{"case_id": case.id, **fields} for fields in events]
        messages = [
            (case.id, message, event.at)
            for event, fields in zip(step.events, events, strict=True)
            for message in self._messages(unit, event, fields)
        ]
        batch: _Batch | None = session.info.get(_BATCH)
        if (
            batch is not None
            and unit.workflow is None
            and not unit.items
            and not timer_changes
            and not item_changes
            and not opened
        ):
            # Only the case row, its events and messages changed: written with the batch's others.
            batch.cases[case.id] = case
            batch.events += rows
            batch.messages += messages
            batch.counts += counts
        else:
            connection = session.connection()  # not session.execute: its autoflush would write the row
            row_update, only = _case_update(session, case)
            if row_update is not None and not only:
                # Other columns changed through the ORM, whose flush comes next and checks the version:
                # this UPDATE must be done by then.
                _check_written(connection.execute(*row_update), case)
                row_update = None
            session.flush()  # anything else the operation changed through the ORM (a fired timer)
            written: CursorResult[Any] | None = None
            try:
                with pipelined(session):
                    if row_update is not None:
                        written = connection.execute(*row_update)
                    _write_items(session, connection, item_changes)
                    _insert_items(connection, opened)
                    for statement, params in timer_changes:
                        connection.execute(statement, params)
                    _insert_events(session, rows)
                    board.write(session, counts)
                    outbox.add_all(session, messages)
            except DBAPIError:
                # A statement after a stale row's UPDATE fails too (the other writer's events hold
                # these seqs): the conflict is the stale row.
                if written is not None:
                    _check_written(written, case)
                raise
            if written is not None:
                _check_written(written, case)
            _remember_open(
                session, case, [*(i for i in unit.items.values() if i.completed_at is None), *opened]
            )
        if after_flush_hook is not None:
            after_flush_hook(case.code)

    def _event_fields(self, case: Case, event: Event) -> dict[str, Any]:
        """The next ``case_events`` row of the case's hash chain (its ``case_id`` added at insert)."""
        fields: dict[str, Any] = {
            "seq": case.last_seq + 1,
            "at": event.at,
            "actor": event.actor,
            "kind": event.kind,
            "task_id": event.task_id,
            "element_id": event.element_id,
            "status_from": event.status_from,
            "status_to": event.status_to,
            "payload": dict(event.payload),
        }
        digest = audit.chain_hash(case.last_hash, audit.event_content(case_code=case.code, **fields))
        fields["prev_hash"], fields["hash"] = case.last_hash, digest
        case.last_seq = fields["seq"]
        case.last_hash = digest
        return fields

    def _messages(self, unit: _Unit, event: Event, row: Mapping[str, Any]) -> list[outbox.NewMessage]:
        """What an event causes outside (portal sync, applicant notices, fee request), queued in this
        same transaction: it is sent only if the change commits (engine.outbox)."""
        case, facts = unit.case, unit.version.facts
        found: list[outbox.NewMessage] = []
        if event.status_to is not None:
            found += outbox.status_change_messages(
                case_code=case.code,
                seq=row["seq"],
                event_hash=row["hash"],
                at=event.at,
                status_from=event.status_from,
                status_to=event.status_to,
                label=label(event.status_to),
                procedure_code=facts.code,
                applicant=case.applicant,
                fee=facts.fee,
            )
        text = rules.applicant_notice(event, case.code)
        if text is not None:
            found += outbox.appointment_messages(
                case_code=case.code,
                seq=row["seq"],
                event_hash=row["hash"],
                at=event.at,
                applicant=case.applicant,
                text=text,
            )
        return found

    def _sync_work_items(self, unit: _Unit) -> tuple[list[tuple[WorkItem, dict[str, Any]]], list[WorkItem]]:
        """What changes in the work items: the items whose steps closed, or whose holder or due moved,
        with their new values; and the items of the steps opened (not yet written)."""
        state, now = unit.step.state, unit.step.at
        done = {e.task_id: e for e in unit.step.events if e.kind == EventKind.TASK_COMPLETED}
        changes: list[tuple[WorkItem, dict[str, Any]]] = []
        for task_id, item in unit.items.items():
            task = state.tasks.get(task_id)
            values: dict[str, Any] = {}
            if task is None:
                values["completed_at"] = now
                finished = done.get(task_id)
                if finished is not None:
                    values["completed_by"] = finished.actor
                    values["outcome"] = sla.classify(now, item.due_at) if item.due_at else None
                else:
                    values["cancelled"] = True
            else:
                if item.assignee != task.assignee:
                    values["assignee"] = task.assignee
                if item.due_at != task.due_at:  # a calendar change moved the step's due
                    values["due_at"] = task.due_at
            if values:
                changes.append((item, values))
        new = [
            WorkItem(
                case_id=unit.case.id,
                task_id=t.task_id,
                element_id=t.element_id,
                name=t.name,
                role=t.role,
                lane=t.lane,
                unit=t.unit,
                assignee=t.assignee,
                allocated_hours=unit.version.facts.hours_of(t.element_id),
                ready_at=t.ready_at,
                due_at=t.due_at,
                cancelled=False,
            )
            for t in state.tasks.values()
            if t.task_id not in unit.items
        ]
        return changes, new

    def _timer_changes(self, session: Session, unit: _Unit) -> list[tuple[Executable, Any]]:
        """The statements (with their parameters) that keep the case's timers in step: SLA checks
        follow the state's deadlines (only those this operation moved), BPMN timers the workflow (when
        it ran). Each writes a timer by its key (case, kind, ref), so nothing is read first; they run
        after the flush, so a timer the operation itself fired is already marked fired. The statements
        are built once per dialect (building one costs more than running it)."""
        case = unit.case
        moved = {
            kind: due
            for kind, due in rules.sla_timers(unit.step.state).items()
            if due != unit.sla_before.get(kind)
        }
        bpmn = unit.seen is not None and (bool(unit.seen.timers) or unit.version.specs.has_timers)
        if not moved and not bpmn:
            return []
        statements = _timer_statements(session.get_bind().dialect.name)
        changes: list[tuple[Executable, Any]] = []
        upserts = []
        for kind, due in moved.items():
            if due is None:
                changes.append((statements.delete_in, {"case_id": case.id, "kind": kind, "refs": [kind]}))
            else:
                upserts.append({"case_id": case.id, "kind": kind, "ref": kind, "due_at": due})
        if upserts:
            changes.append((statements.upsert_sla, upserts))
        if not bpmn or unit.seen is None:
            return changes
        current = {task_id: due for task_id, _, due in unit.seen.timers}
        if unit.waiting_before - current.keys():
            # A timer that waited stops waiting (its row, unless fired, goes): the rows of unfired
            # BPMN timers are the timers that waited before, so nothing goes when none stopped.
            params = {"case_id": case.id, "kind": "bpmn", "refs": list(current)}
            changes.append((statements.delete_not_in, params))
        if current:
            # a repeating cycle waits again on the same task: its fired row is armed anew
            rows = [
                {"case_id": case.id, "kind": "bpmn", "ref": ref, "due_at": due}
                for ref, due in current.items()
            ]
            changes.append((statements.upsert_bpmn, rows))
        return changes

    def _next_code(self, session: Session, now: datetime) -> str:
        day = now.astimezone(sla.LOCAL_TZ).strftime("%y%m%d")
        agency = self.settings.agency_code
        stmt = (
            dialect_insert(session, DossierSequence)
            .values(agency=agency, day=day, last=1)
            .on_conflict_do_update(index_elements=["agency", "day"], set_={"last": DossierSequence.last + 1})
            .returning(DossierSequence.last)
        )
        number = int(session.execute(stmt).scalar_one())
        if number > 9999:
            raise ValidationError("Đã hết số thứ tự hồ sơ trong ngày (tối đa 9999)")
        return f"{agency}-{day}-{number:04d}"


# ------------------------------------------------------------------------------------ row <-> state
_OPEN_ITEMS = "motcua.open_items"
_BATCH = "motcua.batch"


@dataclass
class _Batch:
    """What the operations of a :meth:`CaseRuntime.batch` leave to write at its end."""

    cases: dict[int, Case] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[tuple[int | None, outbox.NewMessage, datetime]] = field(default_factory=list)
    counts: list[dict[str, Any]] = field(default_factory=list)  # board count deltas (engine.board)


#: The columns an operation may change on the case row, besides its workflow state and version.
_CHANGING = (*ROW_FIELDS, "data", "sla", "last_seq", "last_hash", *board.COLUMNS)
_CHANGING_KEYS = frozenset(_CHANGING)


@dataclass(frozen=True)
class _TimerStatements:
    """The timer writes of an operation, with bound parameters (``case_id``, ``kind``, ``ref``,
    ``due_at``, ``refs``), one set per dialect."""

    upsert_sla: Executable
    upsert_bpmn: Executable
    delete_in: Executable
    delete_not_in: Executable


_TIMER_STATEMENTS: dict[str, _TimerStatements] = {}


def _timer_statements(dialect: str) -> _TimerStatements:
    known = _TIMER_STATEMENTS.get(dialect)
    if known is not None:
        return known
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    columns: dict[str, BindParameter[Any]] = {n: bindparam(n) for n in ("case_id", "kind", "ref", "due_at")}
    sla_row = upsert(Timer).values(columns).inline()  # no ids read back (the write may be pipelined)
    bpmn_row = upsert(Timer).values(columns).inline()
    key = Timer.case_id == bindparam("case_id"), Timer.kind == bindparam("kind"), Timer.fired_at.is_(None)
    refs: BindParameter[Any] = bindparam("refs", expanding=True)
    made = _TimerStatements(
        upsert_sla=sla_row.on_conflict_do_update(
            index_elements=["case_id", "kind", "ref"],
            set_={"due_at": sla_row.excluded.due_at, "fired_at": None, "lease_until": None},
            where=Timer.due_at != sla_row.excluded.due_at,
        ),
        upsert_bpmn=bpmn_row.on_conflict_do_update(
            index_elements=["case_id", "kind", "ref"],
            set_={
                "due_at": bpmn_row.excluded.due_at,
                "fired_at": None,
                "lease_until": None,
                "lease_owner": None,
            },
            where=or_(Timer.fired_at.is_(None), Timer.due_at != bpmn_row.excluded.due_at),
        ),
        delete_in=delete(Timer).where(*key, Timer.ref.in_(refs)),
        delete_not_in=delete(Timer).where(*key, Timer.ref.not_in(refs)),
    )
    _TIMER_STATEMENTS[dialect] = made
    return made


def _case_update(session: Session, case: Case) -> tuple[tuple[Executable, dict[str, Any]] | None, bool]:
    """The operation's one UPDATE of the case row, through Core: only the columns that changed, with
    the version check the ORM would make (a row another writer moved on is a conflict, see
    :func:`_check_written`); and whether it is all that changed of the row.

    The values become the object's committed ones, so the ORM does not write them again. When
    nothing else of the row changed through the ORM it is marked clean as well (set_committed_value
    leaves it flagged as modified): every later autoflush and the commit's flush would otherwise sift
    the row again for nothing, a sizeable part of an operation."""
    found = inspect(case)
    changed = {
        name: getattr(case, name) for name in (*_CHANGING, "state") if found.attrs[name].history.has_changes()
    }
    if not changed:
        return None, not found.committed_state
    statement = (
        _case_update_statement(tuple(changed)),
        {**changed, "case_key": case.id, "case_version": case.version},
    )
    for name, value in changed.items():
        set_committed_value(case, name, value)
    set_committed_value(case, "version", case.version + 1)
    if found.committed_state:
        return statement, False
    found._commit_all(found.dict, session.identity_map)
    return statement, True


#: UPDATEs of the case row by the columns they set (a few shapes recur: built once each).
_CASE_UPDATES: dict[tuple[str, ...], Any] = {}


def _case_update_statement(names: tuple[str, ...]) -> Any:
    known = _CASE_UPDATES.get(names)
    if known is None:
        table = Base.metadata.tables[Case.__tablename__]
        known = _CASE_UPDATES[names] = (
            update(table)
            .where(table.c.id == bindparam("case_key"), table.c.version == bindparam("case_version"))
            .values({**{name: bindparam(name) for name in names}, "version": table.c.version + 1})
        )
    return known


def _check_written(result: CursorResult[Any], case: Case) -> None:
    """The case row's UPDATE matched its row at the version read: otherwise another writer moved it
    on (the conflict the ORM's version check reports). The count is the cursor's, read when the
    statement has run (at the end of a pipeline)."""
    if result.context.cursor.rowcount != 1:
        raise StaleDataError(f"cases row {case.id} is no longer at version {case.version - 1}")


#: UPDATEs of work items by the columns they set (closing a step, a new holder or due).
_ITEM_UPDATES: dict[tuple[str, ...], Any] = {}


def _write_items(
    session: Session, connection: Connection, changes: list[tuple[WorkItem, dict[str, Any]]]
) -> None:
    """Update the work items that changed (by task id), one statement per set of changed columns;
    the values become the objects' committed ones, in the operation's objects and in any other
    object of the same row the session holds (a query in the same unit of work may have loaded the
    row of an item this runtime inserted without reading it back)."""
    groups: dict[tuple[str, ...], list[tuple[WorkItem, dict[str, Any]]]] = {}
    for item, values in changes:
        groups.setdefault(tuple(sorted(values)), []).append((item, values))
    for names, group in groups.items():
        statement = _ITEM_UPDATES.get(names)
        if statement is None:
            table = Base.metadata.tables[WorkItem.__tablename__]
            statement = _ITEM_UPDATES[names] = (
                update(table)
                .where(table.c.task_id == bindparam("item_task"))
                .values({name: bindparam(name) for name in names})
            )
        connection.execute(statement, [{"item_task": item.task_id, **values} for item, values in group])
    by_task = {item.task_id: values for item, values in changes}
    loaded = [o for o in session.identity_map.values() if isinstance(o, WorkItem) and o.task_id in by_task]
    for item, values in [*changes, *((o, by_task[o.task_id]) for o in loaded)]:
        for name, value in values.items():
            set_committed_value(item, name, value)


_ITEM_COLUMNS = (
    "case_id",
    "task_id",
    "element_id",
    "name",
    "role",
    "lane",
    "unit",
    "assignee",
    "allocated_hours",
    "ready_at",
    "due_at",
    "cancelled",
)


def _insert_items(connection: Connection, items: list[WorkItem]) -> None:
    """Insert the items of the steps opened, in one statement and without reading their ids back
    (a work item is found by its task id): the objects stay outside the session, as what this unit
    of work knows of the case's open steps (:func:`open_items`); a query reads the rows."""
    if items:
        connection.execute(
            _INSERT_ITEMS, [{name: getattr(item, name) for name in _ITEM_COLUMNS} for item in items]
        )


_INSERT_ITEMS = insert(Base.metadata.tables[WorkItem.__tablename__]).inline()


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if len(rows) > 1 and session.get_bind().dialect.name == "postgresql":
        # A batch (SLA timers): one statement for every row, where executemany runs one INSERT per
        # row on the server (each with its own executor start and index descents).
        session.execute(_INSERT_EVENTS_SET, {"rows": _rows_json(rows, _EVENT_COLUMNS)})
        return
    # Core, not the ORM's bulk insert: that groups rows by which columns are NULL, one statement
    # per group.
    session.execute(_INSERT_EVENTS, rows)


_INSERT_EVENTS = insert(Base.metadata.tables[CaseEvent.__tablename__]).inline()
_EVENT_COLUMNS = tuple(c.name for c in _INSERT_EVENTS.table.columns if c.name != "id")


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _rows_json(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Rows as one JSON array for ``json_populate_recordset`` (a row's JSON columns nest as they
    are; timestamps as ISO 8601 with their offset)."""
    return json.dumps([{name: row[name] for name in columns} for row in rows], default=_json_value)


_INSERT_EVENTS_SET = text(
    f"INSERT INTO case_events ({', '.join(_EVENT_COLUMNS)}) "
    f"SELECT {', '.join('r.' + c for c in _EVENT_COLUMNS)} "
    "FROM json_populate_recordset(NULL::case_events, CAST(:rows AS json)) WITH ORDINALITY AS r "
    "ORDER BY r.ordinality"
)


def _update_cases(session: Session, cases: list[Case]) -> None:
    """One UPDATE for many case rows (the ORM issues one per row when it checks versions): the new
    values become the objects' committed ones, and each row's version moves on as the ORM's would.
    On PostgreSQL a batch is one set-based statement over a JSON array of the rows: an executemany
    still runs one UPDATE per row on the server (a third of an SLA timer's server time)."""
    if not cases:
        return
    table = Base.metadata.tables[Case.__tablename__]
    rows = []
    for case in cases:
        values = {name: getattr(case, name) for name in _CHANGING}
        state = inspect(case)
        if state.committed_state.keys() <= _CHANGING_KEYS:
            # Every change is in this UPDATE: the object is clean again at once, so the flush that
            # follows compares none of its columns (a quarter of an SLA timer's Python time).
            state.dict["version"] = case.version + 1
            state._commit_all(state.dict, session.identity_map)
        else:
            for name, value in values.items():
                set_committed_value(case, name, value)
            set_committed_value(case, "version", case.version + 1)
        rows.append({"case_key": case.id, **values})
    if len(rows) > 1 and session.get_bind().dialect.name == "postgresql":
        for row in rows:
            row["id"] = row.pop("case_key")
        session.connection().execute(_UPDATE_CASES_SET, {"rows": _rows_json(rows, ("id", *_CHANGING))})
        return
    statement = (
        update(table)
        .where(table.c.id == bindparam("case_key"))
        .values({**{name: bindparam(name) for name in _CHANGING}, "version": table.c.version + 1})
    )
    session.connection().execute(statement, rows)


_UPDATE_CASES_SET = text(
    f"UPDATE cases SET {', '.join(f'{c} = r.{c}' for c in _CHANGING)}, version = cases.version + 1 "
    "FROM json_populate_recordset(NULL::cases, CAST(:rows AS json)) AS r WHERE cases.id = r.id"
)


def open_items(session: Session, case: Case) -> dict[str, WorkItem]:
    """The case's open work items by task id, in the order they opened.

    Read once per unit of work: the runtime is the only writer of work items and remembers what it
    wrote (keyed by the case's row version, so a rolled-back write is never taken for the truth).
    """
    known: dict[tuple[int, int], dict[str, WorkItem]] = session.info.setdefault(_OPEN_ITEMS, {})
    key = (case.id, case.version)
    items = known.get(key)
    if items is None:
        rows = session.scalars(
            select(WorkItem)
            .where(WorkItem.case_id == case.id, WorkItem.completed_at.is_(None))
            .order_by(WorkItem.ready_at, WorkItem.id)
        )
        items = known[key] = {row.task_id: row for row in rows}
    return items


def _remember_open(session: Session, case: Case, items: list[WorkItem]) -> None:
    # Items just inserted have no id (none is read back): they opened last, so they sort last among
    # those ready at the same moment, in the order given.
    ordered = sorted(items, key=lambda i: (i.ready_at, math.inf if i.id is None else i.id))
    session.info.setdefault(_OPEN_ITEMS, {})[(case.id, case.version)] = {i.task_id: i for i in ordered}


def _state_of(case: Case, version: LoadedVersion, items: Mapping[str, WorkItem]) -> CaseState:
    return CaseState(
        **{name: getattr(case, name) for name in (*START_FIELDS, *ROW_FIELDS)},
        version=version.version,
        applicant=dict(case.applicant),
        data=dict(case.data),
        sla=SlaState.from_json(case.sla),
        tasks={
            i.task_id: OpenTask(
                task_id=i.task_id,
                element_id=i.element_id,
                name=i.name,
                role=i.role,
                lane=i.lane,
                ready_at=i.ready_at,
                due_at=i.due_at,
                assignee=i.assignee,
                unit=i.unit,
            )
            for i in items.values()
        },
        history_format=case.history_format,
        last_seq=case.last_seq,
    )


def _write_state(case: Case, state: CaseState) -> None:
    for name in ROW_FIELDS:
        value = getattr(state, name)
        if getattr(case, name) != value:  # an unchanged column stays out of the UPDATE
            setattr(case, name, int(value) if name == "status" else value)
    if case.data != state.data:
        case.data = state.data
    sla = state.sla.to_json()
    if case.sla != sla:
        case.sla = sla


def _find_ready(workflow: BpmnWorkflow, task_ref: str) -> Any:
    """Accept a task id (UUID) or, when unambiguous, the element id of an open task."""
    ready = ready_user_tasks(workflow)
    by_id = [t for t in ready if str(t.id) == task_ref]
    if by_id:
        return by_id[0]
    by_name = [t for t in ready if t.task_spec.name == task_ref]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise ValidationError(f"Có nhiều bước '{task_ref}' đang mở; hãy dùng mã công việc (task id)")
    known = any(str(t.id) == task_ref or t.task_spec.name == task_ref for t in all_tasks(workflow))
    if known:
        raise ConflictError(f"Công việc '{task_ref}' đã được hoàn thành hoặc không còn mở")
    raise NotFound(f"Không tìm thấy công việc '{task_ref}' trong hồ sơ")


_FORM_MESSAGES = {
    "required": "thiếu trường bắt buộc",
    "type": "sai kiểu dữ liệu",
    "enum": "giá trị không nằm trong danh sách cho phép",
    "maxLength": "quá dài",
    "minLength": "quá ngắn",
    "minimum": "nhỏ hơn giá trị tối thiểu",
    "maximum": "lớn hơn giá trị tối đa",
    "additionalProperties": "có trường không được phép",
    "format": "sai định dạng",
    "pattern": "sai định dạng",
}


def validate_form(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate task data against the step's JSON Schema; errors name each field in Vietnamese."""
    if not isinstance(data, Mapping):
        raise ValidationError("Dữ liệu phải là một đối tượng JSON")
    clean = dict(data)
    for key in clean:
        if not isinstance(key, str) or key.startswith("_") or not key.isidentifier():
            raise ValidationError(f"Tên trường không hợp lệ: '{key}'")
    if not schema:
        return clean
    validator = _validator(schema)
    errors = sorted(validator.iter_errors(clean), key=lambda e: list(e.absolute_path))
    if errors:
        problems = []
        for err in errors:
            field = ".".join(str(p) for p in err.absolute_path) or _missing_field(err) or "(dữ liệu)"
            title = schema.get("properties", {}).get(field, {}).get("title", field)
            problems.append({"field": field, "message": _FORM_MESSAGES.get(str(err.validator), err.message)})
            problems[-1]["title"] = title
        text = "; ".join(f"{p['title']}: {p['message']}" for p in problems)
        raise ValidationError(f"Dữ liệu biểu mẫu không hợp lệ — {text}", details={"fields": problems})
    return clean


#: Validators of the forms seen, by the schema object's identity (a loaded version keeps its forms for
#: the life of the process); the schema is kept beside its validator so the identity stays its own.
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    known = _VALIDATORS.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    validator = Draft202012Validator(schema)
    if len(_VALIDATORS) > 4096:  # forms built per request (tests, the designer) must not pile up
        _VALIDATORS.clear()
    _VALIDATORS[id(schema)] = (schema, validator)
    return validator


def _missing_field(err: Any) -> str | None:
    if err.validator == "required" and isinstance(err.message, str) and err.message.startswith("'"):
        return str(err.message.split("'")[1])
    return None


#: A case by its code with its open work items (built once: building it cost more than running it).
_CASE_WITH_OPEN_ITEMS = (
    select(Case, WorkItem)
    .outerjoin(WorkItem, and_(WorkItem.case_id == Case.id, WorkItem.completed_at.is_(None)))
    .where(Case.code == bindparam("code"))
)


def find_case(session: Session, ref: str, *, with_open_items: bool = False) -> Case:
    """A case by dossier code or numeric id; ``with_open_items`` reads its open work items in the
    same statement (what :func:`open_items` then answers from) when the code is given."""
    if with_open_items:
        rows = session.execute(_CASE_WITH_OPEN_ITEMS, {"code": ref}).all()
        if rows:
            found: Case = rows[0][0]
            _remember_open(session, found, [item for _, item in rows if item is not None])
            return found
    case = session.scalar(select(Case).where(Case.code == ref))
    if case is None and ref.isdigit():
        case = session.get(Case, int(ref))
    if case is None:
        raise NotFound(f"Không tìm thấy hồ sơ '{ref}'")
    return case
