"""Flask application factory: the web layer is a thin adapter over ``engine.service.Engine``.

Each request is parsed, handed to one engine method, and rendered; access control, CSRF and error
answers are set up once here and apply to every blueprint.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from datetime import timedelta
from typing import Any

from flask import Flask, Request
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.service import Engine

from . import (
    accounts_api,
    admin,
    api,
    auditor,
    auth,
    board,
    cases,
    citizen_auth,
    designer,
    desk,
    digital,
    digital_api,
    feedback_pages,
    public,
    tasks,
)
from .errors import register_error_handlers
from .formatting import register_filters
from .security import init_security, reject_unreadable_form
from .sessions import ServerSessionInterface, raise_session_error


def _nfc(text: str) -> str:
    # A multipart part whose name werkzeug cannot read arrives as None: left for the guards to refuse.
    return unicodedata.normalize("NFC", text) if isinstance(text, str) else text


class NfcRequest(Request):
    """Form fields in NFC whatever the keyboard sent: decomposed Vietnamese ("Nguyễn" typed as
    "Nguyễn") would be stored as a different string and never found by a search."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form:
            self.__dict__["form"] = ImmutableMultiDict(
                [(_nfc(k), _nfc(v)) for k, v in form.items(multi=True)]
            )


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def default_config() -> dict[str, Any]:
    """Settings from the environment; ``config`` passed to :func:`create_app` overrides them."""
    return {
        # A random key logs everyone out on restart: set MOTCUA_SECRET_KEY in production.
        "SECRET_KEY": os.environ.get("MOTCUA_SECRET_KEY") or secrets.token_hex(32),
        "SESSION_COOKIE_NAME": "motcua_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies need HTTPS; on by MOTCUA_SECURE_COOKIES=1 behind TLS.
        "SESSION_COOKIE_SECURE": _env_flag("MOTCUA_SECURE_COOKIES", False),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=10),  # the store's absolute limit decides
        "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 10 * 3600,
        "WTF_CSRF_SSL_STRICT": True,
        # Shared counters across web processes: Redis when configured, else this process's memory.
        "RATELIMIT_STORAGE_URI": os.environ.get("MOTCUA_RATELIMIT_STORAGE")
        or os.environ.get("MOTCUA_REDIS_URL")
        or "memory://",
        "RATELIMIT_KEY_PREFIX": os.environ.get("MOTCUA_REDIS_PREFIX", "motcua"),
        # Wrong passwords free per account+address before the doubling wait starts, and its first step.
        "LOGIN_BACKOFF_FREE": int(os.environ.get("MOTCUA_LOGIN_BACKOFF_FREE", "3")),
        "LOGIN_BACKOFF_SECONDS": int(os.environ.get("MOTCUA_LOGIN_BACKOFF_SECONDS", "30")),
        # Wrong passwords for one account from everywhere (a day) before its doubling wait starts for
        # devices and addresses that never logged into it (see web.security.RateLimits), its first step.
        "LOGIN_ACCOUNT_FREE": int(os.environ.get("MOTCUA_LOGIN_ACCOUNT_FREE", "10")),
        "LOGIN_ACCOUNT_SECONDS": int(os.environ.get("MOTCUA_LOGIN_ACCOUNT_SECONDS", "30")),
        # How many reverse proxies in front of us set X-Forwarded-For/-Proto; 0 trusts no header.
        "TRUSTED_PROXIES": int(os.environ.get("MOTCUA_TRUSTED_PROXIES", "0")),
        "LOGIN_RATE_LIMIT": os.environ.get("MOTCUA_LOGIN_RATE_LIMIT", "10 per minute"),
        "LOOKUP_RATE_LIMIT": os.environ.get("MOTCUA_LOOKUP_RATE_LIMIT", "20 per minute"),
        "SUBMIT_RATE_LIMIT": os.environ.get("MOTCUA_SUBMIT_RATE_LIMIT", "30 per hour"),
        # Anonymous upload bytes per hour: from one address, and from everyone together.
        "UPLOAD_BYTES_PER_ADDRESS_HOUR": int(
            os.environ.get("MOTCUA_UPLOAD_BYTES_PER_ADDRESS_HOUR", 50 * 2**20)
        ),
        "UPLOAD_BYTES_GLOBAL_HOUR": int(os.environ.get("MOTCUA_UPLOAD_BYTES_GLOBAL_HOUR", 2 * 2**30)),
        # Chromium PDF renders at once per process; more wait PDF_QUEUE_SECONDS, then get 503.
        "PDF_MAX_CONCURRENT": int(os.environ.get("MOTCUA_PDF_MAX_CONCURRENT", "2")),
        "PDF_QUEUE_SECONDS": float(os.environ.get("MOTCUA_PDF_QUEUE_SECONDS", "10")),
        "AGENCY_NAME": os.environ.get("MOTCUA_AGENCY_NAME", "Sở Giáo dục và Đào tạo"),
        # Citizen sign-in: MOTCUA_OIDC_ISSUER (+ _CLIENT_ID, _CLIENT_SECRET, _CCCD_CLAIM, _SCOPES); the
        # local test provider under /oidc-test stands in when OIDC_TEST_PROVIDER is on (`run.py serve`).
        "OIDC_TEST_PROVIDER": False,
        **citizen_auth.config_from_env(),
    }


def create_app(engine: Engine, config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.request_class = NfcRequest
    app.config.update(default_config())
    app.config.update(config or {})
    app.extensions["motcua_engine"] = engine
    app.session_interface = ServerSessionInterface()
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.before_request(raise_session_error)
    app.before_request(reject_unreadable_form)  # before CSRFProtect, which reads every field name
    csrf = CSRFProtect(app)
    init_security(app)
    register_filters(app)
    register_error_handlers(app)
    blueprints = (auth, public, desk, tasks, cases, board, designer, auditor, admin, api)
    for module in (*blueprints, digital, feedback_pages, digital_api, accounts_api, citizen_auth):
        app.register_blueprint(module.bp)
    if app.config.get("OIDC_TEST_PROVIDER"):
        from .oidc_provider import LocalProvider, mount

        mount(app, LocalProvider(clock=engine.lease_clock))
    # The payment gateway has no session: its callback is authenticated by its HMAC signature.
    csrf.exempt(digital_api.payment_callback)
    return app


def serve(engine: Engine, *, host: str = "127.0.0.1", port: int = 5000, worker: bool = True) -> None:
    """Development/single-machine server with the embedded timer worker."""
    from handlers.compose import compose

    # Without a configured identity provider, the local test provider lets citizens sign in (demo only).
    test_provider = not os.environ.get("MOTCUA_OIDC_ISSUER") and _env_flag("MOTCUA_OIDC_TEST_PROVIDER", True)
    app = create_app(engine, {"OIDC_TEST_PROVIDER": test_provider})
    stop = compose(engine).start_worker() if worker else None
    print(f"motcua đang chạy tại http://{host}:{port}", flush=True)
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    finally:
        if stop is not None:
            stop.set()
