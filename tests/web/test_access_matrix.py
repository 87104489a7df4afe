"""The access matrix: every route × every role × own/other unit, on the real library's units.

Every route of the app must have an entry in ``ROUTES`` (a new route without one fails
``test_every_route_has_an_entry``). Each entry says what decides access beyond the route's declared
roles: nothing (``plain``), the dossier policy (``dossier``), the step policy (``step``), or the
unit queue (``queue``). The expectations below are written from issue 16's rules, not read from
``engine.access``: a denied request answers 403 with a Vietnamese message and changes nothing.

The dossier under test is a "thành lập trung tâm ngoại ngữ" dossier after receipt: its open steps
are the specialists' appraisal (Phòng Giáo dục trung học - GDTX) and the coordinating appraisal
(Phòng Kế hoạch - Tài chính), each claimed by an account of its unit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.calendar import WorkingCalendar
from engine.clock import FixedClock
from engine.db import Database
from engine.models import Case, CaseEvent, DossierDocument, User, WorkItem
from engine.service import Engine
from engine.settings import EngineSettings
from engine.users import create_user
from tests.support.fixtures import LIBRARY_DIR, TEST_PASSWORD, vn
from tests.web.conftest import TEST_CONFIG, Client
from web.app import create_app
from web.security import ACCESS_ATTR

GD = "Phòng Giáo dục trung học - Giáo dục thường xuyên"
QLCL = "Phòng Quản lý chất lượng"
KHTC = "Phòng Kế hoạch - Tài chính"
TCCB = "Phòng Tổ chức cán bộ"
DESK = "Bộ phận một cửa"

#: role → (unit of the dossier's step for that role, an unrelated unit)
UNITS: dict[str, tuple[str | None, str | None]] = {
    "desk_clerk": (DESK, TCCB),
    "specialist": (GD, QLCL),
    "head_of_department": (GD, QLCL),
    "director": ("Ban Giám đốc", QLCL),
    "other_department": (KHTC, TCCB),
    "auditor": (None, "Thanh tra Sở"),
    "designer": (None, TCCB),
    "admin": (None, TCCB),
}
ACCOUNTS = {
    f"{role}_{side}": (role, units[i])
    for role, units in UNITS.items()
    for i, side in enumerate(("own", "other"))
}

PLAIN, DOSSIER, STEP, QUEUE, PUBLIC = "plain", "dossier", "step", "queue", "public"
#: (method, rule) → what decides beyond the declared roles.
ROUTES: dict[tuple[str, str], str] = {
    **{
        ("GET", r): PUBLIC
        for r in (
            "/",
            "/favicon.ico",
            "/public/procedures/<procedure_id>",
            "/public/submitted",
            "/public/feedback/answers",
            "/public/feedback/filed",
            "/api/csrf",
            "/api/openapi.json",
            "/api/procedures",
            "/api/public/feedback/answers",
            # A citizen signed in with the national identity (OIDC) sees the dossiers under their CCCD.
            "/public/my",
            "/public/my/<code>",
            "/public/signin",
            "/public/signin/callback",
            "/api/public/my/cases",
            "/api/public/my/cases/<code>",
        )
    },
    ("POST", "/public/signout"): PUBLIC,
    **{
        (m, r): PUBLIC
        for m in ("GET", "POST")
        for r in (
            "/login",
            "/account/reset/<token>",
            "/public/lookup",
            "/public/feedback",
            "/public/feedback/lookup",
            "/public/procedures/<procedure_id>/submit",
        )
    },
    **{
        ("POST", r): PUBLIC
        for r in (
            "/public/rate",
            "/public/supplement",
            "/public/withdraw",
            "/public/feedback/rate",
            "/api/login",
            "/api/lookup",
            "/api/public/cases",
            "/api/public/feedback",
            "/api/public/feedback/rate",
            "/api/public/feedback/status",
            "/api/public/withdrawal",
            "/api/ratings",
            # Digital one-stop: the result download (code + secret), the portal's signed identity,
            # the payment gateway's HMAC-signed callback.
            "/public/result",
            "/api/public/results",
            "/api/public/results/download",
            "/api/public/reuse-offers",
            "/api/payments/callback",
        )
    },
    ("GET", "/account/password"): PLAIN,
    ("POST", "/account/password"): PLAIN,
    ("POST", "/api/account/password"): PLAIN,
    ("POST", "/logout"): PLAIN,
    ("POST", "/api/logout"): PLAIN,
    ("GET", "/api/me"): PLAIN,
    **{
        ("GET", r): PLAIN
        for r in (
            "/admin/",
            "/admin/calendar",
            "/admin/incidents",
            "/admin/targets",
            "/admin/users",
            "/admin/users/<username>",
            "/api/admin/account-events",
            "/api/admin/calendar/overrides",
            "/api/admin/incidents",
            "/api/admin/targets",
            "/api/admin/users",
            "/api/admin/users/<username>",
            "/api/board",
            "/api/desk/queue",
            "/api/digitised/search",
            "/api/feedback",
            "/api/feedback/indicators",
            "/api/reports/index766",
            "/api/reports/periodic",
            "/api/reports/register",
            "/auditor/",
            "/auditor/reports",
            "/auditor/reports/index766",
            "/auditor/reports/periodic",
            "/auditor/reports/register",
            "/board/",
            "/cases/",
            "/designer/",
            "/designer/<procedure_id>/download",
            "/designer/<procedure_id>/draft",
            "/designer/<procedure_id>/edit",
            "/designer/<procedure_id>/source",
            "/desk/",
            "/desk/intake",
            "/digitised/search",
            "/feedback",
            "/feedback/<code>",
        )
    },
    **{
        ("POST", r): PLAIN
        for r in (
            "/admin/calendar/overrides",
            "/admin/incidents/<incident_id>/retry",
            "/admin/targets",
            "/admin/users",
            "/admin/users/<username>/active",
            "/admin/users/<username>/reset",
            "/admin/users/<username>/roles",
            "/admin/users/<username>/unit",
            "/api/admin/calendar/overrides",
            "/api/admin/incidents/<incident_id>/retry",
            "/api/admin/targets",
            "/api/admin/users",
            "/api/admin/users/<username>/active",
            "/api/admin/users/<username>/reset",
            "/api/admin/users/<username>/roles",
            "/api/admin/users/<username>/unit",
            "/api/cases",
            "/api/designer/import-assist",
            "/api/feedback/<code>/answer",
            "/api/feedback/<code>/assign",
            "/api/feedback/<code>/publish",
            "/auditor/verify",
            "/designer/<procedure_id>/deploy",
            "/designer/<procedure_id>/draft",
            "/designer/<procedure_id>/draft/discard",
            "/designer/<procedure_id>/validate",
            "/desk/intake",
            "/feedback/<code>/answer",
            "/feedback/<code>/assign",
            "/feedback/<code>/publish",
        )
    },
    **{
        ("GET", r): DOSSIER
        for r in (
            "/api/cases/<code>",
            "/api/cases/<code>/digitised",
            "/api/cases/<code>/documents",
            "/api/cases/<code>/events",
            "/api/cases/<code>/identity",
            "/api/cases/<code>/reuse-offers",
            "/api/cases/<code>/tasks",
            "/auditor/cases/<code>",
            "/auditor/cases/<code>/control-sheet",
            "/auditor/cases/<code>/diagram.bpmn",
            "/auditor/cases/<code>/state",
            "/cases/<code>",
            "/cases/<code>/apology",
            "/cases/<code>/control-sheet",
            "/cases/<code>/control-sheet.pdf",
            "/cases/<code>/digital",
            "/cases/<code>/digitised/<int:digitised_id>",
            "/cases/<code>/documents/<int:document_id>",
            "/cases/<code>/forms/<number>",
            "/cases/<code>/forms/<number>.pdf",
            "/desk/receipt/<code>",
        )
    },
    **{
        ("POST", r): DOSSIER
        for r in (
            "/api/cases/<code>/apology",
            "/api/cases/<code>/digitised",
            "/api/cases/<code>/documents",
            "/api/cases/<code>/identity",
            "/api/cases/<code>/identity/override",
            "/api/cases/<code>/payments/cash",
            "/api/cases/<code>/reuse",
            "/api/cases/<code>/secret",
            "/api/cases/<code>/withdrawal",
            "/api/cases/<code>/withdrawal/confirm",
            "/api/cases/<code>/supplement-approval",
            "/cases/<code>/supplement-approval",
            "/cases/<code>/apology",
            "/cases/<code>/digitise",
            "/cases/<code>/documents",
            "/cases/<code>/identity",
            "/cases/<code>/identity/override",
            "/cases/<code>/payments/cash",
            "/cases/<code>/reuse",
            "/cases/<code>/secret",
            "/cases/<code>/withdrawal",
            "/cases/<code>/withdrawal/confirm",
        )
    },
    **{
        ("POST", r): STEP
        for r in (
            "/api/cases/<code>/tasks/<task_id>/complete",
            "/cases/<code>/tasks/<task_id>",
            "/api/tasks/<task_id>/claim",
            "/api/tasks/<task_id>/reassign",
            "/api/tasks/<task_id>/release",
            "/tasks/<task_id>/claim",
            "/tasks/<task_id>/reassign",
            "/tasks/<task_id>/release",
        )
    },
    ("GET", "/tasks/"): QUEUE,
    ("GET", "/api/tasks"): QUEUE,
}

READ_ALL = {"desk_clerk", "head_of_department", "director", "auditor"}
CHANGE_ALL = {"desk_clerk", "director"}
BY_UNIT = {"specialist", "head_of_department", "other_department"}


def dossier_allowed(role: str, own: bool, method: str) -> bool:
    """Issue 16: the desk, heads, director and auditors read every dossier; the units it was sent to
    read it; only the desk, the director and the units it was sent to change it."""
    if method == "GET":
        return role in READ_ALL or (role in BY_UNIT and own)
    return role in CHANGE_ALL or (role in BY_UNIT and own)


def step_allowed(role: str, own: bool, rule: str, holder: bool) -> bool:
    """Claim and complete: the step's holder (its role, its unit); release: the holder or a leader of the
    step's unit (the director: any); reassign: a leader of the step's unit."""
    if rule.endswith("/release"):
        return holder or (role == "head_of_department" and own) or role == "director"
    if rule.endswith("/reassign"):
        return (role == "head_of_department" and own) or role == "director"
    return holder


@pytest.fixture(scope="module")
def matrix_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database with the real library (its real units) and one account per role and unit."""
    url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'motcua.sqlite3'}"
    clock = FixedClock(vn(2026, 3, 2, 9, 0))
    engine = Engine(
        Database(url),
        clock=clock,
        calendar=WorkingCalendar(),
        settings=EngineSettings(library_dir=LIBRARY_DIR),
    )
    engine.init_db(load_library=True, seed_users=False)
    with engine.db.unit_of_work() as session:
        for username, (role, unit) in ACCOUNTS.items():
            create_user(session, username, f"Tài khoản {username}", [role], TEST_PASSWORD, unit)
    yield engine
    engine.db.dispose()


