"""Every procedure of the library can be submitted online, received, and its first processing step's
form rendered and refused-when-empty through the web — the pages are generic over the BPMN."""

from __future__ import annotations

from typing import Any

import pytest

from engine.service import Engine
from tests.support.fixtures import TEST_USERS
from tests.web.conftest import Client

ROLE_USER = {roles[0]: name for name, roles in TEST_USERS.items()}


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
        sent = citizen.post(
            f"/public/procedures/{procedure.procedure_id}/submit", {"applicant_name": "Thử nghiệm"}
        )
        assert sent.status_code == 302
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
