"""Withdrawal on the citizen's request: status 7 (asked), then an officer stops processing (status 8).

Two steps because the rules say so: the citizen asks, an officer confirms. Confirming cancels the
workflow, closes the open steps as cancelled and finishes the case; the history keeps both steps.
This module holds who may do each and when; the case rules (``engine.domain.rules``) do the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from .cases import CaseRuntime
from .domain.vocab import (
    NOT_WITHDRAWABLE,
    WITHDRAWAL_CONFIRMERS,
    WITHDRAWAL_REQUESTERS,
    EventKind,
    Status,
    label,
)
from .errors import Forbidden, ValidationError
from .models import Case, CaseEvent
from .users import CITIZEN_ACTOR, Actor

REQUESTED = Status.WITHDRAWAL_REQUESTED
STOPPED = Status.STOPPED


def request(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    reason: str,
    actor: Actor,
    paper: Callable[[], Mapping[str, Any]] | None = None,
) -> Case:
    """Record the citizen's request (made online, or at the desk and entered by the clerk).

    At the desk the applicant signs a paper request: ``paper`` stores its scan (after every other
    check, in the same transaction) and returns what the event records of it (document id, SHA-256),
    so the officer who confirms sees what the applicant signed.
    """
    if not actor.roles & WITHDRAWAL_REQUESTERS:
        raise Forbidden("Chỉ công dân hoặc cán bộ một cửa được ghi nhận yêu cầu rút hồ sơ")
    if case.completed or case.status in NOT_WITHDRAWABLE:
        raise ValidationError(f"Hồ sơ đang ở trạng thái “{label(case.status) or case.status}”, không thể rút")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "Phải nêu lý do rút hồ sơ", details={"fields": [{"field": "reason", "message": "bắt buộc"}]}
        )
    if len(reason) > 2000:
        raise ValidationError(
            "Lý do quá dài", details={"fields": [{"field": "reason", "message": "quá dài"}]}
        )
    if actor.username == CITIZEN_ACTOR:
        return runtime.request_withdrawal(session, case, reason, actor)
    if paper is None:
        raise ValidationError(
            "Phải đính kèm bản quét đơn rút hồ sơ có chữ ký của người nộp hồ sơ",
            details={"fields": [{"field": "paper", "message": "bắt buộc"}]},
        )
    return runtime.request_withdrawal(session, case, reason, actor, paper())


def confirm(runtime: CaseRuntime, session: Session, case: Case, actor: Actor) -> Case:
    """Stop processing: cancel the workflow and its open steps; the case ends with status 8."""
    if not actor.roles & WITHDRAWAL_CONFIRMERS:
        raise Forbidden("Chỉ cán bộ một cửa hoặc lãnh đạo được xác nhận dừng xử lý hồ sơ")
    if case.status != REQUESTED:
        raise ValidationError("Hồ sơ chưa có yêu cầu rút hồ sơ")
    requester = _requester(session, case)
    if requester is not None and requester != CITIZEN_ACTOR and requester == actor.username:
        # A request entered at the desk is confirmed by a second officer: one clerk alone cannot
        # stop a dossier the applicant never asked to withdraw online.
        raise Forbidden(
            "Yêu cầu rút hồ sơ do chính cán bộ này ghi nhận: cần một cán bộ khác xác nhận dừng xử lý"
        )
    return runtime.stop(session, case, actor)


def _requester(session: Session, case: Case) -> str | None:
    """Who recorded the pending withdrawal request (format 1 recorded it as the status change to 7)."""
    return session.scalar(
        select(CaseEvent.actor)
        .where(
            CaseEvent.case_id == case.id,
            or_(
                CaseEvent.kind == EventKind.WITHDRAWAL_REQUESTED,
                and_(CaseEvent.kind == EventKind.STATUS_CHANGED, CaseEvent.status_to == REQUESTED),
            ),
        )
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