@pytest.fixture(scope="module")
def dossier(matrix_engine: Engine) -> dict[str, str]:
    engine = matrix_engine
    case = engine.start_case(
        {
            "procedure_id": "language_centre_establishment",
            "applicant": {"name": "Trung tâm Ánh Dương", "phone": "0901234567"},
            "channel": 2,
        },
        engine.actor("citizen"),
    )
    accept = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
    engine.complete_work_item(case.code, "receipt_check", accept, engine.actor("desk_clerk_own"))
    tasks = {t.element_id: t.task_id for t in engine.get_case(case.code).tasks}
    return {
        "code": case.code,
        "appraise": tasks["appraise_dossier"],
        "interdept": tasks["interdept_appraisal"],
    }


def _claim_again(engine: Engine, dossier: dict[str, str]) -> None:
    """Each step request starts from the same holders (an allowed release or reassign moved them)."""
    holders = {"appraise": "specialist_own", "interdept": "other_department_own"}
    for key, username in holders.items():
        task = next(t for t in engine.get_case(dossier["code"]).tasks if t.task_id == dossier[key])
        if task.assignee != username:
            if task.assignee is not None:
                engine.release_task(task.task_id, engine.actor("director_own"))
            engine.claim_task(task.task_id, engine.actor(username))


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    with engine.db.read() as session:
        return (
            tuple(session.execute(select(Case.code, Case.last_seq, Case.status).order_by(Case.id)).all()),
            session.scalar(select(func.count()).select_from(CaseEvent)),
            session.scalar(select(func.count()).select_from(DossierDocument)),
            tuple(session.execute(select(WorkItem.task_id, WorkItem.assignee).order_by(WorkItem.id)).all()),
            tuple(session.execute(select(User.username, User.roles, User.unit, User.active)).all()),
        )


