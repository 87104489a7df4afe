"""Access control in one place: who is logged in, the ``@requires`` / ``@public`` markers, rate limits.

Every view must carry exactly one marker; a view without one is refused by :func:`guard` (default
deny), so a forgotten decorator fails closed instead of exposing a page. The markers are also what
the route-enumerating security test reads to know which roles each route allows.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, abort, after_this_request, current_app, g, redirect, request, session, url_for
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
        try:
            engine().authorize_case(str(request.view_args["code"]), actor, action)
        except NotFound:
            return None  # the view answers an unknown dossier itself, in its own format
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
        account_free: int = 10,
        account_seconds: int = 30,
        account_max: int = 900,
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
        self._account_free, self._account_base, self._account_max = account_free, account_seconds, account_max

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

    # Guessing one account from many addresses (a botnet) escapes the per-address backoff, so failures
    # are also counted per account, from everywhere, for a day. Past ``account_free`` of them the
    # account has its own doubling wait (at most ``account_max``), but only for attempts from a device
    # or an address that never logged into it: the owner, on a device holding its device cookie or from
    # an address it logged in from before, is not subject to it. So the attackers, who cannot have
    # either, share one slow queue, and cannot lock the owner out. What this costs: the owner on a new
    # device during an attack waits like the attackers do (a delay, never a lock; no captcha).
    def _account_keys(self, username: str) -> tuple[str, str]:
        who = username.lower()
        return f"{self._prefix}/login-account-failures/{who}", f"{self._prefix}/login-account-wait/{who}"

    def _known_key(self, username: str, address: str) -> str:
        return f"{self._prefix}/login-known/{username.lower()}|{address}"

    def _remaining(self, key: str) -> int | None:
        if self.storage.get(key) <= 0:
            return None
        return max(1, math.ceil(self.storage.get_expiry(key) - time.time()))

    def login_wait(self, username: str, address: str, *, known_device: bool = False) -> None:
        """Refuse (429 with Retry-After) while this account+address is waiting out a backoff, or the
        account is, for a device and address that never logged into it."""
        _, wait_key = self._keys(username, address)
        remaining = self._remaining(wait_key)
        if remaining is not None:
            raise TooManyRequests(
                f"Đăng nhập sai nhiều lần từ địa chỉ này. Vui lòng thử lại sau {remaining} giây.",
                retry_after=remaining,
            )
        if known_device or self.storage.get(self._known_key(username, address)) > 0:
            return
        remaining = self._remaining(self._account_keys(username)[1])
        if remaining is not None:
            raise TooManyRequests(
                "Tài khoản này vừa bị đăng nhập sai nhiều lần từ nhiều nơi. Vui lòng thử lại sau "
                f"{remaining} giây, hoặc đăng nhập từ thiết bị hay mạng bạn đã từng đăng nhập.",
                retry_after=remaining,
            )

    def login_failed(self, username: str, address: str) -> None:
        failures_key, wait_key = self._keys(username, address)
        failures = self.storage.incr(failures_key, self._max * 2)
        if failures >= self._free:
            delay = min(self._max, self._base * 2 ** (failures - self._free))
            self.storage.incr(wait_key, delay)
        account_failures_key, account_wait_key = self._account_keys(username)
        failures = self.storage.incr(account_failures_key, 24 * 3600)
        if failures >= self._account_free:
            exponent = min(failures - self._account_free, 30)
            self.storage.incr(account_wait_key, min(self._account_max, self._account_base * 2**exponent))

    def login_succeeded(self, username: str, address: str) -> None:
        """Forget this address's failures and remember the address as the owner's (30 days). The
        account's own count stays: a login by the owner does not hand the attackers a fresh budget."""
        for key in self._keys(username, address):
            self.storage.clear(key)
        known = self._known_key(username, address)
        self.storage.clear(known)
        self.storage.incr(known, 30 * 24 * 3600)


def rate_limits() -> RateLimits:
    return cast(RateLimits, current_app.extensions["motcua_rate_limits"])


def rate_limit(rule: str, *keys: str) -> None:
    rate_limits().hit(rule, client_ip(), *keys)


def attempt_login(username: str, password: str) -> Actor | None:
    """One login attempt under the per-address limit, the per-account+address backoff and the
    per-account wait that devices and addresses the owner used are exempt from."""
    rate_limit("login")
    limits, address = rate_limits(), client_ip()
    limits.login_wait(username, address, known_device=known_device(username))
    actor = engine().authenticate(username, password) if username and password else None
    if actor is None:
        if username:
            limits.login_failed(username, address)
        return None
    limits.login_succeeded(username, address)
    remember_device(actor.username)
    login(actor)
    return actor


# A device cookie (OWASP "slow down online guessing attacks with device cookies"): after a successful
# login the browser keeps a signed token naming the account; it proves nothing about who is typing (the
# password does that) and only exempts that browser from the account-wide wait above.
DEVICE_COOKIE = "motcua_device"
DEVICE_TOKENS_KEPT = 5


def _device_signature(username: str, nonce: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"device:{username.lower()}:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def _device_tokens() -> list[tuple[str, str, str]]:
    tokens = []
    for token in (request.cookies.get(DEVICE_COOKIE) or "").split("~")[:DEVICE_TOKENS_KEPT]:
        parts = token.split(":")
        if len(parts) == 3:
            tokens.append((parts[0], parts[1], parts[2]))
    return tokens


def known_device(username: str) -> bool:
    """Whether this browser holds a valid device token of ``username`` (it logged in here before)."""
    return any(
        user == username.lower() and hmac.compare_digest(signature, _device_signature(user, nonce))
        for user, nonce, signature in _device_tokens()
    )


def remember_device(username: str) -> None:
    """Give this browser a device token of ``username`` (kept for 180 days, up to 5 accounts)."""
    user, nonce = username.lower(), secrets.token_hex(8)
    kept = [t for t in _device_tokens() if t[0] != user][: DEVICE_TOKENS_KEPT - 1]
    value = "~".join(":".join(t) for t in [(user, nonce, _device_signature(user, nonce)), *kept])

    @after_this_request
    def set_cookie(response: Any) -> Any:
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=180 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
        return response


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
        account_free=int(app.config["LOGIN_ACCOUNT_FREE"]),
        account_seconds=int(app.config["LOGIN_ACCOUNT_SECONDS"]),
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
