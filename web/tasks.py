"""The department tasklist: my tasks / my unit's tasks, filters, SLA colours; claim, release, reassign."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.queries import TaskFilter

from .security import HEADS, STAFF, engine, require_actor, requires

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


def filters_from_args() -> TaskFilter:
    """Query-string filters; unknown or malformed values are ignored rather than failing the page."""
    args = request.args
    scope = args.get("scope") if args.get("scope") in ("mine", "unit") else "unit"
    status = args.get("status", "")
    due = args.get("due") if args.get("due") in ("overdue", "today", "week") else None
    return TaskFilter(
        scope=scope,  # type: ignore[arg-type]
        procedure_id=args.get("procedure") or None,
        status=int(status) if status.isdigit() else None,
        due=due,  # type: ignore[arg-type]
    )


@bp.get("/")
@requires(*STAFF)
def tasklist() -> ResponseReturnValue:
    eng = engine()
    filters = filters_from_args()
    return render_template(
        "tasks/list.html",
        rows=eng.tasklist(require_actor(), filters),
        filters=filters,
        procedures=eng.list_procedures(),
        now=eng.clock.now(),
    )


def _back(code: str) -> ResponseReturnValue:
    target = request.form.get("next")
    if target == "case":
        return redirect(url_for("cases.view", code=code))
    return redirect(url_for("tasks.tasklist", scope=request.form.get("scope") or "unit"))


@bp.post("/<task_id>/claim")
@requires(*STAFF)
def claim(task_id: str) -> ResponseReturnValue:
    case = engine().claim_task(task_id, require_actor())
    flash(f"Bạn đã nhận xử lý hồ sơ {case.code}.", "success")
    return _back(case.code)


@bp.post("/<task_id>/release")
@requires(*STAFF)
def release(task_id: str) -> ResponseReturnValue:
    case = engine().release_task(task_id, require_actor())
    flash(f"Đã trả lại công việc của hồ sơ {case.code} cho đơn vị.", "success")
    return _back(case.code)


@bp.post("/<task_id>/reassign")
@requires(*HEADS)
def reassign(task_id: str) -> ResponseReturnValue:
    username = (request.form.get("username") or "").strip()
    case = engine().reassign_task(task_id, username, require_actor())
    flash(f"Đã phân công hồ sơ {case.code} cho {username}.", "success")
    return _back(case.code)
