"""Server-side sessions: logout and deactivation kill copied cookies, timeouts, no secret in the cookie,
and a login backoff per account + address that cannot lock the real user out from elsewhere."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import TEST_PASSWORD
from tests.web.conftest import TEST_CONFIG, Client
from tests.web.test_public import complete_form
from web.app import create_app

COOKIE = "motcua_session"
GOOD = "ba-con-meo-tren-mai-nha"


def _cookie(client: Client) -> str:
    cookie = client.http.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> Client:
    stolen = Client(app)
    stolen.http.set_cookie(COOKIE, value)
    return stolen


def test_a_cookie_saved_before_logout_no_longer_works_after_it(app: Flask, as_user: Any) -> None:
    clerk = as_user("clerk")
    saved = _cookie(clerk)
    assert _with_cookie(app, saved).get("/desk/").status_code == 200
    assert clerk.post("/logout").status_code == 302
    replay = _with_cookie(app, saved).get("/desk/")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]


def test_login_gives_a_new_session_id(app: Flask) -> None:
    client = Client(app)
    client.token()  # an anonymous session exists (CSRF token)
    before = _cookie(client)
    client.login("clerk")
    assert _cookie(client) != before
    assert _with_cookie(app, before).get("/desk/").status_code == 302


def test_deactivating_an_account_ends_its_open_sessions(engine: Engine, app: Flask, as_user: Any) -> None:
    name = f"u{uuid.uuid4().hex[:10]}"
    engine.create_account(name, "Người Mới", ["desk_clerk"], engine.actor("admin"), password=GOOD)
    engine.change_password(name, GOOD, "hai-con-cho-duoi-gam-cau")
    user = Client(app).login(name, "hai-con-cho-duoi-gam-cau")
    assert user.get("/desk/").status_code == 200
    saved = _cookie(user)
    done = as_user("admin").post(f"/admin/users/{name}/active", {"active": "0"})
    assert done.status_code == 302
    assert user.get("/desk/").status_code == 302
    assert _with_cookie(app, saved).get("/desk/").status_code == 302
    assert engine.sessions.load(saved, engine.lease_clock.now()) is None


def test_idle_and_absolute_timeouts(engine: Engine, app: Flask, as_user: Any) -> None:
    moving = FixedClock(engine.lease_clock.now())
    engine.lease_clock = moving
    clerk = as_user("clerk")
    moving.advance(timedelta(minutes=29))
    assert clerk.get("/desk/").status_code == 200  # activity within the idle limit keeps it alive
    moving.advance(timedelta(minutes=29))
    assert clerk.get("/desk/").status_code == 200
    moving.advance(timedelta(minutes=31))
    assert clerk.get("/desk/").status_code == 302  # idle too long
    busy = as_user("clerk")
    for _ in range(21):  # active every 29 minutes, yet the absolute limit (10 h) ends it
        moving.advance(timedelta(minutes=29))
        last = busy.get("/desk/").status_code
    assert last == 302


def _decoded(cookie: str) -> bytes:
    padded = cookie + "=" * (-len(cookie) % 4)
    return base64.urlsafe_b64decode(padded)


def test_no_lookup_secret_travels_in_the_cookie(engine: Engine, app: Flask, as_user: Any) -> None:
    clerk = as_user("clerk")
    response = clerk.post(
        "/desk/intake",
        {"procedure_id": "diploma_copy", "channel": "1", "applicant_name": "Lê Thị Hoa"},
    )
    assert response.status_code == 302
    citizen = Client(app)
    submitted = citizen.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(applicant_name="Trần Văn Bình"),
        content_type="multipart/form-data",
    )
    assert submitted.status_code == 302
    for client in (clerk, citizen):
        cookie = _cookie(client)
        assert len(cookie) == 43 and "." not in cookie  # a bare 256-bit id, no signed payload
        assert b"secret" not in _decoded(cookie)
    # The secrets are still shown where they belong: once to the citizen, on the clerk's receipt.
    page = citizen.get("/public/submitted").get_data(as_text=True)
    assert "Mã tra cứu" in page or "mã tra cứu" in page


def test_ten_wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere(engine: Engine) -> None:
    app = create_app(engine, {**TEST_CONFIG})
    attacker = Client(app)
    attacker.http.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    codes = [
        attacker.post("/login", {"username": "director", "password": "doan-mo-lan"}).status_code
        for _ in range(10)
    ]
    assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}
    blocked = attacker.post("/login", {"username": "director", "password": TEST_PASSWORD})
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    assert "thử lại sau" in blocked.get_data(as_text=True)
    owner = Client(app)
    owner.http.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert owner.post("/login", {"username": "director", "password": TEST_PASSWORD}).status_code == 302
    # Another account from the attacker's address is not slowed down either.
    same_place = Client(app)
    same_place.http.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert same_place.post("/login", {"username": "clerk", "password": TEST_PASSWORD}).status_code == 302


def _from(app: Flask, address: str) -> Client:
    client = Client(app)
    client.http.environ_base["REMOTE_ADDR"] = address
    return client


def test_guessing_one_account_from_many_addresses_is_slowed_but_never_locks_the_owner_out(
    engine: Engine,
) -> None:
    app = create_app(engine, {**TEST_CONFIG, "LOGIN_ACCOUNT_FREE": 4})
    # The owner logged in before: from the office (a known address) and on a laptop (a device cookie).
    office = _from(app, "198.51.100.7")
    assert office.post("/login", {"username": "head", "password": TEST_PASSWORD}).status_code == 302
    laptop = _from(app, "198.51.100.8")
    assert laptop.post("/login", {"username": "head", "password": TEST_PASSWORD}).status_code == 302
    # A botnet: every address stays under the per-address backoff (two wrong passwords each).
    bots = [_from(app, f"203.0.113.{i}") for i in range(1, 4)]
    codes = [bot.post("/login", {"username": "head", "password": "doan-bua"}).status_code for bot in bots * 2]
    assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}  # the fifth guess waits, wherever it comes from
    newcomer = _from(app, "203.0.113.200")
    slowed = newcomer.post("/login", {"username": "head", "password": TEST_PASSWORD})
    assert slowed.status_code == 429 and "Retry-After" in slowed.headers  # even the right password waits
    assert "từ nhiều nơi" in slowed.get_data(as_text=True) and newcomer.get("/api/me").status_code == 401
    # The owner is not locked out: from a known address, or with the device cookie from anywhere.
    again = _from(app, "198.51.100.7")
    assert again.post("/login", {"username": "head", "password": TEST_PASSWORD}).status_code == 302
    laptop.http.environ_base["REMOTE_ADDR"] = "192.0.2.55"  # the laptop on a café's network
    laptop._token = None  # its session was renewed at login
    assert laptop.post("/login", {"username": "head", "password": TEST_PASSWORD}).status_code == 302
    # The cookie is the account's own: it neither opens another account's wait nor can be forged.
    forged = _from(app, "203.0.113.201")
    forged.http.set_cookie("motcua_device", "head:00112233:" + "0" * 32)
    assert forged.post("/login", {"username": "head", "password": TEST_PASSWORD}).status_code == 429
    # Other accounts are untouched.
    assert newcomer.post("/login", {"username": "clerk", "password": TEST_PASSWORD}).status_code == 302


def test_the_api_login_has_the_same_backoff(engine: Engine) -> None:
    app = create_app(engine, {**TEST_CONFIG})
    client = Client(app)
    codes = [
        client.api("POST", "/api/login", {"username": "head", "password": "sai-roi-nhe"}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert (
        client.api("POST", "/api/login", {"username": "head", "password": TEST_PASSWORD}).status_code == 429
    )


def test_trusted_proxy_setting_decides_whose_address_is_limited(engine: Engine) -> None:
    def attempts(app: Flask, forwarded: list[str]) -> list[int]:
        client = Client(app)
        return [
            client.post(
                "/public/lookup",
                {"code": "H99.12-000000-0001", "secret": "x"},
                headers={"X-Forwarded-For": ip},
            ).status_code
            for ip in forwarded
        ]

    citizens = [f"198.51.100.{i}" for i in range(1, 5)]
    direct = create_app(engine, {**TEST_CONFIG, "LOOKUP_RATE_LIMIT": "2 per minute"})
    # Without a trusted proxy the header is ignored: everyone behind it is one address.
    assert attempts(direct, citizens) == [404, 404, 429, 429]
    proxied = create_app(engine, {**TEST_CONFIG, "LOOKUP_RATE_LIMIT": "2 per minute", "TRUSTED_PROXIES": 1})
    assert attempts(proxied, citizens) == [404, 404, 404, 404]
    assert attempts(proxied, [citizens[0]] * 3) == [404, 429, 429]
