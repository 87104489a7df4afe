"""The import assistant and one-round validation of foreign diagrams; errors that name the element;
size limits for very long chains."""

from __future__ import annotations

import pytest

from engine.designer import validate_upload
from engine.errors import Forbidden, ProcedureError, SandboxError
from engine.importer import NO_CHOICES, ImportChoices, StepChoice, assess, role_for_lane
from engine.lint import MAX_FLOW_NODES
from engine.service import Engine
from tests.engine.helpers import FIXTURES
from tests.engine.test_sandbox_pool import APPLICANT, case_count, deploy

FOREIGN = (FIXTURES / "compat" / "foreign_leave.bpmn").read_bytes()


def test_validation_lists_every_missing_piece_in_one_round_with_xml_names() -> None:
    report = validate_upload("leave.bpmn", FOREIGN, {})
    text = " | ".join(i.message for i in report.errors)
    assert "motcua:procedure" in text
    for attribute in ("legalTime", "legalUnit", "onlineLevel", "resultType", "field", "code"):
        assert f"thuộc tính {attribute})" in text
    assert {"receive", "approve"} <= {i.element_id for i in report.errors}
    assert "legal_time" not in text and "online_level" not in text


def test_metadata_errors_use_xml_attribute_names(engine: Engine) -> None:
    text = FOREIGN.replace(
        b'isExecutable="false">',
        b'isExecutable="true"><extensionElements><m:procedure xmlns:m="urn:motcua:bpmn:1" code="1" '
        b'field="x" legalUnit="working_days" onlineLevel="full" resultType="paper"/></extensionElements>',
    )
    report = validate_upload("leave.bpmn", text, {})
    assert any("legalTime" in i.message for i in report.errors)
    assert not any("legal_time" in i.message for i in report.issues)


def test_assistant_reports_defaults_and_prepares_a_deployable_copy(engine: Engine) -> None:
    report = assess("leave.bpmn", FOREIGN)
    assert report.process_id == "leave_request"
    assert report.deployable, report.problems
    steps = {s.element_id: (s.role, s.hours, s.proposed) for s in report.steps}
    assert steps == {"receive": ("desk_clerk", 4.0, True), "approve": ("director", 4.0, True)}
    attributes = {f.attribute for f in report.findings}
    assert {"legalTime", "motcua:step role", "motcua:step hours", "isExecutable", "default"} <= attributes
    assert report.procedure["legalTime"] == "1"
    assert report.prepared is not None
    view = engine.deploy("leave_request.bpmn", report.prepared, {}, engine.actor("designer"))
    assert view.procedure_id == "leave_request"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"not xml at all", "XML"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', "DTD"),
        (b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>', "không có quy trình"),
    ],
)
def test_assistant_never_raises_on_bad_files(data: bytes, fragment: str) -> None:
    report = assess("bad.bpmn", data)
    assert not report.deployable and any(fragment in p for p in report.problems), report.problems


@pytest.mark.parametrize(
    ("lane", "role"),
    [
        ("Bộ phận Một cửa", "desk_clerk"),
        ("Trưởng phòng", "head_of_department"),
        ("Công dân", "citizen"),
        ("Customer", "citizen"),
        ("Kế toán", "specialist"),
        (None, "specialist"),
    ],
)
def test_roles_from_lane_names(lane: str | None, role: str) -> None:
    assert role_for_lane(lane) == role


def _chain(n: int) -> bytes:
    nodes = "".join(f'<scriptTask id="t{i}"><script>x = {i}</script></scriptTask>' for i in range(n))
    flows = "".join(
        f'<sequenceFlow id="f{i}" sourceRef="{"start" if i == 0 else f"t{i - 1}"}" targetRef="t{i}"/>'
        for i in range(n)
    )
    return (
        '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:m="urn:motcua:bpmn:1" '
        'id="d" targetNamespace="x"><process id="chain" name="Chuỗi" isExecutable="true"><extensionElements>'
        '<m:procedure code="1" field="x" legalTime="1" legalUnit="working_days" onlineLevel="full" '
        f'resultType="paper"/></extensionElements><startEvent id="start"/>{nodes}<endEvent id="end"/>'
        f'{flows}<sequenceFlow id="last" sourceRef="t{n - 1}" targetRef="end"/></process></definitions>'
    ).encode()


