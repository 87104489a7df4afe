"""Login and logout for staff (argon2 passwords checked by the engine), with rate limiting."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from . import security
from .homes import role_home
from .security import public, rate_limit, requires

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
        rate_limit("login", f"user:{username.lower()}")
        actor = security.engine().authenticate(username, password) if username and password else None
        if actor is not None:
            security.login(actor)
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
