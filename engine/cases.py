"""Case runtime: start, complete tasks, fire timers, apologise — each one unit of work.

Every operation follows the same shape: load the case and its workflow, change the workflow,
let SpiffWorkflow run engine steps, then :meth:`_Operation.settle` derives what happened (statuses
reached, tasks opened/closed, timers armed, SLA effects) and appends the events; the new state and
the events are flushed in the caller's transaction and commit together.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any

from jsonschema import Draft202012Validator
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import audit, outbox, sla
from .clock import Clock
from .errors import ConflictError, Forbidden, NotFound, ProcedureError, SlaViolation, ValidationError
from .models import Case, CaseEvent, DossierSequence, Timer, WorkItem
from .procedures import LoadedVersion, ProcedureStore
from .sandbox import find_sandbox_error
from .settings import EngineSettings
from .spiff import MotcuaScriptEngine, all_tasks, dump_state, load_state, ready_user_tasks, waiting_timers
from .statuses import STATUS_LABELS
from .users import Actor

TERMINAL_STATUSES = frozenset({3, 8, 10})
SLA_TIMER_GRACE = timedelta(seconds=1)

# Test seam for fault injection: runs after the rows are flushed, before COMMIT (None in production).
after_flush_hook: Callable[[str], None] | None = None


def secret_digest(code: str, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), code.encode("utf-8"), hashlib.sha256).hexdigest()


class CaseRuntime:
    """Operations on cases. Callers pass a session inside a unit of work."""

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
        row = self.procedures.latest(session, procedure_id)
        version = self.procedures.load(session, row.id)
        now = self.clock.now()
        code = self._next_code(session, now)
        secret = secrets.token_hex(4).upper()
        case = Case(
            code=code,
            procedure_id=procedure_id,
            procedure_version_id=version.id,
            applicant_name=str(applicant["name"]),
            applicant=dict(applicant),
            channel=channel,
            status=1,
            submitted_at=now,
            receipt_due_at=sla.receipt_deadline(now, self.calendar)
            if channel == sla.ONLINE_CHANNEL
            else None,
            completed=False,
            sla={"supplements": 0, "apologies": 0, "flags": []},
            data=dict(data),
            state="",
            secret_hash=secret_digest(code, secret),
            last_seq=0,
            last_hash=audit.GENESIS,
        )
        session.add(case)
        session.flush()
        workflow = version.specs.new_workflow(self._script_engine())
        workflow.task_tree.data.update(data)
        op = _Operation(self, session, case, version, workflow, actor)
        if case.receipt_due_at is not None:
            op.arm_sla_timer("receipt_sla", case.receipt_due_at)
        op.emit(
            "case_started",
            payload={
                "procedure_id": procedure_id,
                "version": version.version,
                "channel": channel,
                "applicant": dict(applicant),
                "data": dict(data),
                "receipt_due_at": _iso(case.receipt_due_at),
            },
            status_to=1,
        )
        with spiff_errors():
            workflow.do_engine_steps()
        op.settle()
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
        version = self.procedures.load(session, case.procedure_version_id)
        workflow = self._load(case, version)
        task = _find_ready(workflow, task_ref)
        element = version.elements.get(task.task_spec.name, {})
        role = element.get("role")
        if not actor.has_role(role):
            raise Forbidden(
                f"Người dùng '{actor.username}' không có vai trò '{role}' để thực hiện bước "
                f"'{element.get('name') or task.task_spec.name}'"
            )
        self._require_apology_if_late(case)
        clean = validate_form(element.get("form"), data)
        op = _Operation(self, session, case, version, workflow, actor)
        before = dict(case.data)
        task.data.update(clean)
        with spiff_errors():
            task.run()
            workflow.do_engine_steps()
        case.data = {**before, **clean}
        op.completed_task = (str(task.id), task.task_spec.name)
        step_due = session.scalar(select(WorkItem.due_at).where(WorkItem.task_id == str(task.id)))
        op.emit(
            "task_completed",
            task_id=str(task.id),
            element_id=task.task_spec.name,
            payload={
                "data": clean,
                "diff": _diff(before, case.data),
                "role": role,
                "due_at": _iso(step_due),
                "outcome": sla.classify(op.now, step_due) if step_due else None,
            },
        )
        op.extend_due(clean)
        op.settle()
        return case

    # ----------------------------------------------------------------------------- timers
    def fire_timer(self, session: Session, case: Case, timer: Timer) -> bool:
        """Fire one due timer of a case; returns False if it no longer applies."""
        now = self.clock.now()
        version = self.procedures.load(session, case.procedure_version_id)
        if timer.kind == "bpmn":
            workflow = self._load(case, version)
            waiting = {str(t.id): t for t, _ in waiting_timers(workflow)}
            if timer.ref not in waiting:
                timer.fired_at = now
                return False
            op = _Operation(self, session, case, version, workflow, _system())
            with spiff_errors():
                workflow.refresh_timers()
                workflow.do_engine_steps()
            fired = waiting[timer.ref]
            op.emit(
                "timer_fired",
                task_id=timer.ref,
                element_id=fired.task_spec.name,
                payload={"due_at": _iso(timer.due_at)},
            )
            timer.fired_at = now
            op.settle()
            return True
        timer.fired_at = now
        op = _Operation(self, session, case, version, None, _system())
        if (
            timer.kind == "receipt_sla"
            and case.status == 1
            and case.receipt_due_at is not None
            and now > case.receipt_due_at
        ):
            op.flag("receipt_overdue")
            op.emit(
                "sla_breach", payload={"rule": "receipt_8_working_hours", "due_at": _iso(case.receipt_due_at)}
            )
        elif (
            timer.kind == "due_sla"
            and case.due_at is not None
            and case.finished_at is None
            and now > case.due_at
            and case.status not in (5, 6, *TERMINAL_STATUSES)
        ):
            op.flag("overdue")
            op.emit("sla_breach", payload={"rule": "statutory_due", "due_at": _iso(case.due_at)})
        op.finish_events_only()
        return True

    # ----------------------------------------------------------------------------- apology
    def apologise(
        self,
        session: Session,
        case: Case,
        new_due: datetime,
        reason: str,
        unit_at_fault: str,
        actor: Actor,
    ) -> Case:
        """Record an apology letter (Mẫu 04) with a new appointment; the case still counts as late."""
        now = self.clock.now()
        if case.completed or case.finished_at is not None:
            raise ValidationError("Hồ sơ đã xử lý xong, không cần phiếu xin lỗi")
        if case.due_at is None:
            raise ValidationError("Hồ sơ chưa được tiếp nhận nên chưa có ngày hẹn trả")
        if int(case.sla.get("apologies", 0)) >= self.settings.max_apologies:
            raise SlaViolation(
                f"Hồ sơ đã được hẹn lại {self.settings.max_apologies} lần — không được hẹn lại thêm"
            )
        if not reason.strip():
            raise ValidationError("Phải nêu lý do chậm trễ trong phiếu xin lỗi")
        if new_due <= max(now, case.due_at):
            raise ValidationError("Ngày hẹn mới phải sau ngày hẹn cũ và sau thời điểm hiện tại")
        new_due = due_moment(self.calendar, new_due)
        version = self.procedures.load(session, case.procedure_version_id)
        op = _Operation(self, session, case, version, None, actor)
        old_due = case.due_at
        sla_state = dict(case.sla)
        sla_state["apologies"] = int(sla_state.get("apologies", 0)) + 1
        sla_state["late_by_apology"] = True
        case.sla = sla_state
        case.due_at = new_due
        op.emit(
            "apology_issued",
            payload={
                "form": "Mẫu 04",
                "reason": reason.strip(),
                "unit_at_fault": unit_at_fault,
                "original_due_at": _iso(old_due),
                "new_due_at": _iso(new_due),
            },
        )
        op.notify_applicant(
            f"Hồ sơ {case.code}: cơ quan xin lỗi vì chậm trả kết quả ({reason.strip()}). "
            f"Hẹn trả kết quả mới: {_local_text(new_due)}."
        )
        op.arm_sla_timer("due_sla", new_due)
        op.finish_events_only()
        return case

    # ----------------------------------------------------------------------------- helpers
    def _load(self, case: Case, version: LoadedVersion) -> BpmnWorkflow:
        return load_state(case.state, version.specs, self._script_engine())

    def load_workflow(self, session: Session, case: Case) -> BpmnWorkflow:
        return self._load(case, self.procedures.load(session, case.procedure_version_id))

    def _require_apology_if_late(self, case: Case) -> None:
        if (
            case.due_at is not None
            and case.finished_at is None
            and case.status == 4
            and self.clock.now() > case.due_at
            and int(case.sla.get("apologies", 0)) < self.settings.max_apologies
        ):
            raise SlaViolation(
                "Hồ sơ đã quá hạn: cần lập Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) trước khi "
                "tiếp tục xử lý",
                details={"due_at": _iso(case.due_at)},
            )

    def _next_code(self, session: Session, now: datetime) -> str:
        day = now.astimezone(sla.LOCAL_TZ).strftime("%y%m%d")
        agency = self.settings.agency_code
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(DossierSequence)
            .values(agency=agency, day=day, last=1)
            .on_conflict_do_update(index_elements=["agency", "day"], set_={"last": DossierSequence.last + 1})
            .returning(DossierSequence.last)
        )
        number = int(session.execute(stmt).scalar_one())
        if number > 9999:
            raise ValidationError("Đã hết số thứ tự hồ sơ trong ngày (tối đa 9999)")
        return f"{agency}-{day}-{number:04d}"


def due_moment(calendar: sla.BusinessCalendar, moment: datetime) -> datetime:
    """An appointment as given: kept at a window's close (17:00), else moved to working time."""
    if calendar.next_working_moment(moment - timedelta(seconds=1)) == moment - timedelta(seconds=1):
        return moment.astimezone(UTC)
    return calendar.next_working_moment(moment)


