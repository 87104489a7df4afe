"""Staff accounts: roles, units and argon2-hashed passwords."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import NotFound, ValidationError
from .models import User
from .passwords import check_password, generate_password

ROLES: dict[str, str] = {
    "desk_clerk": "Cán bộ tiếp nhận (một cửa)",
    "specialist": "Chuyên viên",
    "head_of_department": "Lãnh đạo phòng",
    "director": "Lãnh đạo Sở",
    "other_department": "Phòng/đơn vị phối hợp",
    "designer": "Người thiết kế quy trình",
    "auditor": "Kiểm tra viên",
    "admin": "Quản trị hệ thống",
}
SYSTEM_ACTOR = "system"
CITIZEN_ACTOR = "citizen"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Actor:
    """Who performs an operation, as the engine's role checks see it."""

    username: str
    full_name: str
    roles: frozenset[str]
    unit: str | None = None
    must_change_password: bool = False

    def has_role(self, role: str | None) -> bool:
        return role is None or role in self.roles


SYSTEM = Actor(SYSTEM_ACTOR, "Hệ thống", frozenset())
CITIZEN = Actor(CITIZEN_ACTOR, "Công dân", frozenset({"citizen"}))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def to_actor(user: User) -> Actor:
    roles = frozenset(r for r in user.roles.split(",") if r)
    return Actor(user.username, user.full_name, roles, user.unit, bool(user.must_change_password))


def create_user(
    session: Session,
    username: str,
    full_name: str,
    roles: list[str],
    password: str,
    unit: str | None = None,
    *,
    must_change_password: bool = False,
) -> User:
    """Add an account; unknown roles, duplicate usernames and weak passwords are refused."""
    if not roles:
        raise ValidationError("Tài khoản phải có ít nhất một vai trò")
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValidationError(f"Vai trò không hợp lệ: {', '.join(unknown)}")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ValidationError(f"Tên đăng nhập '{username}' đã tồn tại")
    check_password(password, username=username, full_name=full_name)
    user = User(
        username=username,
        full_name=full_name,
        roles=",".join(roles),
        unit=unit,
        password_hash=hash_password(password),
        active=True,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def get_actor(session: Session, username: str) -> Actor:
    if username == SYSTEM_ACTOR:
        return SYSTEM
    if username == CITIZEN_ACTOR:
        return CITIZEN
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise NotFound(f"Không tìm thấy người dùng '{username}'")
    return to_actor(user)


def authenticate(session: Session, username: str, password: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same cost whether or not the user exists
        return None
    return to_actor(user) if verify_password(user.password_hash, password) else None


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))

SECONDARY_UNIT = "Phòng Giáo dục trung học - Giáo dục thường xuyên"
DEMO_USERS: list[tuple[str, str, list[str], str | None]] = [
    ("tiepnhan", "Nguyễn Thị Tiếp Nhận", ["desk_clerk"], "Bộ phận một cửa"),
    ("chuyenvien", "Trần Văn Chuyên", ["specialist"], "Phòng Quản lý chất lượng"),
    ("truongphong", "Lê Thị Trưởng Phòng", ["head_of_department"], "Phòng Quản lý chất lượng"),
    # The library (bpmn/) routes diplomas and school recognition to the unit above, transfers and
    # centres to this one: a second unit, so the demo shows that units do not see each other's work.
    ("chuyenvien_gd", "Ngô Thị Chuyên Viên", ["specialist"], SECONDARY_UNIT),
    ("truongphong_gd", "Đặng Văn Trưởng Phòng", ["head_of_department"], SECONDARY_UNIT),
    ("giamdoc", "Phạm Văn Giám Đốc", ["director"], "Ban Giám đốc"),
    ("phoihop", "Hoàng Thị Phối Hợp", ["other_department"], "Phòng Kế hoạch - Tài chính"),
    ("thietke", "Vũ Văn Thiết Kế", ["designer"], None),
    ("kiemtra", "Đỗ Thị Kiểm Tra", ["auditor"], None),
    ("quantri", "Bùi Văn Quản Trị", ["admin"], None),
]


def seed_demo_users(session: Session) -> list[tuple[str, str, str]]:
    """Create one demo account per role (once); returns (username, role, password) of those created."""
    created: list[tuple[str, str, str]] = []
    for username, full_name, roles, unit in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username)) is not None:
            continue
        password = generate_password()
        create_user(session, username, full_name, roles, password, unit)
        created.append((username, roles[0], password))
    return created
