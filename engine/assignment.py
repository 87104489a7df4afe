"""Who works on an open step: claim, release, reassign, and the checks made before completing it.

A claim is advisory for reading (everyone with the role still sees the step in "my unit's tasks")
but binding for completing: only the assignee may complete a claimed step, so two people do not
work on the same dossier at once. Each change is an event in the case's hash chain (Mẫu 05 and the
audit both need to know who held the dossier).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import access
from .access import Routing
from .cases import CaseRuntime
from .domain.vocab import EventKind, Status
from .errors import ConflictError, Forbidden, NotFound, ValidationError
from .models import Case, User, WorkItem
from .users import ROLES, Actor, to_actor


def open_item(session: Session, case: Case | None, task_ref: str) -> WorkItem:
    """The open work item with this task id (or, within ``case``, this element id)."""
    item = session.scalar(select(WorkItem).where(WorkItem.task_id == task_ref))
    if item is None and case is not None:
        candidates = list(
            session.scalars(
                select(WorkItem).where(
                    WorkItem.case_id == case.id,
                    WorkItem.element_id == task_ref,
                    WorkItem.completed_at.is_(None),
                )
            )
        )
        item = candidates[0] if len(candidates) == 1 else None
    if item is None or (case is not None and item.case_id != case.id):
        raise NotFound(f"Không tìm thấy công việc '{task_ref}'")
    if item.completed_at is not None:
        raise ConflictError(f"Công việc '{item.name}' đã được hoàn thành hoặc không còn mở")
    return item


def _emit(
    runtime: CaseRuntime, session: Session, item: WorkItem, actor: Actor, kind: EventKind, **payload: Any
) -> None:
    """Record who holds the step; the work item follows from the case's new state."""
    case = session.get(Case, item.case_id)
    if case is None:
        raise NotFound("Không tìm thấy hồ sơ của công việc")
    runtime.record(session, case, actor, kind, payload, task_id=item.task_id)


def routing(item: WorkItem) -> Routing:
    return Routing(item.role, item.unit)


def _require(decision: access.Decision) -> None:
    if not decision:
        raise Forbidden(decision.reason)


def claim(runtime: CaseRuntime, session: Session, task_id: str, actor: Actor) -> WorkItem:
    """Take an open step for oneself; refused if someone else already holds it."""
    item = open_item(session, None, task_id)
    if not actor.has_role(item.role):
        raise Forbidden(
            f"Bạn không có vai trò '{ROLES.get(item.role or '', item.role)}' để nhận công việc này"
        )
    _require(access.step_decision(actor, routing(item)))
    if item.assignee == actor.username:
        return item
    if item.assignee is not None:
        raise ConflictError(f"Công việc đã được '{item.assignee}' nhận xử lý")
    _emit(runtime, session, item, actor, EventKind.TASK_CLAIMED, assignee=actor.username)
    return item


def release(runtime: CaseRuntime, session: Session, task_id: str, actor: Actor) -> WorkItem:
    """Give a claimed step back to the unit's pool (its holder, or a head, may do so)."""
    item = open_item(session, None, task_id)
    _require(access.release_decision(actor, routing(item), item.assignee))
    if item.assignee is None:
        return item
    _emit(runtime, session, item, actor, EventKind.TASK_RELEASED, previous=item.assignee)
    return item


def reassign(runtime: CaseRuntime, session: Session, task_id: str, username: str, actor: Actor) -> WorkItem:
    """A head hands a step to a named colleague who holds the step's role."""
    item = open_item(session, None, task_id)
    _require(access.reassign_decision(actor, routing(item)))  # before saying whether the user exists
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise ValidationError(
            f"Không tìm thấy người dùng '{username}'",
            details={"fields": [{"field": "username", "message": "không tồn tại"}]},
        )
    target = to_actor(user)
    _require(access.reassign_decision(actor, routing(item), target))
    if not target.has_role(item.role):
        raise ValidationError(
            f"'{target.full_name}' không có vai trò '{ROLES.get(item.role or '', item.role)}'",
            details={"fields": [{"field": "username", "message": "không có vai trò phù hợp"}]},
        )
    _emit(
        runtime,
        session,
        item,
        actor,
        EventKind.TASK_REASSIGNED,
        previous=item.assignee,
        assignee=target.username,
    )
    return item


def users_with_role(session: Session, role: str, unit: str | None = None) -> list[tuple[str, str]]:
    """(username, full name) of the active users holding ``role`` (in ``unit`` when given)."""
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.full_name))
    return [
        (u.username, u.full_name)
        for u in users
        if role in u.roles.split(",") and (unit is None or u.unit == unit)
    ]


def check_may_complete(
    session: Session,
    case: Case,
    item: WorkItem,
    element: Mapping[str, Any],
    documents: list[Mapping[str, Any]],
    data: Mapping[str, Any],
    actor: Actor,
) -> None:
    """Checks beyond the form schema: the claim, and the completeness of a dossier being accepted.

    The receipt rule: a dossier may be accepted only when every required document is there;
    otherwise the desk must ask for supplementation (once, listing everything).
    """
    if case.status == Status.WITHDRAWAL_REQUESTED:
        raise ConflictError("Công dân đã yêu cầu rút hồ sơ: hãy xác nhận dừng xử lý trước khi làm tiếp")
    if not access.same_unit(actor, item.unit):
        raise Forbidden(access.unit_refusal(item.unit))
    if item.assignee is not None and item.assignee != actor.username:
        raise Forbidden(
            f"Công việc đang do '{item.assignee}' xử lý; hãy nhận lại công việc trước khi hoàn thành"
        )
    if element.get("kind") == "receipt" and data.get("decision") == "accept":
        checked = data.get("checked_documents") or []
        checked_set = set(checked) if isinstance(checked, list) else set()
        missing = [d for d in documents if d.get("required", True) and d.get("code") not in checked_set]
        if missing:
            names = "; ".join(f"{d['code']} {d.get('name', '')}" for d in missing)
            raise ValidationError(
                f"Hồ sơ chưa đầy đủ, chưa thể tiếp nhận — thiếu: {names}. Hãy yêu cầu bổ sung (Mẫu 02).",
                details={
                    "fields": [
                        {
                            "field": "checked_documents",
                            "title": "Thành phần hồ sơ đã kiểm tra",
                            "message": "thiếu thành phần bắt buộc",
                        }
                    ],
                    "missing": [d["code"] for d in missing],
                },
            )
