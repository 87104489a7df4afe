"""A small OpenID Connect provider for `make run` and the tests — NOT for production.

It speaks the same HTTP as a real provider (discovery, authorization endpoint, token endpoint, JWKS),
checks the client's id/secret, redirect URI and PKCE verifier, and signs real RS256 ID tokens with a
key made at start-up. Its "login" is a choice among the demo people of the population fixtures (or
a typed CCCD), since the point is to exercise our relying party, not to authenticate anyone.

Mounted in the app under ``/oidc-test`` when ``OIDC_TEST_PROVIDER`` is on (``run.py serve`` without
``MOTCUA_OIDC_ISSUER``), or served alone by :func:`create_provider_app` (the tests run it on its own
port). ``tamper`` lets a test make it misbehave (wrong nonce, foreign key, other audience).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.jwk import RSAKey

from engine.clock import Clock, SystemClock
from engine.identity import DEMO_CITIZENS, Citizen
from engine.oidc import code_challenge

from .security import public

DEFAULT_CLIENT_ID = "motcua-local"
DEFAULT_CLIENT_SECRET = "motcua-local-secret"  # noqa: S105 - a local test provider's known secret
CALLBACK_PATH = "/public/signin/callback"
CODE_SECONDS = 120
TOKEN_SECONDS = 600


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    person: Citizen
    issued_at: float


@dataclass
class LocalProvider:
    """The provider's state: its key, its one client, the codes it handed out."""

    clock: Clock = field(default_factory=SystemClock)
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    people: tuple[Citizen, ...] = DEMO_CITIZENS
    issuer: str | None = None  # None: the URL it is served at
    tamper: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig"})
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def issuer_url(self) -> str:
        return self.issuer or url_for("oidc_test.discovery", _external=True).rsplit(
            "/.well-known/", 1
        )[0]

    def id_token(self, grant: _Grant) -> str:
        """An ID token for ``grant``, signed with the provider's key (or a tampered one in tests)."""
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer_url(),
            "sub": hashlib.sha256(grant.person.cccd.encode()).hexdigest()[:24],
            "aud": grant.client_id,
            "iat": now,
            "exp": now + TOKEN_SECONDS,
            "nonce": grant.nonce,
            "name": grant.person.full_name,
            "birthdate": grant.person.date_of_birth.isoformat(),
            "cccd": grant.person.cccd,
        }
        claims.update(self.tamper.get("claims") or {})
        key = self.tamper.get("key") or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def issue_code(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(24)
        oldest = self.clock.now().timestamp() - CODE_SECONDS
        with self._lock:
            # Codes nobody redeemed are dropped once they expire (the demo server runs for days).
            self._codes = {c: g for c, g in self._codes.items() if g.issued_at >= oldest}
            self._codes[code] = grant
        return code

    def redeem(self, code: str) -> _Grant | None:
        """A code works once, within two minutes."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or self.clock.now().timestamp() - grant.issued_at > CODE_SECONDS:
            return None
        return grant

    def blueprint(self, url_prefix: str = "/oidc-test") -> Blueprint:
        bp = Blueprint("oidc_test", __name__, url_prefix=url_prefix)
        provider = self

        @bp.get("/.well-known/openid-configuration")
        @public
        def discovery() -> ResponseReturnValue:
            issuer = provider.issuer_url()
            return jsonify(
                {
                    "issuer": issuer,
                    "authorization_endpoint": url_for("oidc_test.authorize", _external=True),
                    "token_endpoint": url_for("oidc_test.token", _external=True),
                    "jwks_uri": url_for("oidc_test.jwks", _external=True),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"],
                    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                    "scopes_supported": ["openid", "profile"],
                    "claims_supported": ["sub", "name", "birthdate", "cccd"],
                }
            )

        @bp.get("/jwks")
        @public
        def jwks() -> ResponseReturnValue:
            public_key = provider.key.as_dict(private=False)
            return jsonify({"keys": [{**public_key, "use": "sig", "alg": "RS256"}]})

        @bp.get("/authorize")
        @public
        def authorize() -> ResponseReturnValue:
            args = request.args
            if args.get("client_id") != provider.client_id:
                abort(400, description="Ứng dụng (client_id) không được đăng ký với nhà cung cấp thử nghiệm")
            redirect_uri = args.get("redirect_uri") or ""
            # Only motcua's own callback: the provider must not become an open redirect.
            parts = urlsplit(redirect_uri)
            if parts.scheme not in ("http", "https") or parts.path != CALLBACK_PATH:
                abort(400, description="Địa chỉ quay lại (redirect_uri) không hợp lệ")
            if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256":
                abort(400, description="Chỉ hỗ trợ luồng mã cấp quyền với PKCE (S256)")
            if not args.get("code_challenge") or "openid" not in (args.get("scope") or "").split():
                abort(400, description="Thiếu code_challenge hoặc phạm vi openid")
            chosen = args.get("person")
            if chosen is None:
                return render_template(
                    "oidc_test/authorize.html",
                    people=provider.people,
                    hidden={k: v for k, v in args.items() if k != "person"},
                    action=url_for("oidc_test.authorize"),
                )
            back = {"state": args.get("state") or ""}
            person = next((p for p in provider.people if p.cccd == chosen), None)
            if chosen == "deny" or person is None:
                back |= {"error": "access_denied", "error_description": "Người dùng từ chối đăng nhập"}
            else:
                grant = _Grant(
                    provider.client_id,
                    redirect_uri,
                    args.get("nonce") or "",
                    args["code_challenge"],
                    person,
                    provider.clock.now().timestamp(),
                )
                back["code"] = provider.issue_code(grant)
            joiner = "&" if "?" in redirect_uri else "?"
            return redirect(f"{redirect_uri}{joiner}{urlencode(back)}")

        @bp.post("/token")
        @public
        def token() -> ResponseReturnValue:
            client_id, client_secret = _client_credentials()
            if client_id != provider.client_id or not secrets.compare_digest(
                client_secret, provider.client_secret
            ):
                return jsonify({"error": "invalid_client"}), 401
            form = request.form
            if form.get("grant_type") != "authorization_code":
                return jsonify({"error": "unsupported_grant_type"}), 400
            grant = provider.redeem(form.get("code") or "")
            if (
                grant is None
                or grant.redirect_uri != form.get("redirect_uri")
                or code_challenge(form.get("code_verifier") or "") != grant.challenge
            ):
                return jsonify({"error": "invalid_grant"}), 400
            return jsonify(
                {
                    "access_token": secrets.token_urlsafe(24),
                    "token_type": "Bearer",
                    "expires_in": TOKEN_SECONDS,
                    "id_token": provider.id_token(grant),
                }
            )

        return bp


def _client_credentials() -> tuple[str, str]:
    header = request.headers.get("Authorization") or ""
    if header.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except ValueError:
            return "", ""
        return unquote(user), unquote(password)
    return request.form.get("client_id") or "", request.form.get("client_secret") or ""


def mount(app: Flask, provider: LocalProvider) -> None:
    """Serve ``provider`` inside the motcua app under /oidc-test (the token endpoint is called by
    servers, so it is exempt from the forms' CSRF check; the client secret and PKCE protect it)."""
    bp = provider.blueprint()
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(app.view_functions["oidc_test.token"])
    app.extensions["motcua_oidc_test_provider"] = provider


def create_provider_app(provider: LocalProvider) -> Flask:
    """The provider alone (its own port, its own origin), as the tests run it."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_hex(16)
    app.config["AGENCY_NAME"] = "Nhà cung cấp định danh thử nghiệm"
    app.register_blueprint(provider.blueprint())
    return app
