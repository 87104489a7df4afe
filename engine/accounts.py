"""Account management: create, deactivate, change role or unit, reset and change passwords.

The web admin pages, the JSON API and ``run.py users`` all call these functions, so the checks (only
an administrator — or the operator at the server's own console — manages accounts; nobody locks
themselves out; every password passes the policy) hold whichever door is used. Every change appends
one row to ``account_events``; nothing here updates or deletes those rows.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import facts_store
from .errors import Forbidden, NotFound, ValidationError
from .models import AccountEvent, PasswordReset, User
from .passwords import check_password, generate_password
from .users import CITIZEN_ACTOR, ROLES, SYSTEM_ACTOR, Actor, create_user, hash_password, verify_password

ADMIN_ROLE = "admin"
RESET_LINK_LIFETIME = timedelta(hours=24)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,99}$")
RESERVED_USERNAMES = frozenset({SYSTEM_ACTOR, CITIZEN_ACTOR})


@dataclass(frozen=True)
class AccountView:
    """An account as the admin pages and the CLI show it (never the password hash)."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    unit: str | None
    active: bool
    must_change_password: bool


@dataclass(frozen=True)
class AccountEventView:
    id: int
    at: datetime
    actor: str
    username: str
    action: str
    details: dict[str, Any]


@dataclass(frozen=True)
class IssuedCredential:
    """What a reset hands out exactly once: a temporary password or a one-time link token."""

    username: str
    password: str | None = None
    reset_token: str | None = None
    expires_at: datetime | None = None


def require_account_manager(actor: Actor) -> None:
    """Administrators manage accounts; so does the server's own console (the CLI's system actor),
    which is how the very first administrator is created."""
    if actor.username != SYSTEM_ACTOR and not actor.has_role(ADMIN_ROLE):
        raise Forbidden("Chỉ quản trị hệ thống được quản lý tài khoản")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(user: User) -> AccountView:
    return AccountView(
        user.username,
        user.full_name,
        tuple(sorted(r for r in user.roles.split(",") if r)),
        user.unit,
        user.active,
        user.must_change_password,
    )


def _record(session: Session, now: datetime, actor: str, username: str, action: str, **details: Any) -> None:
    session.add(AccountEvent(at=now, actor=actor, username=username, action=action, details=details))


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"Không tìm thấy tài khoản '{username[:100]}'")
    return user


def _roles(roles: list[str]) -> list[str]:
    cleaned = sorted({r.strip() for r in roles if r.strip()})
    if not cleaned:
        raise ValidationError(
            "Tài khoản phải có ít nhất một vai trò",
            details={"fields": [{"field": "roles", "message": "chọn ít nhất một vai trò"}]},
        )
    unknown = [r for r in cleaned if r not in ROLES]
    if unknown:
        raise ValidationError(
            f"Vai trò không hợp lệ: {', '.join(unknown)[:200]}",
            details={"fields": [{"field": "roles", "message": "vai trò không tồn tại"}]},
        )
    return cleaned


def _unit(unit: str | None) -> str | None:
    value = (unit or "").strip()
    if len(value) > 100:
        raise ValidationError(
            "Tên đơn vị dài quá 100 ký tự",
            details={"fields": [{"field": "unit", "message": "tối đa 100 ký tự"}]},
        )
    return value or None


def list_accounts(session: Session) -> list[AccountView]:
    """Every account, active or not, by username."""
    return [_view(u) for u in session.scalars(select(User).order_by(User.username))]


def get_account(session: Session, username: str) -> AccountView:
    return _view(_user(session, username))


def create_account(
    session: Session,
    actor: Actor,
    now: datetime,
    username: str,
    full_name: str,
    roles: list[str],
    unit: str | None = None,
    password: str | None = None,
) -> IssuedCredential:
    """Open an account whose first password (given, or generated and returned once) must be changed
    by its owner at the first login: whoever set it knows it."""
    require_account_manager(actor)
    username = username.strip()
    if not USERNAME_RE.match(username) or username in RESERVED_USERNAMES:
        raise ValidationError(
            "Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch nối, gạch dưới (3–100 ký tự)",
            details={"fields": [{"field": "username", "message": "không hợp lệ"}]},
        )
    full_name = full_name.strip()
    if not full_name or len(full_name) > 300:
        raise ValidationError(
            "Họ và tên là bắt buộc (tối đa 300 ký tự)",
            details={"fields": [{"field": "full_name", "message": "bắt buộc"}]},
        )
    chosen = _roles(roles)
    issued = password is None
    secret = generate_password() if password is None else password
    create_user(session, username, full_name, chosen, secret, _unit(unit), must_change_password=True)
    _record(session, now, actor.username, username, "created", roles=chosen, unit=_unit(unit))
    return IssuedCredential(username, password=secret if issued else None)


