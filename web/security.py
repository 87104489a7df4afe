"""Access control in one place: who is logged in, the ``@requires`` / ``@public`` markers, rate limits.

Every view must carry exactly one marker; a view without one is refused by :func:`guard` (default
deny), so a forgotten decorator fails closed instead of exposing a page. The markers are also what
the route-enumerating security test reads to know which roles each route allows.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, RateLimitItemPerHour, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from werkzeug.exceptions import Forbidden, TooManyRequests, Unauthorized

from engine.access import Action
from engine.domain.vocab import CASE_STAFF, LEADERS
from engine.errors import NotFound
from engine.service import Engine
from engine.users import Actor

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "motcua_access"  # None = public; frozenset() = any logged-in user; else the roles
STAFF = tuple(sorted(str(r) for r in CASE_STAFF))
HEADS = tuple(sorted(str(r) for r in LEADERS))
# What an account whose password someone else set may still do: replace it, or leave.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"auth.change_password", "auth.logout", "api.logout", "accounts_api.change_password", "api.me"}
)


#: Routes of one dossier: the access policy (engine.access) decides for each request, by its unit.
#: Matching the rule (not a list of endpoints) makes a new dossier route checked by default.
DOSSIER_ROUTE = re.compile(r"/(cases|desk/receipt)/<code>(/|$)")


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
    if actor.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        if is_api_request():
            raise Forbidden("Bạn phải đổi mật khẩu trước khi tiếp tục (mật khẩu do người khác đặt)")
        return redirect(url_for("auth.change_password"))
    if allowed and not actor.roles & allowed:
        raise Forbidden("Vai trò của bạn không được phép truy cập chức năng này")
    rule = request.url_rule.rule if request.url_rule is not None else ""
    if DOSSIER_ROUTE.search(rule) and request.view_args:
        action = Action.READ if request.method in ("GET", "HEAD") else Action.CHANGE
        engine().authorize_case(str(request.view_args["code"]), actor, action)
    return None


def login(actor: Actor) -> None:
    """Start a fresh session for ``actor`` (a new session id on login stops session fixation)."""
    session.clear()
    regenerate = getattr(session, "regenerate", None)
    if regenerate is not None:
        regenerate()
    session["user"] = actor.username
    session.permanent = True
    g.actor = actor


def refresh_actor() -> None:
    """Forget the actor loaded for this request (its account just changed)."""
    g.pop("actor", None)


def logout() -> None:
    session.clear()
    g.actor = None


# ------------------------------------------------------------------------------ rate limits


class RateLimits:
    """Moving-window limits per rule and key, plus the login backoff, on the ``limits`` library's storage.

    ``memory://`` suits one process; several web processes point ``MOTCUA_REDIS_URL`` (or
    ``MOTCUA_RATELIMIT_STORAGE``) at Redis so every worker counts in the same buckets.
    """

    def __init__(
        self,
        storage_uri: str,
        rules: dict[str, str],
        *,
        prefix: str = "motcua",
        backoff_free: int = 3,
        backoff_seconds: int = 30,
        backoff_max: int = 3600,
    ) -> None:
        options: dict[str, Any] = {"key_prefix": prefix} if storage_uri.startswith("redis") else {}
        self.storage = storage_from_string(storage_uri, **options)
        self._limiter = MovingWindowRateLimiter(self.storage)
        # Byte quotas count in one counter per window (a moving window would keep one entry per byte).
        self._bytes = FixedWindowRateLimiter(self.storage)
        self.set_upload_quotas(50 * 2**20, 2 * 2**30)
        self._rules: dict[str, RateLimitItem] = {name: parse(text) for name, text in rules.items()}
        self._prefix = prefix
        self._free, self._base, self._max = backoff_free, backoff_seconds, backoff_max

    def set_upload_quotas(self, per_address: int, everyone: int) -> None:
        """Bytes of anonymous uploads allowed per hour from one address and from all addresses."""
        self._upload_address = RateLimitItemPerHour(per_address)
        self._upload_global = RateLimitItemPerHour(everyone)

    def charge_upload(self, address: str, size: int) -> None:
        """Refuse (429) an anonymous upload of ``size`` bytes that would exceed either quota."""
        checks = ((self._upload_address, "upload-bytes", address), (self._upload_global, "upload-bytes", "*"))
        for item, *keys in checks:
            if not self._bytes.test(item, self._prefix, *keys, cost=size):
                raise TooManyRequests(
                    "Đã vượt hạn mức dung lượng tệp tải lên trong một giờ"
                    + (" từ địa chỉ này" if keys[1] != "*" else " của toàn hệ thống")
                    + ". Vui lòng thử lại sau hoặc nộp trực tiếp tại Bộ phận một cửa.",
                    retry_after=item.get_expiry(),
                )
        for item, *keys in checks:
            self._bytes.hit(item, self._prefix, *keys, cost=size)

    def hit(self, rule: str, *keys: str) -> None:
        """Count one attempt under every key; refuse with 429 when any key is over its limit."""
        item = self._rules[rule]
        over = [key for key in keys if not self._limiter.hit(item, self._prefix, rule, key)]
        if over:
            raise TooManyRequests(
                "Bạn đã thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại.",
                retry_after=item.get_expiry(),
            )

    # A wrong password slows down only that account *from that address*: an attacker elsewhere
    # cannot lock the real user out, and each further failure doubles the wait (no captcha).
    def _keys(self, username: str, address: str) -> tuple[str, str]:
        who = f"{username.lower()}|{address}"
        return f"{self._prefix}/login-failures/{who}", f"{self._prefix}/login-wait/{who}"

    def login_wait(self, username: str, address: str) -> None:
        """Refuse (429 with Retry-After) while this account+address is waiting out a backoff."""
        _, wait_key = self._keys(username, address)
        if self.storage.get(wait_key) > 0:
            remaining = max(1, math.ceil(self.storage.get_expiry(wait_key) - time.time()))
            raise TooManyRequests(
                f"Đăng nhập sai nhiều lần từ địa chỉ này. Vui lòng thử lại sau {remaining} giây.",
                retry_after=remaining,
            )

    def login_failed(self, username: str, address: str) -> None:
        failures_key, wait_key = self._keys(username, address)
        failures = self.storage.incr(failures_key, self._max * 2)
        if failures >= self._free:
            delay = min(self._max, self._base * 2 ** (failures - self._free))
            self.storage.incr(wait_key, delay)

    def login_succeeded(self, username: str, address: str) -> None:
        for key in self._keys(username, address):
            self.storage.clear(key)


def rate_limits() -> RateLimits:
    return cast(RateLimits, current_app.extensions["motcua_rate_limits"])


def rate_limit(rule: str, *keys: str) -> None:
    rate_limits().hit(rule, client_ip(), *keys)


def attempt_login(username: str, password: str) -> Actor | None:
    """One login attempt under the per-address limit and the per-account+address backoff."""
    rate_limit("login")
    limits, address = rate_limits(), client_ip()
    limits.login_wait(username, address)
    actor = engine().authenticate(username, password) if username and password else None
    if actor is None:
        if username:
            limits.login_failed(username, address)
        return None
    limits.login_succeeded(username, address)
    login(actor)
    return actor


def client_ip() -> str:
    # Behind trusted proxies (MOTCUA_TRUSTED_PROXIES) ProxyFix has already put the client's address here.
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
        prefix=app.config["RATELIMIT_KEY_PREFIX"],
        backoff_free=int(app.config["LOGIN_BACKOFF_FREE"]),
        backoff_seconds=int(app.config["LOGIN_BACKOFF_SECONDS"]),
    )
    app.extensions["motcua_rate_limits"].set_upload_quotas(
        int(app.config["UPLOAD_BYTES_PER_ADDRESS_HOUR"]), int(app.config["UPLOAD_BYTES_GLOBAL_HOUR"])
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
