"""Account administration on the web, the JSON API and the CLI: one engine, the same checks."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from flask import Flask

from engine.service import Engine
from tests.test_cli_calendar import cli
from tests.web.conftest import Client

NEW = "mot-buoi-sang-dep-troi-o-hue"


def _name() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def test_admin_creates_an_account_whose_owner_must_change_the_password_first(
    engine: Engine, app: Flask, as_user: Any
) -> None:
    admin, name = as_user("admin"), _name()
    page = admin.post(
        "/admin/users",
        {"username": name, "full_name": "Ngô Thị Mới", "roles": ["specialist"], "unit": "Phòng Thi cử"},
    )
    assert page.status_code == 200
    password = re.search(r'id="issued-password">([^<]+)<', page.get_data(as_text=True))
    assert password is not None
    owner = Client(app)
    login = owner.post("/login", {"username": name, "password": password.group(1)})
    assert login.status_code == 302 and login.headers["Location"] == "/account/password"
    owner._token = None  # a new session after login: a new CSRF token
    assert owner.get("/tasks/").headers["Location"] == "/account/password"  # nothing else until changed
    assert owner.api("GET", "/api/tasks").status_code == 403
    weak = owner.post(
        "/account/password",
        {
            "current_password": password.group(1),
            "password": "1234567890ab",
            "password_confirm": "1234567890ab",
        },
    )
    assert weak.status_code == 422 and "dễ đoán" in weak.get_data(as_text=True)
    mismatch = owner.post(
        "/account/password", {"current_password": password.group(1), "password": NEW, "password_confirm": "x"}
    )
    assert mismatch.status_code == 422 and "không khớp" in mismatch.get_data(as_text=True)
    elsewhere = Client(app).login(name, password.group(1))  # e.g. a session someone else opened
    done = owner.post(
        "/account/password", {"current_password": password.group(1), "password": NEW, "password_confirm": NEW}
    )
    assert done.status_code == 302
    assert owner.get("/tasks/").status_code == 200  # the owner continues in a fresh session
    assert elsewhere.get("/tasks/").status_code == 302  # every other session ended
    listing = admin.get("/admin/users").get_data(as_text=True)
    assert f'data-username="{name}"' in listing
    detail = admin.get(f"/admin/users/{name}").get_data(as_text=True)
    assert 'data-action="created"' in detail and 'data-action="password_changed"' in detail


def test_bad_account_forms_say_why_and_change_nothing(engine: Engine, as_user: Any) -> None:
    admin = as_user("admin")
    before = len(engine.list_accounts(engine.actor("admin")))
    bad = admin.post("/admin/users", {"username": "X Y", "full_name": "", "roles": ["king"]})
    assert bad.status_code == 422 and "Tên đăng nhập chỉ gồm" in bad.get_data(as_text=True)
    no_role = admin.post("/admin/users", {"username": _name(), "full_name": "Ai Đó"})
    assert no_role.status_code == 422 and "ít nhất một vai trò" in no_role.get_data(as_text=True)
    assert len(engine.list_accounts(engine.actor("admin"))) == before
    self_lock = admin.post("/admin/users/admin/active", {"active": "0"})
    assert self_lock.status_code == 422 and "chính mình" in self_lock.get_data(as_text=True)
    drop = admin.post("/admin/users/admin/roles", {"roles": ["auditor"]})
    assert drop.status_code == 422 and "vai trò quản trị" in drop.get_data(as_text=True)
    assert admin.get("/admin/users/khong-co-ai").status_code == 404
    assert as_user("director").post("/admin/users", {"username": _name()}).status_code == 403


def test_admin_changes_roles_and_unit_and_resets_with_a_one_time_link(
    engine: Engine, app: Flask, as_user: Any
) -> None:
    admin, name = as_user("admin"), _name()
    engine.create_account(name, "Đặng Văn Cũ", ["specialist"], engine.actor("admin"), password=NEW)
    assert (
        admin.post(f"/admin/users/{name}/roles", {"roles": ["specialist", "head_of_department"]}).status_code
        == 302
    )
    assert admin.post(f"/admin/users/{name}/unit", {"unit": "Phòng Tổ chức"}).status_code == 302
    actor = engine.actor(name)
    assert actor.roles == {"specialist", "head_of_department"} and actor.unit == "Phòng Tổ chức"
    page = admin.post(f"/admin/users/{name}/reset", {"mode": "link"}).get_data(as_text=True)
    url = re.search(r'id="reset-url">http://localhost(/account/reset/[^<]+)<', page)
    assert url is not None
    owner = Client(app)
    assert owner.post("/login", {"username": name, "password": NEW}).status_code == 401  # old one is dead
    owner._token = None
    form = owner.get(url.group(1))
    assert form.status_code == 200 and name in form.get_data(as_text=True)
    chosen = "bon-mua-xuan-ha-thu-dong"
    assert owner.post(url.group(1), {"password": chosen, "password_confirm": chosen}).status_code == 302
    assert owner.get(url.group(1)).status_code == 404  # spent
    home = owner.post("/login", {"username": name, "password": chosen}).headers["Location"]
    assert home == "/tasks/"  # the role's own page
    temporary = admin.post(f"/admin/users/{name}/reset", {"mode": "password"}).get_data(as_text=True)
    assert re.search(r'id="issued-password">[^<]{16}<', temporary)


def test_the_api_manages_accounts_with_the_same_checks(engine: Engine, app: Flask, as_user: Any) -> None:
    admin, name = as_user("admin"), _name()
    weak = admin.api(
        "POST",
        "/api/admin/users",
        {"username": name, "full_name": "A B", "roles": ["auditor"], "password": "x"},
    )
    assert weak.status_code == 422 and "ít nhất 12" in weak.get_json()["message"]
    created = admin.api(
        "POST", "/api/admin/users", {"username": name, "full_name": "A B", "roles": ["auditor"]}
    )
    assert created.status_code == 201 and len(created.get_json()["password"]) == 16
    assert (
        admin.api("POST", f"/api/admin/users/{name}/unit", {"unit": "Thanh tra"}).get_json()["unit"]
        == "Thanh tra"
    )
    off = admin.api("POST", f"/api/admin/users/{name}/active", {"active": False})
    assert off.status_code == 200 and off.get_json()["active"] is False
    link = admin.api("POST", f"/api/admin/users/{name}/reset", {"mode": "link"})
    assert link.status_code == 422 and "vô hiệu hoá" in link.get_json()["message"]
    assert as_user("auditor").api("GET", "/api/admin/users").status_code == 403
    trail = as_user("auditor").api("GET", "/api/admin/account-events").get_json()
    assert [e["action"] for e in trail if e["username"] == name] == ["deactivated", "unit_changed", "created"]
    me = as_user("clerk")
    wrong = me.api("POST", "/api/account/password", {"current_password": "sai-roi", "password": NEW})
    assert wrong.status_code == 422


def test_the_cli_manages_accounts(tmp_path: Path) -> None:
    db = tmp_path / "users.sqlite3"
    assert cli("init-db", "--no-library", "--no-users", db=db).returncode == 0
    first = cli("users", "create", "quantri2", "--name", "Quản Trị Hai", "--role", "admin", "--json", db=db)
    assert first.returncode == 0, first.stderr
    assert len(json.loads(first.stdout)["password"]) == 16
    made = cli(
        "users",
        "create",
        "chuyenvien2",
        "--name",
        "Chuyên Viên",
        "--role",
        "specialist",
        "--unit",
        "Phòng A",
        "--as",
        "quantri2",
        db=db,
    )
    assert made.returncode == 0 and "Mật khẩu tạm:" in made.stdout
    refused = cli("users", "set-roles", "quantri2", "--role", "auditor", "--as", "chuyenvien2", db=db)
    assert refused.returncode == 5 and "Chỉ quản trị hệ thống" in refused.stderr
    bad = cli("users", "set-roles", "chuyenvien2", "--role", "king", "--as", "quantri2", db=db)
    assert bad.returncode == 2 and "Vai trò không hợp lệ" in bad.stderr
    assert cli("users", "deactivate", "chuyenvien2", "--as", "quantri2", db=db).returncode == 0
    link = cli("users", "reset-password", "quantri2", "--link", db=db)
    assert link.returncode == 0 and "/account/reset/" in link.stdout
    listing = cli("users", "list", "--json", db=db)
    accounts = {a["username"]: a for a in json.loads(listing.stdout)}
    assert accounts["chuyenvien2"]["active"] is False and accounts["quantri2"]["must_change_password"]
    events = json.loads(cli("users", "events", "--json", db=db).stdout)
    assert [e["action"] for e in events] == ["reset_link_issued", "deactivated", "created", "created"]
    assert events[2]["actor"] == "quantri2" and events[3]["actor"] == "system"
