"""Every procedure of the library can be submitted online, received, and its first processing step's
form rendered and refused-when-empty through the web — the pages are generic over the BPMN."""

from __future__ import annotations

import io
from typing import Any

import pytest

from engine.service import Engine
from tests.support.fixtures import TEST_USERS
from tests.web.conftest import Client

ROLE_USER = {roles[0]: name for name, roles in TEST_USERS.items()}


def submission_fields(procedure: Any) -> dict[str, str]:
    """A value for each required field of the procedure's own submission form, from its schema."""
    form = procedure.submission_form or {}
    values: dict[str, str] = {}
    for name in form.get("required", []):
        spec = form["properties"][name]
        if "enum" in spec:
            values[name] = str(spec["enum"][0])
        elif spec.get("type") in ("integer", "number"):
            values[name] = str(spec.get("minimum", 1))
        else:
            values[name] = "Thử nghiệm"
    return values


def component_files(procedure: Any) -> dict[str, Any]:
    return {
        f"doc_{d['code']}": (io.BytesIO(b"%PDF-1.4 thu"), f"{d['code']}.pdf")
        for d in procedure.meta["documents"]
        if d.get("required", True)
    }


@pytest.fixture
def procedures(sqlite_engine: Engine) -> list[Any]:
    return sqlite_engine.list_procedures()


def test_each_library_procedure_works_through_the_pages(sqlite_engine: Engine, procedures: list[Any]) -> None:
    from tests.web.conftest import TEST_CONFIG
    from web.app import create_app

    app = create_app(sqlite_engine, dict(TEST_CONFIG))
    assert len(procedures) >= 5
    clerk = Client(app).login("clerk")
    for procedure in procedures:
        citizen = Client(app)
        page = citizen.get(f"/public/procedures/{procedure.procedure_id}/submit")
        assert page.status_code == 200 and procedure.name in page.get_data(as_text=True)
        refused = citizen.post(
            f"/public/procedures/{procedure.procedure_id}/submit", {"applicant_name": "Thử nghiệm"}
        )
        assert refused.status_code == 422  # required components missing: nothing is created
        sent = citizen.post(
            f"/public/procedures/{procedure.procedure_id}/submit",
            {"applicant_name": "Thử nghiệm", **submission_fields(procedure), **component_files(procedure)},
            content_type="multipart/form-data",
        )
        assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
        code = (
            citizen.get("/public/submitted").get_data(as_text=True).split('id="case-code">')[1].split("<")[0]
        )
        case = sqlite_engine.get_case(code)
        required = [d["code"] for d in procedure.meta["documents"] if d.get("required", True)]
        done = clerk.post(
            f"/cases/{code}/tasks/{case.tasks[0].task_id}",
            {"decision": "accept", "checked_documents": required, "origin": "receipt"},
        )
        assert done.status_code == 302, (procedure.procedure_id, done.get_data(as_text=True)[:300])
        case = sqlite_engine.get_case(code)
        staff_tasks = [t for t in case.tasks if t.role in ROLE_USER]
        for task in staff_tasks:
            worker = Client(app).login(ROLE_USER[task.role])  # type: ignore[index]
            html = worker.get(f"/cases/{code}").get_data(as_text=True)
            assert 'id="task-form"' in html, (procedure.procedure_id, task.element_id)
            for name in (task.form or {}).get("properties", {}):
                assert f'name="{name}"' in html, (procedure.procedure_id, task.element_id, name)
            required_fields = (task.form or {}).get("required", [])
            if required_fields:
                empty = worker.post(f"/cases/{code}/tasks/{task.task_id}", {})
                assert empty.status_code == 422, (procedure.procedure_id, task.element_id)