def test_a_3000_task_chain_is_refused_with_a_size_message() -> None:
    report = validate_upload("chain.bpmn", _chain(3000), {})
    assert not report.ok
    messages = [i.message for i in report.errors]
    assert any(f"tối đa {MAX_FLOW_NODES}" in m for m in messages), messages
    assert not any("Recursion" in m for m in messages)


def test_a_chain_at_the_limit_deploys_and_runs(engine: Engine) -> None:
    n = MAX_FLOW_NODES - 2  # plus the start and end events
    assert validate_upload("chain.bpmn", _chain(n), {}).ok
    engine.deploy("chain.bpmn", _chain(n), {}, engine.actor("designer"))
    case = engine.start_case({"procedure_id": "chain", "applicant": APPLICANT}, engine.actor("clerk"))
    assert case.completed


def test_run_time_python_errors_name_the_element(engine: Engine) -> None:
    deploy(engine, BEFORE_SCRIPT="y = undefined_name + 1")
    with pytest.raises(ProcedureError) as caught:
        engine.start_case({"procedure_id": "payloads", "applicant": APPLICANT}, engine.actor("clerk"))
    assert caught.value.message == (
        "Quy trình gặp lỗi khi chạy tại phần tử 'Tính trước' (before): "
        "chưa có biến 'undefined_name' trong dữ liệu hồ sơ"
    )
    assert caught.value.details["element_id"] == "before"
    assert "is not defined" in caught.value.details["detail"]  # the technical text, kept aside
    assert case_count(engine.db) == 0


def test_business_time_functions_refuse_absurd_spans(engine: Engine) -> None:
    deploy(engine, BEFORE_SCRIPT="due = working_hours(10 ** 9)")
    with pytest.raises(SandboxError, match="10 năm"):
        engine.start_case({"procedure_id": "payloads", "applicant": APPLICANT}, engine.actor("clerk"))
    assert case_count(engine.db) == 0


def test_designer_choices_replace_the_proposals_and_the_process_takes_the_procedure_id(
    engine: Engine,
) -> None:
    choices = ImportChoices(
        procedure={"code": "1.0001", "legalTime": "3", "name": "Nghỉ phép năm"},
        steps={"approve": StepChoice(role="head_of_department", hours=2.5, status=9)},
    )
    report = assess("leave.bpmn", FOREIGN, procedure_id="annual_leave", choices=choices)
    assert report.deployable, report.problems
    assert (report.process_id, report.process_name) == ("annual_leave", "Nghỉ phép năm")
    assert report.procedure["code"] == "1.0001" and report.procedure["legalTime"] == "3"
    steps = {s.element_id: (s.role, s.hours, s.status) for s in report.steps}
    assert steps == {"receive": ("desk_clerk", 4.0, 4), "approve": ("head_of_department", 2.5, 9)}
    renamed = [f for f in report.findings if f.attribute == "id"]
    assert renamed and "leave_request" in renamed[0].message and renamed[0].kind == "changed"
    assert report.prepared is not None
    view = engine.deploy("annual_leave.bpmn", report.prepared, {}, engine.actor("designer"))
    assert view.procedure_id == "annual_leave"
    [approve] = [s for s in view.steps if s["element_id"] == "approve"]
    assert (approve["role"], approve["hours"]) == ("head_of_department", 2.5)


@pytest.mark.parametrize(
    ("procedure_id", "choices", "fragment"),
    [
        ("1 bad id", NO_CHOICES, "không dùng được làm mã quy trình"),
        ("receive", NO_CHOICES, "đã có phần tử mang mã 'receive'"),
        (None, ImportChoices(procedure={"legal_time": "3"}), "không có thuộc tính 'legal_time'"),
    ],
)
def test_choices_the_assistant_cannot_apply_are_reasons_not_crashes(
    procedure_id: str | None, choices: ImportChoices, fragment: str
) -> None:
    report = assess("leave.bpmn", FOREIGN, procedure_id=procedure_id, choices=choices)
    assert not report.deployable and report.prepared is None
    assert any(fragment in p for p in report.problems), report.problems


def test_the_engine_service_checks_the_designer_role(engine: Engine) -> None:
    with pytest.raises(Forbidden):
        engine.import_assist("leave.bpmn", FOREIGN, engine.actor("clerk"))
    report = engine.import_assist("leave.bpmn", FOREIGN, engine.actor("designer"))
    assert report.deployable