def _routes(app: Flask) -> dict[tuple[str, str], Any]:
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found[(method, str(rule.rule))] = rule
    return found


def _url(rule: str, dossier: dict[str, str], task_key: str) -> str:
    values = {
        "code": dossier["code"],
        "task_id": dossier[task_key],
        "document_id": "999999",
        "digitised_id": "999999",
        "number": "01",
        "procedure_id": "khong_co",
        "incident_id": "999999",
        "token": "khong-co",
        "username": "khong_co",
    }
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


def _call(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    if url.startswith("/api/"):
        return client.api(method, url, json=body if method == "POST" else None)
    return client.post(url, body) if method == "POST" else client.get(url)


def test_every_route_has_an_entry(matrix_engine: Engine) -> None:
    app = create_app(matrix_engine, dict(TEST_CONFIG))
    routes = set(_routes(app))
    assert sorted(routes - set(ROUTES)) == [], "new route: add it to the access matrix"
    assert sorted(set(ROUTES) - routes) == [], "route gone: remove it from the access matrix"


def test_access_matrix(matrix_engine: Engine, dossier: dict[str, str]) -> None:
    engine = matrix_engine
    app = create_app(engine, dict(TEST_CONFIG))
    clients = {name: Client(app).login(name) for name in ACCOUNTS}
    checked = denied = 0
    rules = _routes(app)
    for (method, rule), kind in sorted(ROUTES.items()):
        declared = getattr(app.view_functions[rules[(method, rule)].endpoint], ACCESS_ATTR)
        if kind == PUBLIC or rule in ("/logout", "/api/logout"):
            continue  # nothing of a dossier; anonymous access is test_security's
        for name, (role, _unit) in ACCOUNTS.items():
            own = name.endswith("_own")
            task_key = "interdept" if role == "other_department" else "appraise"
            holder = name == {"interdept": "other_department_own", "appraise": "specialist_own"}[task_key]
            may = not declared or role in declared
            if may and kind == DOSSIER:
                may = dossier_allowed(role, own, method)
            elif may and kind == STEP:
                may = dossier_allowed(role, own, "POST") if "/cases/" in rule else True
                may = may and step_allowed(role, own, rule, holder)
            if kind == STEP:
                _claim_again(engine, dossier)
            body = {"username": "specialist_own"} if rule.endswith("/reassign") else {}
            before = _snapshot(engine)
            response = _call(clients[name], method, _url(rule, dossier, task_key), body)
            text = (
                json.dumps(response.get_json(), ensure_ascii=False)
                if response.is_json
                else response.get_data().decode("utf-8", "replace")
            )
            where = (name, method, rule, response.status_code, text[:300])
            if may:
                assert response.status_code not in (401, 403), where
                if kind == QUEUE:
                    sees = role in ("specialist", "other_department") and own
                    assert (dossier["code"] in text) == sees, where
            else:
                denied += 1
                assert response.status_code == 403, where
                assert re.search(r"[ạảãáàâầấậẩẫăằắặẳẵđêềếệểễôồốộổỗơờớợởỡưừứựửữ]", text.lower()), where
                assert _snapshot(engine) == before, where
            checked += 1
    assert checked > 800 and denied > 300
