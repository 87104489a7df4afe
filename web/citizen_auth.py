"""Citizen sign-in through the identity provider (OIDC), sign-out, and "Hồ sơ của tôi".

Sign-in is a plain link (GET) that sends the browser to the provider; the provider sends it back to
``/public/signin/callback`` where :class:`engine.oidc.OidcClient` checks state, exchanges the code
(PKCE) and verifies the ID token. Any failure shows its own Vietnamese message and leaves the session
as it was (a citizen already signed in stays signed in). Without sign-in, the code + secret lookup
works as before.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, jsonify, redirect, render_template, request, session
from flask import url_for as flask_url_for
from flask.typing import ResponseReturnValue

from engine.oidc import OidcClient, OidcSettings, PendingSignIn, SignInError, SignInNotConfigured
from engine.oidc import oidc_settings_from_env as _settings_from_env

from .api_models import MyDossiers, SignedInCitizen
from .citizen_session import citizen_unauthorized, forget, remember, signed_in_citizen
from .security import engine, public

bp = Blueprint("citizen", __name__)

PENDING_KEY = "oidc_pending"
NEXT_KEY = "oidc_next"


def config_from_env() -> dict[str, Any]:
    """The OIDC part of the app's settings (``MOTCUA_OIDC_*``)."""
    settings = _settings_from_env()
    if settings is None:
        return {"OIDC_ISSUER": ""}
    return {
        "OIDC_ISSUER": settings.issuer,
        "OIDC_CLIENT_ID": settings.client_id,
        "OIDC_CLIENT_SECRET": settings.client_secret,
        "OIDC_CCCD_CLAIM": settings.cccd_claim,
        "OIDC_SCOPES": settings.scopes,
    }


def enabled(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return bool(config.get("OIDC_ISSUER") or config.get("OIDC_TEST_PROVIDER"))


def oidc_client() -> OidcClient:
    """The relying party for the configured provider (the mounted test provider when none is)."""
    config = current_app.config
    issuer = config.get("OIDC_ISSUER") or ""
    client_id, client_secret = config.get("OIDC_CLIENT_ID") or "", config.get("OIDC_CLIENT_SECRET") or ""
    if not issuer:
        provider = current_app.extensions.get("motcua_oidc_test_provider")
        if provider is None:
            raise SignInNotConfigured("Hệ thống chưa cấu hình đăng nhập bằng tài khoản định danh")
        issuer = flask_url_for("oidc_test.discovery", _external=True).rsplit("/.well-known/", 1)[0]
        client_id, client_secret = provider.client_id, provider.client_secret
    clients = cast(dict[str, OidcClient], current_app.extensions.setdefault("motcua_oidc_clients", {}))
    if issuer not in clients:
        clients[issuer] = OidcClient(
            OidcSettings(
                issuer=issuer.rstrip("/"),
                client_id=client_id,
                client_secret=client_secret,
                cccd_claim=config.get("OIDC_CCCD_CLAIM") or "cccd",
                scopes=config.get("OIDC_SCOPES") or "openid profile",
            )
        )
    return clients[issuer]


def _safe_next(target: str | None) -> str:
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return flask_url_for("citizen.my_dossiers")
    return target


@bp.app_context_processor
def inject_citizen() -> dict[str, Any]:
    return {"citizen": signed_in_citizen(), "citizen_signin": enabled()}


@bp.get("/public/signin")
@public
def signin() -> ResponseReturnValue:
    """Send the browser to the provider (state, nonce and PKCE verifier kept in the session)."""
    client = oidc_client()
    url, pending = client.begin(
        flask_url_for("citizen.callback", _external=True), engine().lease_clock.now()
    )
    session[PENDING_KEY] = pending.to_dict()
    session[NEXT_KEY] = _safe_next(request.args.get("next"))
    return redirect(url)


@bp.get("/public/signin/callback")
@public
def callback() -> ResponseReturnValue:
    raw = session.pop(PENDING_KEY, None)
    wanted = _safe_next(session.pop(NEXT_KEY, None))
    pending = PendingSignIn.from_dict(raw) if isinstance(raw, dict) else None
    params = {k: v[:2000] for k, v in request.args.items()}
    try:
        citizen = oidc_client().finish(pending, params, engine().lease_clock.now())
    except SignInError as exc:
        page = render_template("public/signin_error.html", message=exc.message, code=exc.code)
        return page, exc.http_status
    remember(citizen)
    flash(f"Ông/bà đã đăng nhập: {citizen.full_name}.", "success")
    return redirect(wanted)


@bp.post("/public/signout")
@public
def signout() -> ResponseReturnValue:
    forget()
    flash("Ông/bà đã đăng xuất tài khoản định danh.", "success")
    return redirect(flask_url_for("public.home"))


@bp.get("/public/my")
@public
def my_dossiers() -> ResponseReturnValue:
    """"Hồ sơ của tôi": every dossier whose applicant CCCD is the signed-in citizen's."""
    citizen = signed_in_citizen()
    if citizen is None:
        if not enabled():
            return redirect(flask_url_for("public.lookup"))
        return redirect(flask_url_for("citizen.signin", next=request.path))
    return render_template("public/my.html", dossiers=engine().citizen_dossiers(citizen))


@bp.get("/api/public/my/cases")
@public
def api_my_dossiers() -> ResponseReturnValue:
    """The signed-in citizen's dossiers as JSON (401 without sign-in)."""
    citizen = signed_in_citizen()
    if citizen is None:
        return citizen_unauthorized()
    listed = MyDossiers(
        citizen=SignedInCitizen(cccd=citizen.cccd, full_name=citizen.full_name),
        cases=engine().citizen_dossiers(citizen),
    )
    return jsonify(listed.model_dump(mode="json"))
