"""Complaints and feedback pages: the citizen's form, lookup and rating, the published answers, and
the staff board and item page (assign, answer, publish). Secrets travel only in POST bodies."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from engine import feedback
from engine.errors import MotcuaError, NotFound, ValidationError

from .schema_forms import field_errors
from .security import HEADS, STAFF, engine, public, rate_limit, require_actor, requires

bp = Blueprint("feedback", __name__)
JUST_FILED = "just_filed_feedback"
READERS = (*STAFF, "auditor", "admin")


def _form_payload() -> dict[str, object]:
    form = request.form
    anonymous = form.get("anonymous") == "1"
    payload: dict[str, object] = {
        "kind": form.get("kind") if form.get("kind") in feedback.KINDS else "complaint",
        "content": (form.get("content") or "")[:5000],
        "anonymous": anonymous,
    }
    for key, size in (
        ("case_code", 80),
        ("case_secret", 64),
        ("procedure_id", 100),
        ("name", 300),
        ("contact", 200),
    ):
        value = (form.get(key) or "").strip()[:size]
        if value:
            payload[key] = value
    return payload


@bp.route("/public/feedback", methods=["GET", "POST"])
@public
def new() -> ResponseReturnValue:
    """Gửi phản ánh, kiến nghị: về một hồ sơ (mã + mã tra cứu), một thủ tục, hoặc chung; có thể ẩn danh."""
    eng = engine()
    message = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        rate_limit("submit")
        try:
            view = feedback.file_feedback(eng, _form_payload())
        except MotcuaError as exc:
            message, errors = exc.message, field_errors(exc.details)
            status = exc.http_status
        else:
            session[JUST_FILED] = {"code": view.code, "secret": view.secret}
            return redirect(url_for("feedback.filed"))
    else:
        status = 200
    return (
        render_template(
            "feedback/new.html",
            procedures=eng.list_procedures(),
            kinds=feedback.KINDS,
            form=request.form,
            message=message,
            errors=errors,
            answers=feedback.published_feedback(eng, limit=10),
        ),
        status,
    )


@bp.get("/public/feedback/filed")
@public
def filed() -> ResponseReturnValue:
    shown = session.pop(JUST_FILED, None)
    if not shown:
        return redirect(url_for("feedback.lookup"))
    item = feedback.feedback_for_citizen(engine(), shown["code"], shown["secret"])
    return render_template("feedback/filed.html", item=item, secret=shown["secret"])


def _status_page(code: str, secret: str, status: int = 200, **extra: object) -> ResponseReturnValue:
    item = feedback.feedback_for_citizen(engine(), code, secret)
    return render_template(
        "feedback/status.html", item=item, secret=secret, ratings=feedback.RATINGS, **extra
    ), status


@bp.route("/public/feedback/lookup", methods=["GET", "POST"])
@public
def lookup() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("feedback/lookup.html")
    rate_limit("lookup")
    code = (request.form.get("code") or "").strip()[:30]
    secret = (request.form.get("secret") or "").strip()[:64]
    try:
        return _status_page(code, secret)
    except NotFound as exc:
        return render_template("feedback/lookup.html", error=exc.message, code=code), 404


@bp.post("/public/feedback/rate")
@public
def rate() -> ResponseReturnValue:
    rate_limit("lookup")
    code = (request.form.get("code") or "").strip()[:30]
    secret = (request.form.get("secret") or "").strip()[:64]
    raw = request.form.get("score") or ""
    try:
        feedback.rate_feedback(engine(), code, secret, int(raw) if raw.isdigit() and len(raw) < 3 else 0)
    except NotFound as exc:
        return render_template("feedback/lookup.html", error=exc.message, code=code), 404
    except MotcuaError as exc:
        return _status_page(code, secret, exc.http_status, message=exc.message)
    return _status_page(code, secret, notice="Cảm ơn bạn đã đánh giá câu trả lời!")


@bp.get("/public/feedback/answers")
@public
def answers() -> ResponseReturnValue:
    return render_template("feedback/answers.html", answers=feedback.published_feedback(engine(), limit=100))


# ------------------------------------------------------------------------------ staff


@bp.get("/feedback")
@requires(*READERS)
def board() -> ResponseReturnValue:
    show_all = request.args.get("state") == "all"
    rows = feedback.feedback_board(engine(), require_actor(), open_only=not show_all)
    return render_template("feedback/board.html", rows=rows, show_all=show_all)


def _item_page(code: str, status: int = 200, **extra: object) -> ResponseReturnValue:
    eng = engine()
    item, log = feedback.get_feedback(eng, code, require_actor())
    handlers = sorted(
        {
            (u, name)
            for role in ("specialist", "desk_clerk", "head_of_department")
            for u, name in eng.users_with_role(role)
        }
    )
    return render_template("feedback/item.html", item=item, log=log, handlers=handlers, **extra), status


@bp.get("/feedback/<code>")
@requires(*READERS)
def item(code: str) -> ResponseReturnValue:
    return _item_page(code)


@bp.post("/feedback/<code>/assign")
@requires(*HEADS, "admin")
def assign(code: str) -> ResponseReturnValue:
    try:
        feedback.assign_feedback(engine(), code, (request.form.get("username") or "")[:100], require_actor())
    except (ValidationError, MotcuaError) as exc:
        if isinstance(exc, NotFound):
            raise
        return _item_page(code, exc.http_status, message=exc.message)
    flash("Đã phân công xử lý.", "success")
    return redirect(url_for("feedback.item", code=code))


@bp.post("/feedback/<code>/answer")
@requires(*STAFF, "admin")
def answer(code: str) -> ResponseReturnValue:
    try:
        feedback.answer_feedback(engine(), code, (request.form.get("answer") or "")[:10000], require_actor())
    except MotcuaError as exc:
        if isinstance(exc, NotFound):
            raise
        return _item_page(code, exc.http_status, message=exc.message)
    flash("Đã ghi câu trả lời; cần công khai trong thời hạn.", "success")
    return redirect(url_for("feedback.item", code=code))


@bp.post("/feedback/<code>/publish")
@requires(*HEADS, "admin")
def publish(code: str) -> ResponseReturnValue:
    try:
        feedback.publish_feedback(engine(), code, require_actor())
    except MotcuaError as exc:
        if isinstance(exc, NotFound):
            raise
        return _item_page(code, exc.http_status, message=exc.message)
    flash("Đã công khai kết quả trả lời.", "success")
    return redirect(url_for("feedback.item", code=code))
