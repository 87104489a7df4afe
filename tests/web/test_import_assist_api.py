"""The import assistant over the JSON API (designers only): the engine function the designer page
and ``run.py import-assist`` call, documented in /api/openapi.json; it stores nothing."""

from __future__ import annotations

from typing import Any

from engine.importer import assess
from engine.service import Engine
from tests.engine.helpers import FIXTURES
from tests.web.conftest import Client
from tests.web.test_api import staff

FOREIGN = (FIXTURES / "compat" / "foreign_leave.bpmn").read_text(encoding="utf-8")
URL = "/api/designer/import-assist"


def test_the_report_proposes_in_xml_names_and_the_confirmed_copy_deploys(engine: Engine, app: Any) -> None:
    designer = staff(Client(app), "designer")
    first = designer.api(
        "POST", URL, {"xml": FOREIGN, "source": "leave.bpmn", "procedure_id": "annual_leave"}
    )
    assert first.status_code == 200, first.get_json()
    report = first.get_json()
    assert report["deployable"] is True and report["process_id"] == "annual_leave"
    attributes = {f["attribute"] for f in report["findings"]}
    assert {"legalTime", "motcua:step role", "motcua:step hours", "motcua:status code", "id"} <= attributes
    assert not any("_" in (f["attribute"] or "") for f in report["findings"])
    # The same engine function as the CLI (which calls engine.importer.assess directly).
    same = assess("leave.bpmn", FOREIGN.encode(), procedure_id="annual_leave").as_dict()
    assert report == same

    choices = {
        "procedure": {"code": "2.0002", "name": "Nghỉ phép"},
        "steps": {"approve": {"role": "director", "hours": 6}},
    }
    second = designer.api(
        "POST",
        URL,
        {"xml": FOREIGN, "source": "leave.bpmn", "procedure_id": "annual_leave", "choices": choices},
    )
    confirmed = second.get_json()
    assert second.status_code == 200 and confirmed["deployable"]
    assert confirmed["procedure"]["code"] == "2.0002" and confirmed["process_name"] == "Nghỉ phép"
    assert [s["hours"] for s in confirmed["steps"] if s["element_id"] == "approve"] == [6.0]
    assert "annual_leave" not in {p.procedure_id for p in engine.list_procedures()}  # nothing stored
    view = engine.deploy("annual_leave.bpmn", confirmed["prepared"].encode(), {}, engine.actor("designer"))
    assert view.meta["code"] == "2.0002"


def test_only_designers_and_bad_input_is_a_vietnamese_4xx(engine: Engine, app: Any) -> None:
    assert Client(app).api("POST", URL, {"xml": FOREIGN}).status_code == 401
    clerk = staff(Client(app), "clerk")
    assert clerk.api("POST", URL, {"xml": FOREIGN}).status_code == 403
    designer = staff(Client(app), "designer")
    missing = designer.api("POST", URL, {"source": "x.bpmn"})
    assert missing.status_code == 422 and missing.get_json()["error"] == "validation_error"
    extra = designer.api("POST", URL, {"xml": FOREIGN, "choices": {"steps": {"approve": {"hours": -1}}}})
    assert extra.status_code == 422
    # A broken file is a report with reasons, not an error: the assistant never crashes.
    broken = designer.api("POST", URL, {"xml": "<definitions/>"})
    assert broken.status_code == 200
    assert broken.get_json()["deployable"] is False and broken.get_json()["problems"]


def test_documented_in_openapi(app: Any) -> None:
    doc = Client(app).get("/api/openapi.json").get_json()
    op = doc["paths"][URL]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ImportAssistRequest")
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ImportReportOut"
    )
    schemas = doc["components"]["schemas"]
    assert {"ImportAssistRequest", "ImportReportOut", "ImportChoicesIn", "ImportStepChoice"} <= set(schemas)
