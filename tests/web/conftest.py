"""Web fixtures: the real app over the real engine, and a test client that knows about CSRF.

``engine`` (from tests/support/fixtures.py) runs each test on SQLite and on PostgreSQL;
``sqlite_engine`` is for the heavier tests (route enumeration) where one backend says enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.calendar import WorkingCalendar
from engine.clock import FixedClock
from engine.db import Database
from engine.service import CaseView, Engine
from tests.support.fixtures import TEST_PASSWORD, clean, settings_for_tests
from web.app import create_app

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "LOGIN_RATE_LIMIT": "1000 per minute",
    "LOOKUP_RATE_LIMIT": "1000 per minute",
    "SUBMIT_RATE_LIMIT": "1000 per minute",
}


class Client:
    """A logged-in (or anonymous) browser stand-in: adds the CSRF token to every POST."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http: FlaskClient = app.test_client()
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            self._token = str(self.http.get("/api/csrf").get_json()["csrf_token"])
        return self._token

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.http.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        return self.http.post(url, data={"csrf_token": self.token(), **(data or {})}, **kwargs)

    def api(self, method: str, url: str, json: Any = None, **kwargs: Any) -> TestResponse:
        headers = {"X-CSRFToken": self.token(), **kwargs.pop("headers", {})}
        return self.http.open(url, method=method, json=json, headers=headers, **kwargs)

    def login(self, username: str, password: str = TEST_PASSWORD) -> Client:
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self._token = None  # the session was renewed
        return self


@pytest.fixture
def app(engine: Engine) -> Flask:
    return create_app(engine, dict(TEST_CONFIG))


@pytest.fixture
def client(app: Flask) -> Client:
    return Client(app)


@pytest.fixture
def as_user(app: Flask) -> Any:
    def make(username: str | None) -> Client:
        c = Client(app)
        return c.login(username) if username else c

    return make


@pytest.fixture
def sqlite_engine(sqlite_url: str, clock: FixedClock) -> Iterator[Engine]:
    db = Database(sqlite_url)
    clean(db)
    yield Engine(db, clock=clock, calendar=WorkingCalendar(), settings=settings_for_tests())
    db.dispose()


def submit_online(engine: Engine, name: str = "Nguyễn Văn An", procedure: str = "diploma_copy") -> CaseView:
    return engine.start_case(
        {"procedure_id": procedure, "applicant": {"name": name, "phone": "0901234567"}, "channel": 2},
        engine.actor("citizen"),
    )


ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
