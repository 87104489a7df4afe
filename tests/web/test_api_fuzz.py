"""Requests generated from our own OpenAPI document (schemathesis, on Hypothesis): whatever a client
sends to any documented operation, the API answers without a server error.

The caller holds every role, so role checks do not stop the requests before the code that parses
them; generated dossiers are real cases in a real SQLite database.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from engine.models import User
from engine.service import Engine
from engine.users import ROLES, create_user
from tests.support.fixtures import TEST_PASSWORD
from tests.web.conftest import TEST_CONFIG
from web.app import create_app

FUZZER = "fuzzer"


def ensure_fuzzer(engine: Engine) -> None:
    """A user holding every role, so role checks do not stop generated requests early."""
    with engine.db.unit_of_work() as session:
        if session.scalar(select(User).where(User.username == FUZZER)) is None:
            create_user(session, FUZZER, "Kiểm thử tự động", list(ROLES), TEST_PASSWORD)


def _login_headers(app: Any, engine: Engine) -> dict[str, str]:
    ensure_fuzzer(engine)
    client = app.test_client()
    token = client.get("/api/csrf").get_json()["csrf_token"]
    answer = client.post(
        "/api/login",
        json={"username": FUZZER, "password": TEST_PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 200, answer.get_json()
    token = client.get("/api/csrf").get_json()["csrf_token"]  # a new session after login, a new token
    cookie = client.get_cookie("motcua_session")
    assert cookie is not None
    return {"Cookie": f"motcua_session={cookie.value}", "X-CSRFToken": token}


def test_no_generated_request_gets_a_server_error(sqlite_engine: Engine) -> None:
    app = create_app(sqlite_engine, dict(TEST_CONFIG))
    headers = _login_headers(app, sqlite_engine)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tested += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=(not_a_server_error,))

        try:
            check()
        except Exception as exc:  # noqa: BLE001 — collect every operation's failure, then report all
            failures.append(f"{operation.label}: {exc}")
    assert tested >= 25
    assert failures == []
