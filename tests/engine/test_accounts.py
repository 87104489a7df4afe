"""Account management through the engine: policy, forced change, reset links, deactivation, audit trail."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from engine.clock import FixedClock
from engine.errors import Forbidden, NotFound, ValidationError
from engine.passwords import check_password, generate_password
from engine.service import Engine
from engine.sessions import SessionRecord, new_session_id

GOOD = "ba-con-meo-tren-mai-nha"


def _name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def test_passwords_need_twelve_characters_and_a_zxcvbn_score_of_three() -> None:
    for weak in ("12345678", "matkhau1", "123456789012", "password1234", "qwertyuiopas"):
        with pytest.raises(ValidationError):
            check_password(weak)
    with pytest.raises(ValidationError, match="ít nhất 12"):
        check_password("Xk9$mQ2!pL")
    # The account's own name is a guess an attacker makes first.
    with pytest.raises(ValidationError, match="dễ đoán"):
        check_password("nguyenvananh1990", username="nguyenvananh", full_name="Nguyễn Văn Anh")
    check_password(GOOD)
    for _ in range(5):
        check_password(generate_password())


def test_only_an_administrator_or_the_console_creates_accounts(engine: Engine) -> None:
    with pytest.raises(Forbidden):
        engine.create_account(_name(), "Người Mới", ["specialist"], engine.actor("director"))
    name = _name()
    issued = engine.create_account(name, "Người Mới", ["specialist"], engine.actor("system"), unit="Phòng A")
    assert issued.password is not None
    check_password(issued.password)
    account = engine.account(name, engine.actor("admin"))
    assert account.roles == ("specialist",) and account.unit == "Phòng A" and account.must_change_password


@pytest.mark.parametrize(
    ("username", "roles", "password", "message"),
    [
        ("ab", ["specialist"], GOOD, "Tên đăng nhập"),
        ("system", ["specialist"], GOOD, "Tên đăng nhập"),
        ("Hoa Ten", ["specialist"], GOOD, "Tên đăng nhập"),
        ("ok-name", [], GOOD, "ít nhất một vai trò"),
        ("ok-name", ["king"], GOOD, "Vai trò không hợp lệ"),
        ("ok-name", ["specialist"], "12345678", "ít nhất 12"),
        ("ok-name", ["specialist"], "123456789012", "dễ đoán"),
    ],
)
def test_bad_account_input_is_refused_and_nothing_is_created(
    engine: Engine, username: str, roles: list[str], password: str, message: str
) -> None:
    admin = engine.actor("admin")
    before = len(engine.list_accounts(admin))
    with pytest.raises(ValidationError, match=message):
        engine.create_account(username, "Người Mới", roles, admin, password=password)
    assert len(engine.list_accounts(admin)) == before
    assert engine.account_events(admin) == []


def test_duplicate_usernames_are_refused(engine: Engine) -> None:
    with pytest.raises(ValidationError, match="đã tồn tại"):
        engine.create_account("clerk", "Trùng", ["desk_clerk"], engine.actor("admin"), password=GOOD)


def test_a_password_set_by_someone_else_must_be_changed_by_its_owner(engine: Engine) -> None:
    name = _name()
    issued = engine.create_account(name, "Người Mới", ["specialist"], engine.actor("admin"))
    assert issued.password is not None
    actor = engine.authenticate(name, issued.password)
    assert actor is not None and actor.must_change_password
    with pytest.raises(ValidationError, match="hiện tại không đúng"):
        engine.change_password(name, "sai-mat-khau-roi", GOOD)
    with pytest.raises(ValidationError, match="khác mật khẩu hiện tại"):
        engine.change_password(name, issued.password, issued.password)
    with pytest.raises(ValidationError, match="dễ đoán"):
        engine.change_password(name, issued.password, "abcdefghijkl")
    engine.change_password(name, issued.password, GOOD)
    assert engine.authenticate(name, issued.password) is None
    changed = engine.authenticate(name, GOOD)
    assert changed is not None and not changed.must_change_password


def test_deactivation_ends_every_session_and_login(engine: Engine) -> None:
    name = _name()
    engine.create_account(name, "Người Mới", ["specialist"], engine.actor("admin"), password=GOOD)
    now = engine.lease_clock.now()
    sid = new_session_id()
    engine.sessions.save(sid, SessionRecord({"user": name}, now, now, name))
    other = new_session_id()
    engine.sessions.save(other, SessionRecord({"user": "clerk"}, now, now, "clerk"))
    engine.set_account_active(name, False, engine.actor("admin"))
    assert engine.sessions.load(sid, now) is None
    assert engine.sessions.load(other, now) is not None
    assert engine.authenticate(name, GOOD) is None
    with pytest.raises(NotFound):
        engine.actor(name)
    with pytest.raises(ValidationError, match="chính mình"):
        engine.set_account_active("admin", False, engine.actor("admin"))
    engine.set_account_active(name, True, engine.actor("admin"))
    assert engine.authenticate(name, GOOD) is not None
    actions = [e.action for e in engine.account_events(engine.actor("auditor"), name)]
    assert actions == ["activated", "deactivated", "created"]


def test_roles_and_unit_changes_are_audited_and_admins_cannot_lock_themselves_out(engine: Engine) -> None:
    name, admin = _name(), engine.actor("admin")
    engine.create_account(name, "Người Mới", ["specialist"], admin, password=GOOD)
    view = engine.change_account_roles(name, ["specialist", "head_of_department"], admin)
    assert view.roles == ("head_of_department", "specialist")
    assert engine.actor(name).roles == {"specialist", "head_of_department"}
    engine.change_account_unit(name, "Phòng B", admin)
    assert engine.actor(name).unit == "Phòng B"
    with pytest.raises(ValidationError, match="vai trò quản trị"):
        engine.change_account_roles("admin", ["auditor"], admin)
    assert "admin" in engine.actor("admin").roles
    events = engine.account_events(admin, name)
    assert [e.action for e in events] == ["unit_changed", "roles_changed", "created"]
    assert events[1].details == {"before": ["specialist"], "after": ["head_of_department", "specialist"]}
    assert all(e.actor == "admin" for e in events)
    with pytest.raises(Forbidden):
        engine.account_events(engine.actor("clerk"))


def test_a_reset_link_works_once_within_a_day_and_the_old_password_stops_at_once(
    engine: Engine, clock: FixedClock
) -> None:
    name, admin = _name(), engine.actor("admin")
    engine.create_account(name, "Người Mới", ["specialist"], admin, password=GOOD)
    issued = engine.reset_password(name, admin, link=True)
    assert issued.reset_token is not None and issued.password is None
    assert engine.authenticate(name, GOOD) is None
    assert engine.reset_link_user(issued.reset_token) == name
    with pytest.raises(ValidationError):
        engine.redeem_reset_link(issued.reset_token, "123456789012")
    engine.redeem_reset_link(issued.reset_token, "mot-mat-khau-moi-rat-dai")
    assert engine.authenticate(name, "mot-mat-khau-moi-rat-dai") is not None
    with pytest.raises(NotFound):
        engine.redeem_reset_link(issued.reset_token, "lan-thu-hai-khong-duoc-dau")
    late = engine.reset_password(name, admin, link=True)
    clock.advance(timedelta(hours=24, seconds=1))
    assert late.reset_token is not None
    with pytest.raises(NotFound, match="hết hạn"):
        engine.reset_link_user(late.reset_token)
    temporary = engine.reset_password(name, admin, link=False)
    assert temporary.password is not None
    forced = engine.authenticate(name, temporary.password)
    assert forced is not None and forced.must_change_password
    actions = [e.action for e in engine.account_events(admin, name)]
    assert actions[:4] == [
        "temporary_password_issued",
        "reset_link_issued",
        "password_reset_by_link",
        "reset_link_issued",
    ]