def set_active(session: Session, actor: Actor, now: datetime, username: str, active: bool) -> AccountView:
    """Deactivate (or reactivate) an account; the caller revokes its sessions after commit."""
    require_account_manager(actor)
    if not active and username == actor.username:
        raise ValidationError("Không thể tự vô hiệu hoá tài khoản của chính mình")
    user = _user(session, username)
    if user.active == active:
        return _view(user)
    user.active = active
    _record(session, now, actor.username, username, "activated" if active else "deactivated")
    return _view(user)


def change_roles(
    session: Session, actor: Actor, now: datetime, username: str, roles: list[str]
) -> AccountView:
    """Replace an account's roles; an administrator cannot drop their own admin role (lock-out)."""
    require_account_manager(actor)
    chosen = _roles(roles)
    if username == actor.username and ADMIN_ROLE not in chosen:
        raise ValidationError("Không thể tự bỏ vai trò quản trị của chính mình")
    user = _user(session, username)
    before = sorted(r for r in user.roles.split(",") if r)
    if before != chosen:
        user.roles = ",".join(chosen)
        _record(session, now, actor.username, username, "roles_changed", before=before, after=chosen)
    return _view(user)


def change_unit(
    session: Session, actor: Actor, now: datetime, username: str, unit: str | None
) -> AccountView:
    require_account_manager(actor)
    user = _user(session, username)
    after = _unit(unit)
    if user.unit != after:
        _record(session, now, actor.username, username, "unit_changed", before=user.unit, after=after)
        user.unit = after
        # The unit of whoever first worked a dossier is the dossier's unit in the reports.
        facts_store.mark_stale(session, facts_store.completed_by(username))
    return _view(user)


def reset_password(
    session: Session, actor: Actor, now: datetime, username: str, *, link: bool
) -> IssuedCredential:
    """Hand out a one-time link (valid 24 h) or a temporary password printed once; either way the old
    password stops working now and the owner chooses a new one at the next login."""
    require_account_manager(actor)
    user = _user(session, username)
    if not user.active:
        raise ValidationError("Tài khoản đã bị vô hiệu hoá; hãy kích hoạt lại trước khi đặt lại mật khẩu")
    user.must_change_password = True
    if link:
        token = secrets.token_urlsafe(32)
        expires = now + RESET_LINK_LIFETIME
        # An unusable password: the old one must not keep working while the link is outstanding.
        user.password_hash = hash_password(secrets.token_urlsafe(32))
        session.add(
            PasswordReset(
                token_digest=token_digest(token),
                username=username,
                created_at=now,
                expires_at=expires,
                used_at=None,
            )
        )
        _record(session, now, actor.username, username, "reset_link_issued", expires_at=expires.isoformat())
        return IssuedCredential(username, reset_token=token, expires_at=expires)
    password = generate_password()
    user.password_hash = hash_password(password)
    _record(session, now, actor.username, username, "temporary_password_issued")
    return IssuedCredential(username, password=password)


def reset_link_user(session: Session, now: datetime, token: str) -> str:
    """The username a still-valid, unused reset link belongs to."""
    row = session.get(PasswordReset, token_digest(token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotFound("Liên kết đặt lại mật khẩu không hợp lệ, đã dùng hoặc đã hết hạn")
    user = _user(session, row.username)
    if not user.active:
        raise NotFound("Liên kết đặt lại mật khẩu không hợp lệ, đã dùng hoặc đã hết hạn")
    return row.username


def redeem_reset_link(session: Session, now: datetime, token: str, new_password: str) -> AccountView:
    """Set the owner's new password through a reset link, which is then spent."""
    username = reset_link_user(session, now, token)
    user = _user(session, username)
    check_password(new_password, username=user.username, full_name=user.full_name)
    row = session.get(PasswordReset, token_digest(token))
    assert row is not None
    row.used_at = now
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    _record(session, now, username, username, "password_reset_by_link")
    return _view(user)


def change_own_password(
    session: Session, now: datetime, username: str, current: str, new_password: str
) -> AccountView:
    """The owner replaces their password, proving they know the current one."""
    user = _user(session, username)
    if not user.active or not verify_password(user.password_hash, current):
        raise ValidationError(
            "Mật khẩu hiện tại không đúng",
            details={"fields": [{"field": "current_password", "message": "không đúng"}]},
        )
    if new_password == current:
        raise ValidationError(
            "Mật khẩu mới phải khác mật khẩu hiện tại",
            details={"fields": [{"field": "password", "message": "trùng mật khẩu cũ"}]},
        )
    check_password(new_password, username=user.username, full_name=user.full_name)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    _record(session, now, username, username, "password_changed")
    return _view(user)


def account_events(session: Session, username: str | None = None, limit: int = 500) -> list[AccountEventView]:
    """The account audit trail, newest first."""
    query = select(AccountEvent).order_by(AccountEvent.id.desc()).limit(limit)
    if username is not None:
        query = query.where(AccountEvent.username == username)
    return [
        AccountEventView(e.id, e.at, e.actor, e.username, e.action, dict(e.details))
        for e in session.scalars(query)
    ]
