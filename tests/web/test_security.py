"""Access control, CSRF, session cookies and rate limits — checked over every route of the real app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from engine.service import Engine
from tests.support.fixtures import TEST_PASSWORD, TEST_USERS
from tests.web.conftest import TEST_CONFIG, Client, submit_online
from web.app import create_app
from web.security import ACCESS_ATTR

PLACEHOLDERS = {
    "code": "H99.12-260302-0001",
    "task_id": "no-such-task",
    "document_id": "1",
    "number": "01",
    "procedure_id": "diploma_copy",
    "incident_id": "1",
    "digitised_id": "1",
    "token": "no-such-token",
    "username": "clerk",
}


@pytest.fixture
def engine(sqlite_engine: Engine) -> Engine:
    """Access control does not depend on the database: these run on SQLite only (suite time)."""
    return sqlite_engine


def _url(rule: Any) -> str:
    url = str(rule.rule)
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", PLACEHOLDERS[arg], url)
    return url


def _routes(app: Flask) -> list[tuple[str, str, frozenset[str] | None]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        access = getattr(app.view_functions[rule.endpoint], ACCESS_ATTR)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, _url(rule), access))
    return found


def test_every_view_declares_its_access(sqlite_engine: Engine) -> None:
    app = create_app(sqlite_engine, dict(TEST_CONFIG))
    undeclared = [
        e for e, view in app.view_functions.items() if e != "static" and not hasattr(view, ACCESS_ATTR)
    ]
    assert undeclared == []


def test_every_route_refuses_wrong_roles_and_anonymous_users(sqlite_engine: Engine) -> None:
    """Each protected route × each test user without an allowed role → 403; anonymous → login."""
    app = create_app(sqlite_engine, dict(TEST_CONFIG))
    routes = [r for r in _routes(app) if r[2] is not None]
    assert len(routes) > 25
    clients = {name: Client(app).login(name) for name in TEST_USERS}
    anonymous = Client(app)
    checked = 0
    for method, url, allowed in routes:
        assert allowed is not None
        response = anonymous.api(method, url) if url.startswith("/api/") else _call(anonymous, method, url)
        if url.startswith("/api/"):
            assert response.status_code == 401, (method, url)
            assert response.get_json()["error"] == "unauthenticated"
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
        for name, roles in TEST_USERS.items():
            if not allowed or set(roles) & allowed:
                continue
            client = clients[name]
            response = client.api(method, url) if url.startswith("/api/") else _call(client, method, url)
            assert response.status_code == 403, (name, method, url, response.status_code)
            checked += 1
    assert checked > 100


def _call(client: Client, method: str, url: str) -> Any:
    return client.post(url) if method == "POST" else client.get(url)


def test_forms_without_csrf_token_are_refused(engine: Engine, as_user: Any) -> None:
    clerk = as_user("clerk")
    response = clerk.http.post("/desk/intake", data={"procedure_id": "diploma_copy", "applicant_name": "X"})
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ" in response.get_data(as_text=True)
    wrong = clerk.http.post("/desk/intake", data={"csrf_token": "forged", "applicant_name": "X"})
    assert wrong.status_code == 400
    assert engine.desk_queue(1) == []


def test_login_and_api_posts_without_csrf_token_are_refused(client: Client) -> None:
    assert client.http.post("/login", data={"username": "clerk", "password": "x"}).status_code == 400
    response = client.http.post("/api/lookup", json={"code": "A", "secret": "B"})
    assert response.status_code == 400 and response.get_json()["error"] == "csrf_failed"


def test_session_cookie_flags(engine: Engine) -> None:
    app = create_app(engine, {**TEST_CONFIG, "SESSION_COOKIE_SECURE": True})
    http = app.test_client()
    first = http.get("/api/csrf", base_url="https://localhost")
    token = first.get_json()["csrf_token"]
    login = http.post(
        "/login",
        data={"csrf_token": token, "username": "clerk", "password": TEST_PASSWORD},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert login.status_code == 302
    cookies = first.headers.getlist("Set-Cookie") + login.headers.getlist("Set-Cookie")
    # the session (before and after login) and the device cookie that exempts this browser from
    # the account-wide login wait
    assert sorted(c.split("=")[0] for c in cookies) == ["motcua_device", "motcua_session", "motcua_session"]
    assert all("HttpOnly" in c and "SameSite=Lax" in c and "Secure" in c for c in cookies)


def test_login_success_logout_and_wrong_password(as_user: Any, client: Client) -> None:
    bad = client.post("/login", {"username": "clerk", "password": "sai-mat-khau"})
    assert bad.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in bad.get_data(as_text=True)
    unknown = client.post("/login", {"username": "khong-ton-tai", "password": "sai-mat-khau"})
    assert unknown.get_data(as_text=True).count("Tên đăng nhập hoặc mật khẩu không đúng") == 1
    clerk = as_user("clerk")
    assert clerk.get("/desk/").status_code == 200
    assert clerk.post("/logout").status_code == 302
    assert clerk.get("/desk/").status_code == 302


def test_login_redirects_only_to_local_paths(client: Client) -> None:
    evil = client.post(
        "/login?next=https://evil.example/", {"username": "clerk", "password": "matkhau-thu-nghiem"}
    )
    assert evil.headers["Location"] == "/"
    local = Client(client.app).post(
        "/login?next=/tasks/", {"username": "specialist", "password": "matkhau-thu-nghiem"}
    )
    assert local.headers["Location"] == "/tasks/"


@pytest.mark.parametrize("rule", ["login"])
def test_login_is_rate_limited(engine: Engine, rule: str) -> None:
    app = create_app(engine, {**TEST_CONFIG, "LOGIN_RATE_LIMIT": "3 per minute"})
    client = Client(app)
    codes = [client.post("/login", {"username": "clerk", "password": "sai"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    blocked = client.post("/login", {"username": "clerk", "password": "matkhau-thu-nghiem"})
    assert blocked.status_code == 429 and "quá nhiều lần" in blocked.get_data(as_text=True)


def test_lookup_is_rate_limited_and_does_not_reveal_which_part_was_wrong(engine: Engine) -> None:
    case = submit_online(engine)
    app = create_app(engine, {**TEST_CONFIG, "LOOKUP_RATE_LIMIT": "3 per minute"})
    client = Client(app)
    wrong_secret = client.post("/public/lookup", {"code": case.code, "secret": "00000000"})
    wrong_code = client.post("/public/lookup", {"code": "H99.12-000000-9999", "secret": case.secret})
    assert wrong_secret.status_code == wrong_code.status_code == 404
    message = "Mã hồ sơ hoặc mã tra cứu không đúng"
    assert message in wrong_secret.get_data(as_text=True) and message in wrong_code.get_data(as_text=True)
    assert client.post("/public/lookup", {"code": case.code, "secret": case.secret}).status_code == 200
    assert client.post("/public/lookup", {"code": case.code, "secret": case.secret}).status_code == 429


def test_security_headers(client: Client) -> None:
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