@contextmanager
def spiff_errors() -> Iterator[None]:
    """Turn SpiffWorkflow failures (a bad expression, a sandbox stop) into engine errors; the unit
    of work then rolls back, so the case is unchanged."""
    try:
        yield
    except SpiffWorkflowException as exc:
        stopped = find_sandbox_error(exc)
        if stopped is not None:
            raise stopped from exc
        raise ProcedureError(f"Quy trình gặp lỗi khi chạy: {exc}") from exc


def _system() -> Actor:
    from .users import SYSTEM

    return SYSTEM


def _local_text(value: datetime) -> str:
    return value.astimezone(sla.LOCAL_TZ).strftime("%H:%M ngày %d/%m/%Y")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


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
    validator = Draft202012Validator(schema)
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


def _missing_field(err: Any) -> str | None:
    if err.validator == "required" and isinstance(err.message, str) and err.message.startswith("'"):
        return str(err.message.split("'")[1])
    return None


class _Operation:
    """Collects what one operation did to one case and writes it (state, events, index rows)."""

    def __init__(
        self,
        runtime: CaseRuntime,
        session: Session,
        case: Case,
        version: LoadedVersion,
        workflow: BpmnWorkflow | None,
        actor: Actor,
    ) -> None:
        self.rt = runtime
        self.session = session
        self.case = case
        self.version = version
        self.workflow = workflow
        self.actor = actor
        self.now = runtime.clock.now()
        self.completed_task: tuple[str, str] | None = None
        self._before_done: set[str] = set()
        self._before_ready: set[str] = set()
        if workflow is not None:
            for task in all_tasks(workflow):
                if task.state == TaskState.COMPLETED:
                    self._before_done.add(str(task.id))
                elif task.state == TaskState.READY and task.task_spec.manual:
                    self._before_ready.add(str(task.id))

    # ------------------------------------------------------------------ events
    def emit(
        self,
        kind: str,
        *,
        task_id: str | None = None,
        element_id: str | None = None,
        status_from: int | None = None,
        status_to: int | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        case = self.case
        seq = case.last_seq + 1
        body = dict(payload or {})
        content = audit.event_content(
            case_code=case.code,
            seq=seq,
            at=self.now,
            actor=self.actor.username,
            kind=kind,
            task_id=task_id,
            element_id=element_id,
            status_from=status_from,
            status_to=status_to,
            payload=body,
        )
        digest = audit.chain_hash(case.last_hash, content)
        self.session.add(
            CaseEvent(
                case_id=case.id,
                seq=seq,
                at=self.now,
                actor=self.actor.username,
                kind=kind,
                task_id=task_id,
                element_id=element_id,
                status_from=status_from,
                status_to=status_to,
                payload=body,
                prev_hash=case.last_hash,
                hash=digest,
            )
        )
        case.last_seq = seq
        case.last_hash = digest
        if status_to is not None:
            self._record_status_side_effects(seq, digest, status_from, status_to)

    def _record_status_side_effects(
        self, seq: int, digest: str, status_from: int | None, status_to: int
    ) -> None:
        """Queue what a DVCQG status change causes outside (portal sync, applicant notices, fee
        request) in this same transaction: it is sent only if the change commits (engine.outbox)."""
        meta = self.version.meta
        for message in outbox.status_change_messages(
            case_code=self.case.code,
            seq=seq,
            event_hash=digest,
            at=self.now,
            status_from=status_from,
            status_to=status_to,
            label=STATUS_LABELS.get(status_to, ""),
            procedure_code=str(meta.get("code", "")),
            applicant=self.case.applicant,
            fee=int(meta.get("fee") or 0),
        ):
            outbox.add(self.session, self.case.id, message, self.now)

    def flag(self, name: str) -> None:
        state = dict(self.case.sla)
        flags = list(state.get("flags", []))
        if name not in flags:
            flags.append(name)
        state["flags"] = flags
        self.case.sla = state

    # ------------------------------------------------------------------ settle
    def settle(self) -> None:
        """Derive statuses, work items, timers and SLA effects from the workflow, then store it."""
        assert self.workflow is not None
        workflow = self.workflow
        reached: list[tuple[float, int, Any]] = []
        for order, task in enumerate(all_tasks(workflow)):
            tid = str(task.id)
            if (
                task.state == TaskState.COMPLETED
                and tid not in self._before_done
                and not task.task_spec.manual
            ):
                reached.append((task.last_state_change or 0.0, order, task))
        ready_now = ready_user_tasks(workflow)
        newly_ready = [t for t in ready_now if str(t.id) not in self._before_ready]
        reached.sort(key=lambda item: (item[0], item[1]))
        for _, _, task in reached:
            self._apply_status(task.task_spec.name)
        for task in newly_ready:
            self._apply_status(task.task_spec.name)
        self._sync_work_items(ready_now, newly_ready)
        self._sync_bpmn_timers()
        if workflow.is_completed() and not self.case.completed:
            self.case.completed = True
            if self.case.finished_at is None:
                self.case.finished_at = self.now
            self.emit("case_completed", payload={"status": self.case.status})
            self._drop_sla_timers()
        self.case.state = dump_state(workflow)
        self._flush()

    def finish_events_only(self) -> None:
        self._flush()

    def _flush(self) -> None:
        self.session.flush()
        if after_flush_hook is not None:
            after_flush_hook(self.case.code)

    # ------------------------------------------------------------------ status and SLA
    def _apply_status(self, element_id: str) -> None:
        element = self.version.elements.get(element_id) or {}
        status = element.get("status")
        if status is None or status == self.case.status:
            return
        case = self.case
        old = case.status
        case.status = int(status)
        self.emit(
            "status_changed",
            element_id=element_id,
            status_from=old,
            status_to=case.status,
            payload={"label": STATUS_LABELS.get(case.status, "")},
        )
        if old == 1 and case.channel == sla.ONLINE_CHANNEL and "receipt_decided_at" not in case.sla:
            self._record_receipt_decision()
        if case.status == 2:
            self._start_clock()
        elif case.status in (5, 6):
            self._pause_clock(supplement=case.status == 5)
        elif case.status == 4 and old in (5, 6):
            self._resume_clock(payment=old == 6)
        elif case.status == 1 and old == 5 and case.channel == sla.ONLINE_CHANNEL:
            # Supplemented before acceptance: the desk gets a fresh 8 working hours.
            case.receipt_due_at = sla.receipt_deadline(self.now, self.rt.calendar)
            state = dict(case.sla)
            state.pop("receipt_decided_at", None)
            case.sla = state
            self.arm_sla_timer("receipt_sla", case.receipt_due_at)
        elif case.status == 9:
            self._finish()
        elif case.status == 10:
            case.returned_at = self.now
            if case.finished_at is None:
                self._finish()
            case.completed = True
        if case.status in (3, 8):
            case.finished_at = case.finished_at or self.now
            case.completed = True
            self._drop_sla_timers()

    def _record_receipt_decision(self) -> None:
        case = self.case
        state = dict(case.sla)
        state["receipt_decided_at"] = self.now.isoformat()
        if case.receipt_due_at is not None:
            state["receipt_outcome"] = "late" if self.now > case.receipt_due_at else "on_time"
        case.sla = state
        self.session.execute(
            delete(Timer).where(
                Timer.case_id == case.id, Timer.kind == "receipt_sla", Timer.fired_at.is_(None)
            )
        )

    def _legal(self) -> sla.LegalTime:
        meta = self.version.meta
        cutoff = meta.get("receipt_cutoff")
        return sla.LegalTime(
            amount=float(meta["legal_time"]),
            unit=meta["legal_unit"],
            receipt_cutoff=time.fromisoformat(cutoff) if cutoff else None,
        )

    def _start_clock(self) -> None:
        case = self.case
        case.received_at = self.now
        case.due_at = sla.statutory_due(self.now, self._legal(), self.rt.calendar)
        self.emit("due_set", payload={"reason": "accepted", "due_at": _iso(case.due_at)})
        self.arm_sla_timer("due_sla", case.due_at)

    def _pause_clock(self, *, supplement: bool) -> None:
        """Waiting for the applicant (documents, status 5, or a fee, status 6) does not count."""
        case = self.case
        state = dict(case.sla)
        if case.received_at is not None and case.finished_at is None:
            state["paused_at"] = self.now.isoformat()
            if supplement:
                state["supplements"] = int(state.get("supplements", 0)) + 1
                if state["supplements"] > 1:
                    state["late_766"] = True
            case.sla = state
            self.emit(
                "clock_paused",
                payload={
                    "supplements": int(state.get("supplements", 0)),
                    "waiting_for": ("supplementation" if supplement else "payment"),
                },
            )
            self.session.execute(
                delete(Timer).where(
                    Timer.case_id == case.id, Timer.kind == "due_sla", Timer.fired_at.is_(None)
                )
            )

    def _resume_clock(self, *, payment: bool) -> None:
        case = self.case
        state = dict(case.sla)
        paused = state.pop("paused_at", None)
        if paused is None or case.due_at is None:
            return
        # A fee wait only extends; supplementation follows the procedure's clock mode.
        mode = "extend" if payment else self.version.meta.get("clock_mode", "restart")
        if mode == "extend":
            case.due_at = sla.extend_by_pause(
                case.due_at, datetime.fromisoformat(paused), self.now, self.rt.calendar
            )
        else:
            case.due_at = sla.statutory_due(self.now, self._legal(), self.rt.calendar)
        case.sla = state
        self.emit(
            "due_set",
            payload={
                "reason": f"{'paid' if payment else 'supplemented'}_{mode}",
                "due_at": _iso(case.due_at),
                "paused_at": paused,
            },
        )
        self.arm_sla_timer("due_sla", case.due_at)

    def extend_due(self, answers: Mapping[str, Any]) -> None:
        """Lengthen the statutory time when a step's answer grants it (``motcua:dueExtension``), only
        while the clock runs: a paused or finished case has no running due to extend."""
        case = self.case
        if case.due_at is None or case.finished_at is not None or "paused_at" in case.sla:
            return
        granted = list(case.sla.get("extensions", []))
        for name, days in sla.granted_extensions(
            self.version.meta.get("due_extensions") or (), answers, granted
        ):
            previous = case.due_at
            case.due_at = self.rt.calendar.add_working_days(previous, days)
            granted.append(name)
            case.sla = {**case.sla, "extensions": list(granted)}
            self.emit(
                "due_set",
                payload={
                    "reason": f"extended_{name}",
                    "due_at": _iso(case.due_at),
                    "previous_due_at": _iso(previous),
                    "working_days": days,
                },
            )
            self.arm_sla_timer("due_sla", case.due_at)
            self.notify_applicant(
                f"Hồ sơ {case.code}: thời hạn giải quyết được gia hạn {days:g} ngày làm việc theo quy "
                f"định của thủ tục. Hẹn trả kết quả mới: {_local_text(case.due_at)}."
            )

    def notify_applicant(self, text: str) -> None:
        """E-mail/SMS about the event just emitted, queued in this transaction (engine.outbox)."""
        for message in outbox.appointment_messages(
            case_code=self.case.code,
            seq=self.case.last_seq,
            event_hash=self.case.last_hash,
            at=self.now,
            applicant=self.case.applicant,
            text=text,
        ):
            outbox.add(self.session, self.case.id, message, self.now)

    def _finish(self) -> None:
        case = self.case
        case.finished_at = self.now
        outcome: str | None = None
        if case.due_at is not None:
            outcome = sla.classify(self.now, case.due_at)
            if case.sla.get("late_by_apology"):
                outcome = "late"
        case.outcome = outcome
        self.emit("case_finished", payload={"outcome": outcome, "due_at": _iso(case.due_at)})
        self._drop_sla_timers()

    # ------------------------------------------------------------------ index rows
    def _sync_work_items(self, ready_now: list[Any], newly_ready: list[Any]) -> None:
        ready_ids = {str(t.id) for t in ready_now}
        gone = self._before_ready - ready_ids
        if gone:
            items = self.session.scalars(select(WorkItem).where(WorkItem.task_id.in_(gone)))
            for item in items:
                item.completed_at = self.now
                if self.completed_task and item.task_id == self.completed_task[0]:
                    item.completed_by = self.actor.username
                    item.outcome = sla.classify(self.now, item.due_at) if item.due_at else None
                else:
                    item.cancelled = True
        for task in newly_ready:
            element = self.version.elements.get(task.task_spec.name) or {}
            hours = element.get("hours")
            due = self.rt.calendar.add_working_hours(self.now, float(hours)) if hours else None
            if due is not None and self.case.due_at is not None and self.case.finished_at is None:
                # A step is never due after the appointment the citizen was given.
                due = min(due, self.case.due_at)
            self.session.add(
                WorkItem(
                    case_id=self.case.id,
                    task_id=str(task.id),
                    element_id=task.task_spec.name,
                    name=element.get("name") or task.task_spec.bpmn_name or task.task_spec.name,
                    role=element.get("role"),
                    lane=element.get("lane") or task.task_spec.lane,
                    unit=None,
                    assignee=None,
                    allocated_hours=float(hours) if hours else None,
                    ready_at=self.now,
                    due_at=due,
                    cancelled=False,
                )
            )
            self.emit(
                "task_ready",
                task_id=str(task.id),
                element_id=task.task_spec.name,
                payload={"role": element.get("role"), "due_at": _iso(due)},
            )

    def _sync_bpmn_timers(self) -> None:
        assert self.workflow is not None
        current = {str(task.id): due for task, due in waiting_timers(self.workflow)}
        existing = {
            t.ref: t
            for t in self.session.scalars(
                select(Timer).where(
                    Timer.case_id == self.case.id, Timer.kind == "bpmn", Timer.fired_at.is_(None)
                )
            )
        }
        for ref, timer in existing.items():
            if ref not in current:
                self.session.delete(timer)
        for ref, due in current.items():
            if ref in existing:
                existing[ref].due_at = due
            else:
                self.session.add(Timer(case_id=self.case.id, kind="bpmn", ref=ref, due_at=due))

    def arm_sla_timer(self, kind: str, due: datetime) -> None:
        # Finishing exactly at the deadline is on time, so the check runs just after it.
        due = due + SLA_TIMER_GRACE
        row = self.session.scalar(
            select(Timer).where(Timer.case_id == self.case.id, Timer.kind == kind, Timer.ref == kind)
        )
        if row is None:
            self.session.add(Timer(case_id=self.case.id, kind=kind, ref=kind, due_at=due))
        else:
            row.due_at = due
            row.fired_at = None
            row.lease_until = None

    def _drop_sla_timers(self) -> None:
        self.session.execute(
            delete(Timer).where(
                Timer.case_id == self.case.id,
                Timer.kind.in_(("receipt_sla", "due_sla")),
                Timer.fired_at.is_(None),
            )
        )


def find_case(session: Session, ref: str) -> Case:
    """A case by dossier code or numeric id."""
    case = session.scalar(select(Case).where(Case.code == ref))
    if case is None and ref.isdigit():
        case = session.get(Case, int(ref))
    if case is None:
        raise NotFound(f"Không tìm thấy hồ sơ '{ref}'")
    return case
