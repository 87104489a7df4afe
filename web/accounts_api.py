"""JSON API for accounts (``/api/admin/users``, ``/api/account/password``): the same engine
functions and checks as the admin pages and ``run.py users``."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue

from engine.accounts import AccountView, IssuedCredential

from .api import body, ok
from .api_models import (
    AccountActive,
    AccountCreate,
    AccountEventOut,
    AccountOut,
    AccountRoles,
    AccountUnit,
    IssuedCredentialOut,
    PasswordChange,
    PasswordResetRequest,
)
from .security import engine, login, refresh_actor, require_actor, requires

bp = Blueprint("accounts_api", __name__, url_prefix="/api")
ADMIN = "admin"


def account_out(view: AccountView) -> AccountOut:
    return AccountOut(**{**asdict(view), "roles": list(view.roles)})


def issued_out(issued: IssuedCredential) -> IssuedCredentialOut:
    url = url_for("auth.reset", token=issued.reset_token, _external=True) if issued.reset_token else None
    return IssuedCredentialOut(
        username=issued.username, password=issued.password, reset_url=url, expires_at=issued.expires_at
    )


@bp.get("/admin/users")
@requires(ADMIN)
def list_users() -> ResponseReturnValue:
    return ok([account_out(a) for a in engine().list_accounts(require_actor())])


@bp.post("/admin/users")
@requires(ADMIN)
def create_user() -> ResponseReturnValue:
    req = body(AccountCreate)
    issued = engine().create_account(
        req.username, req.full_name, req.roles, require_actor(), unit=req.unit, password=req.password
    )
    return ok(issued_out(issued), 201)


@bp.get("/admin/users/<username>")
@requires(ADMIN)
def get_user(username: str) -> ResponseReturnValue:
    return ok(account_out(engine().account(username[:100], require_actor())))


@bp.post("/admin/users/<username>/active")
@requires(ADMIN)
def set_active(username: str) -> ResponseReturnValue:
    req = body(AccountActive)
    return ok(account_out(engine().set_account_active(username[:100], req.active, require_actor())))


@bp.post("/admin/users/<username>/roles")
@requires(ADMIN)
def set_roles(username: str) -> ResponseReturnValue:
    req = body(AccountRoles)
    view = engine().change_account_roles(username[:100], req.roles, require_actor())
    refresh_actor()
    return ok(account_out(view))


@bp.post("/admin/users/<username>/unit")
@requires(ADMIN)
def set_unit(username: str) -> ResponseReturnValue:
    req = body(AccountUnit)
    return ok(account_out(engine().change_account_unit(username[:100], req.unit, require_actor())))


@bp.post("/admin/users/<username>/reset")
@requires(ADMIN)
def reset(username: str) -> ResponseReturnValue:
    req = body(PasswordResetRequest)
    issued = engine().reset_password(username[:100], require_actor(), link=req.mode == "link")
    return ok(issued_out(issued))


@bp.get("/admin/account-events")
@requires(ADMIN, "auditor")
def account_events() -> ResponseReturnValue:
    events = engine().account_events(require_actor())
    return ok([AccountEventOut(**asdict(e)) for e in events])


@bp.post("/account/password")
@requires()
def change_password() -> ResponseReturnValue:
    req = body(PasswordChange)
    view = engine().change_password(require_actor().username, req.current_password, req.password)
    login(engine().actor(view.username))  # a fresh session: every other one has ended
    return ok(account_out(view))
