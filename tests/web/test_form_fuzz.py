"""Every HTML page gets generated query strings and every form endpoint (POST) generated form data,
from a caller holding every role: the answer may be a refusal or a redirect, never a server error.
Complements tests/web/test_api_fuzz.py, which covers the JSON API from its OpenAPI document."""

from __future__ import annotations

import re
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.service import Engine
from tests.support.fixtures import TEST_PASSWORD
from tests.web.conftest import ACCEPT, TEST_CONFIG, submit_online
from tests.web.test_api_fuzz import FUZZER, ensure_fuzzer
from web.app import create_app

# Field names the forms read, so generated requests reach the parsing code, plus arbitrary ones.
NAMES = (
    "decision", "reason", "new_due_date", "new_due_time", "unit_at_fault", "version", "origin",
    "procedure_id", "channel", "applicant_name", "applicant_type", "applicant_phone", "applicant_email",
    "code", "secret", "score", "comment", "day", "kind", "note", "document_code", "username", "year",
    "from", "to", "amount", "unit", "found", "register_ref", "copies", "bulk", "approved", "method",
    "returned_to", "checked_documents", "at", "period", "cutoff_day", "format",
)  # fmt: skip
SKIP = {"/login", "/logout"}  # they would end the fuzzer's own session
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1e309", "nan", "true", "2026-02-30", "25:61", "accept", "refuse"]),
)
FIELD_NAMES = st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=12))
FORMS = st.dictionaries(FIELD_NAMES, VALUES, max_size=8)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _fuzz(client: Any, url: str, token: str | None) -> str | None:
    """Post generated forms to one URL (``token`` given) or GET it with generated query strings;
    the first server error found, if any."""

    @given(form=FORMS)
    @settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(form: dict[str, Any]) -> None:
        if token is None:
            response = client.get(url, query_string=form)
        else:
            response = client.post(url, data={**form, "csrf_token": token})
        assert response.status_code < 500, (url, form, response.status_code)

    try:
        check()
    except AssertionError as exc:
        return str(exc)
    return None


def throwaway_account(engine: Engine) -> str:
    name = f"fuzz-{uuid.uuid4().hex[:8]}"
    engine.create_account(
        name, "Tài khoản thử", ["specialist"], engine.actor("system"), password=TEST_PASSWORD
    )
    return name


def test_no_generated_form_gets_a_server_error(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    ensure_fuzzer(engine)
    case = submit_online(engine, "Hoàng Thị Thử")
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    task = engine.list_tasks(case.code)[0]
    values = {
        "code": case.code,
        "task_id": task.task_id,
        "document_id": "1",
        "number": "01",
        "procedure_id": "diploma_copy",
        "incident_id": "1",
        "digitised_id": "1",
        # Account pages act on a throw-away account: the fuzzer holds the admin role and would
        # otherwise deactivate or reset a shared test user.
        "username": throwaway_account(engine),
        "token": "no-such-token",
    }
    app = create_app(engine, dict(TEST_CONFIG))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"csrf_token": token, "username": FUZZER, "password": TEST_PASSWORD})
    token = TOKEN.search(client.get("/desk/intake").get_data(as_text=True)).group(1)  # type: ignore[union-attr]

    failures: list[str] = []
    routes = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/") or rule.rule in SKIP:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{arg}>", values[arg], url)
        methods = {"GET", "POST"} & set(rule.methods or ())
        if rule.rule.endswith(".pdf"):
            methods.discard("GET")  # the same template as the HTML page, printed by Chromium: slow
        for method in sorted(methods):
            routes += 1
            failure = _fuzz(client, url, token if method == "POST" else None)
            if failure:
                failures.append(failure)
    assert routes >= 50
    assert failures == []
