"""Login, logout and passwords for staff: argon2 checked by the engine, per-address limits and a
per-account+address backoff, a forced change of any password somebody else set, one-time reset links."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import NotFound, ValidationError

from . import security
from .homes import role_home
from .schema_forms import field_errors
from .security import public, require_actor, requires

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would be a phishing aid."""
    if not target:
        return url_for("public.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("public.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()[:100]
        password = request.form.get("password") or ""
        actor = security.attempt_login(username, password)
        if actor is not None:
            if actor.must_change_password:
                return redirect(url_for("auth.change_password"))
            wanted = request.args.get("next")
            return redirect(_safe_next(wanted) if wanted else role_home(actor))
        error = "Tên đăng nhập hoặc mật khẩu không đúng"
    status = 401 if error else 200
    return render_template(
        "login.html", error=error, username=username, next=request.args.get("next")
    ), status


@bp.post("/logout")
@requires()
def logout() -> ResponseReturnValue:
    security.logout()
    return redirect(url_for("auth.login"))


def _password_pair() -> tuple[str, str | None]:
    """The new password and, when the confirmation differs, the message saying so."""
    new = request.form.get("password") or ""
    if new != (request.form.get("password_confirm") or ""):
        return new, "Mật khẩu nhập lại không khớp"
    return new, None


@bp.route("/account/password", methods=["GET", "POST"])
@requires()
def change_password() -> ResponseReturnValue:
    actor = require_actor()
    message: str | None = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        new, mismatch = _password_pair()
        if mismatch:
            message, errors = mismatch, {"password_confirm": "không khớp"}
        else:
            try:
                security.engine().change_password(
                    actor.username, request.form.get("current_password") or "", new
                )
            except ValidationError as exc:
                message, errors = exc.message, field_errors(exc.details)
            else:
                security.login(security.engine().actor(actor.username))  # a fresh session, the others ended
                flash("Đã đổi mật khẩu; các phiên đăng nhập khác đã kết thúc.", "success")
                return redirect(url_for("public.home"))
    return render_template(
        "account/password.html", forced=actor.must_change_password, message=message, errors=errors
    ), (422 if message else 200)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str) -> ResponseReturnValue:
    """A one-time reset link: choose a new password (then log in with it)."""
    security.rate_limit("lookup")
    eng = security.engine()
    try:
        username = eng.reset_link_user(token[:100])
    except NotFound as exc:
        return render_template("account/reset.html", invalid=exc.message), 404
    message: str | None = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        new, mismatch = _password_pair()
        if mismatch:
            message, errors = mismatch, {"password_confirm": "không khớp"}
        else:
            try:
                eng.redeem_reset_link(token[:100], new)
            except ValidationError as exc:
                message, errors = exc.message, field_errors(exc.details)
            else:
                flash("Đã đặt mật khẩu mới. Vui lòng đăng nhập.", "success")
                return redirect(url_for("auth.login"))
    return render_template("account/reset.html", username=username, message=message, errors=errors), (
        422 if message else 200
    )
