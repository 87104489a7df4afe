"""Access control in one place: who is logged in, the ``@requires`` / ``@public`` markers, rate limits.

Every view must carry exactly one marker; a view without one is refused by :func:`guard` (default
deny), so a forgotten decorator fails closed instead of exposing a page. The markers are also what
the route-enumerating security test reads to know which roles each route allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import Forbidden, TooManyRequests, Unauthorized

from engine.errors import NotFound
from engine.service import Engine
from engine.users import Actor

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "motcua_access"  # None = public; frozenset() = any logged-in user; else the roles
STAFF = ("desk_clerk", "specialist", "head_of_department", "director", "other_department")
HEADS = ("head_of_department", "director")


def engine() -> Engine:
    return cast(Engine, current_app.extensions["motcua_engine"])


def current_actor() -> Actor | None:
    """The logged-in user of this request (loaded once per request from the session)."""
    if "actor" not in g:
        username = session.get("user")
        actor: Actor | None = None
        if isinstance(username, str):
            try:
                actor = engine().actor(username)
            except NotFound:  # account removed or deactivated: the session is worthless
                session.clear()
        g.actor = actor
    return cast(Actor | None, g.actor)


def require_actor() -> Actor:
    actor = current_actor()
    if actor is None:
        raise Unauthorized()
    return actor


def requires(*roles: str) -> Callable[[F], F]:
    """Allow logged-in users holding any of ``roles`` (no roles = any logged-in user)."""

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, frozenset(roles))
        return view

    return mark


def public(view: F) -> F:
    """Allow everyone, including anonymous citizens."""
    setattr(view, ACCESS_ATTR, None)
    return view


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def guard() -> ResponseReturnValue | None:
    """``before_request``: enforce the marker of the matched view (401/302 anonymous, 403 wrong role)."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or not hasattr(view, ACCESS_ATTR):
        raise Forbidden("Trang chưa khai báo quyền truy cập")
    allowed = getattr(view, ACCESS_ATTR)
    if allowed is None:
        return None
    actor = current_actor()
    if actor is None:
        if is_api_request():
            raise Unauthorized()
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if allowed and not actor.roles & allowed:
        raise Forbidden("Vai trò của bạn không được phép truy cập chức năng này")
    return None


def login(actor: Actor) -> None:
    """Start a fresh session for ``actor`` (a new session on login stops session fixation)."""
    session.clear()
    session["user"] = actor.username
    session.permanent = True
    g.actor = actor


def logout() -> None:
    session.clear()
    g.actor = None


# ------------------------------------------------------------------------------ rate limits


class RateLimits:
    """Moving-window limits per rule and key (IP, username), on the ``limits`` library's storage.

    ``memory://`` suits one process; a multi-process deployment points ``RATELIMIT_STORAGE_URI`` at
    Redis or Memcached so all workers share the counters.
    """

    def __init__(self, storage_uri: str, rules: dict[str, str]) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._rules: dict[str, RateLimitItem] = {name: parse(text) for name, text in rules.items()}

    def hit(self, rule: str, *keys: str) -> None:
        """Count one attempt under every key; refuse with 429 when any key is over its limit."""
        item = self._rules[rule]
        over = [key for key in keys if not self._limiter.hit(item, rule, key)]
        if over:
            raise TooManyRequests(
                "Bạn đã thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại.",
                retry_after=item.get_expiry(),
            )


def rate_limit(rule: str, *keys: str) -> None:
    limits = cast(RateLimits, current_app.extensions["motcua_rate_limits"])
    limits.hit(rule, client_ip(), *keys)


def client_ip() -> str:
    # Behind a reverse proxy, configure werkzeug's ProxyFix so remote_addr is the client's address.
    return request.remote_addr or "unknown"


def reject_unreadable_form() -> None:
    """A multipart part whose name werkzeug cannot read (e.g. a bare carriage return inside the
    quotes) reaches Flask named ``None``, which Flask-WTF's token lookup (and any view) would trip
    over: refuse the request as malformed."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and (
        None in request.form or None in request.files
    ):
        abort(400, description="Biểu mẫu gửi lên có tên trường không đọc được")


def init_security(app: Flask) -> None:
    app.extensions["motcua_rate_limits"] = RateLimits(
        app.config["RATELIMIT_STORAGE_URI"],
        {
            "login": app.config["LOGIN_RATE_LIMIT"],
            "lookup": app.config["LOOKUP_RATE_LIMIT"],
            "submit": app.config["SUBMIT_RATE_LIMIT"],
        },
    )
    app.before_request(guard)

    @app.context_processor
    def inject_actor() -> dict[str, Any]:
        def can(*roles: str) -> bool:
            actor = current_actor()
            return actor is not None and bool(actor.roles & set(roles))

        return {"actor": current_actor(), "can": can}

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        if current_actor() is not None or request.path.startswith(("/public/", "/api/")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
