"""Withdrawal on the citizen's request: status 7 (asked), then an officer stops processing (status 8).

Two steps because the rules say so: the citizen asks, an officer confirms. Confirming cancels the
workflow, closes the open steps as cancelled and finishes the case; the history keeps both steps.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .cases import CaseRuntime, _Operation
from .errors import Forbidden, ValidationError
from .models import Case
from .statuses import STATUS_LABELS
from .users import Actor

REQUESTED = 7
STOPPED = 8
NOT_WITHDRAWABLE = frozenset({3, 7, 8, 9, 10})
REQUESTERS = frozenset({"citizen", "desk_clerk"})
CONFIRMERS = frozenset({"desk_clerk", "head_of_department", "director"})


def request(runtime: CaseRuntime, session: Session, case: Case, reason: str, actor: Actor) -> Case:
    """Record the citizen's request (made online, or at the desk and entered by the clerk)."""
    if not actor.roles & REQUESTERS:
        raise Forbidden("Chỉ công dân hoặc cán bộ một cửa được ghi nhận yêu cầu rút hồ sơ")
    if case.completed or case.status in NOT_WITHDRAWABLE:
        raise ValidationError(
            f"Hồ sơ đang ở trạng thái “{STATUS_LABELS.get(case.status, case.status)}”, không thể rút"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "Phải nêu lý do rút hồ sơ", details={"fields": [{"field": "reason", "message": "bắt buộc"}]}
        )
    if len(reason) > 2000:
        raise ValidationError(
            "Lý do quá dài", details={"fields": [{"field": "reason", "message": "quá dài"}]}
        )
    version = runtime.procedures.load(session, case.procedure_version_id)
    op = _Operation(runtime, session, case, version, None, actor)
    previous = case.status
    state = dict(case.sla)
    state["withdrawal"] = {"requested_at": op.now.isoformat(), "reason": reason, "previous_status": previous}
    case.sla = state
    case.status = REQUESTED
    op.emit(
        "status_changed",
        status_from=previous,
        status_to=REQUESTED,
        payload={"label": STATUS_LABELS[REQUESTED], "reason": reason},
    )
    op.finish_events_only()
    return case


def confirm(runtime: CaseRuntime, session: Session, case: Case, actor: Actor) -> Case:
    """Stop processing: cancel the workflow and its open steps; the case ends with status 8."""
    if not actor.roles & CONFIRMERS:
        raise Forbidden("Chỉ cán bộ một cửa hoặc lãnh đạo được xác nhận dừng xử lý hồ sơ")
    if case.status != REQUESTED:
        raise ValidationError("Hồ sơ chưa có yêu cầu rút hồ sơ")
    version = runtime.procedures.load(session, case.procedure_version_id)
    workflow = runtime.load_workflow(session, case)
    op = _Operation(runtime, session, case, version, workflow, actor)
    workflow.cancel()
    case.status = STOPPED
    case.finished_at = case.finished_at or op.now
    case.completed = True
    op.emit(
        "status_changed",
        status_from=REQUESTED,
        status_to=STOPPED,
        payload={"label": STATUS_LABELS[STOPPED], "reason": "withdrawn"},
    )
    op.settle()  # closes the open steps as cancelled, drops BPMN timers, stores the cancelled state
    op._drop_sla_timers()
    return case
