"""The procedure library in ``bpmn/`` loads, lints clean, and runs in plain SpiffWorkflow.

These tests pin the contract the runtime relies on (element ids, form fields, statuses, call
activities, parallel joins) without the runtime itself, so a modelling mistake shows up here first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.definitions import ProcedureBundle, load_library
from engine.lint import lint_bundle, processing_hours

LIBRARY = Path(__file__).resolve().parents[2] / "bpmn"
PROCEDURES = [
    "diploma_copy",
    "language_centre_establishment",
    "language_centre_operation",
    "national_standard_school",
    "student_transfer",
]

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}

RECEIVED = {"decision": "accept", "checked_documents": ["TP1"]}
RETURNED = {"returned_to": "Nguyễn Văn An", "method": "in_person"}
HEAD_OK = {"approved": True}


@pytest.fixture(scope="module")
def library() -> dict[str, ProcedureBundle]:
    return {bundle.meta.id: bundle for bundle in load_library(LIBRARY)}


def specs(bundle: ProcedureBundle, parser: BpmnParser | None = None) -> tuple[Any, dict[str, Any]]:
    parser = parser or BpmnParser()
    for name, data in bundle.files.items():
        parser.add_bpmn_xml(etree.ElementTree(etree.fromstring(data)), filename=name)
    return parser.get_spec(bundle.meta.id), parser.get_subprocess_specs(bundle.meta.id)


def timer_engine(due: datetime) -> PythonScriptEngine:
    """Stand-in for the runtime's business-time functions: every deadline falls at ``due``."""

    def deadline(_amount: float) -> str:
        return due.isoformat()

    return PythonScriptEngine(
        environment=TaskDataEnvironment({"working_days": deadline, "working_hours": deadline})
    )


def run(
    bundle: ProcedureBundle,
    answers: Mapping[str, dict[str, Any] | list[dict[str, Any]]],
    *,
    script_engine: PythonScriptEngine | None = None,
) -> tuple[BpmnWorkflow, list[str]]:
    """Complete READY user tasks with ``answers[element id]`` (a list: one answer per visit).

    Every answer is validated against the task's form first, so the forms and the gateways'
    expectations cannot drift apart.
    """
    spec, subprocess_specs = specs(bundle)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)
    queues = {key: list(value) if isinstance(value, list) else [value] for key, value in answers.items()}
    done: list[str] = []
    workflow.do_engine_steps()
    for _ in range(100):
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        for task in ready:
            element_id = task.task_spec.bpmn_id
            assert queues.get(element_id), f"no answer left for {element_id}"
            answer = queues[element_id].pop(0)
            form = bundle.elements[element_id].form
            assert form is not None
            jsonschema.Draft202012Validator(form).validate(answer)
            task.data.update(answer)
            task.run()
            done.append(element_id)
        workflow.do_engine_steps()
    return workflow, done


def statuses_reached(bundle: ProcedureBundle, workflow: BpmnWorkflow) -> set[int]:
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks += list(sub.tasks.values())
    reached = set()
    for task in tasks:
        meta = bundle.elements.get(getattr(task.task_spec, "bpmn_id", None) or "")
        if meta is not None and meta.status is not None and task.state == TaskState.COMPLETED:
            reached.add(meta.status)
    return reached


# ------------------------------------------------------------------------------ library-wide


def test_library_holds_the_five_procedures(library: dict[str, ProcedureBundle]) -> None:
    assert sorted(library) == PROCEDURES
    for bundle in library.values():
        assert set(bundle.called) == {"shared_receipt", "shared_return"}
        assert set(bundle.files) == {f"{bundle.meta.id}.bpmn", "shared/receipt.bpmn", "shared/return.bpmn"}


@pytest.mark.parametrize("process_id", PROCEDURES)
def test_lints_without_errors(library: dict[str, ProcedureBundle], process_id: str) -> None:
    issues = lint_bundle(library[process_id])
    assert [i for i in issues if i.severity == "error"] == []
    assert issues == []  # warnings too: the shipped library is the modellers' example


@pytest.mark.parametrize("process_id", PROCEDURES)
def test_allocations_fit_the_legal_time(library: dict[str, ProcedureBundle], process_id: str) -> None:
    bundle = library[process_id]
    used, path = processing_hours(bundle)
    assert 0 < used <= bundle.meta.legal_hours()
    assert path


@pytest.mark.parametrize("process_id", PROCEDURES)
def test_valid_against_the_bpmn_schema(library: dict[str, ProcedureBundle], process_id: str) -> None:
    spec, subprocess_specs = specs(library[process_id], SpiffBpmnParser(validator=VALIDATOR))
    assert spec.name == process_id
    assert set(subprocess_specs) == {"shared_receipt", "shared_return"}


@pytest.mark.parametrize("process_id", PROCEDURES)
def test_user_tasks_are_fully_described(library: dict[str, ProcedureBundle], process_id: str) -> None:
    for meta in library[process_id].elements.values():
        if meta.type != "userTask":
            continue
        assert meta.lane and meta.role and meta.hours and meta.form, meta.id
        assert meta.form.get("title"), meta.id
        for name, field in meta.form["properties"].items():
            assert field.get("title"), f"{meta.id}.{name} has no title"
            if "enum" in field:
                assert len(field["x-labels"]) == len(field["enum"]), f"{meta.id}.{name}"


# ---------------------------------------------------------------------------------- diagrams


def _bounds(shape: Any) -> tuple[float, float, float, float]:
    b = shape.find("dc:Bounds", NS)
    return float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height"))


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _segment_hits(p: tuple[float, float], q: tuple[float, float], box: tuple[float, ...]) -> bool:
    """Does an axis-parallel segment cross the inside of a box (touching its border is fine)?"""
    x, y, w, h = box
    if p[1] == q[1]:
        lo, hi = sorted((p[0], q[0]))
        return y < p[1] < y + h and lo < x + w and hi > x
    lo, hi = sorted((p[1], q[1]))
    return x < p[0] < x + w and lo < y + h and hi > y


FILES = [*(f"{p}.bpmn" for p in PROCEDURES), "shared/receipt.bpmn", "shared/return.bpmn"]


@pytest.mark.parametrize("name", FILES)
def test_diagram_is_complete_and_tidy(name: str) -> None:
    root = etree.parse(str(LIBRARY / name)).getroot()
    shapes = {s.get("bpmnElement"): _bounds(s) for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    process = root.find("bpmn:process", NS)
    nodes = {
        n.get("id"): n
        for n in process
        if n.get("id") and etree.QName(n).localname not in {"laneSet", "sequenceFlow", "extensionElements"}
    }
    assert set(nodes) <= set(shapes), "every flow node has a shape"
    lanes = {lane.get("id"): lane for lane in process.iter(f"{{{NS['bpmn']}}}lane")}
    for lane_id, lane in lanes.items():
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            box, lane_box = shapes[ref.text], shapes[lane_id]
            assert lane_box[1] <= box[1] and box[1] + box[3] <= lane_box[1] + lane_box[3], ref.text
    assert {r.text for lane in lanes.values() for r in lane.findall("bpmn:flowNodeRef", NS)} == set(nodes)
    ids = list(nodes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if nodes[b].get("attachedToRef") == a or nodes[a].get("attachedToRef") == b:
                continue
            assert not _overlap(shapes[a], shapes[b]), f"{a} overlaps {b}"
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    for flow in process.findall("bpmn:sequenceFlow", NS):
        waypoints = edges[flow.get("id")].findall("di:waypoint", NS)
        points = [(float(p.get("x")), float(p.get("y"))) for p in waypoints]
        assert len(points) >= 2
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        for p, q in zip(points, points[1:], strict=False):
            assert p[0] == q[0] or p[1] == q[1], f"{flow.get('id')} is not orthogonal"
            for other in ids:
                if other not in ends and nodes[other].get("attachedToRef") not in ends:
                    assert not _segment_hits(p, q, shapes[other]), f"{flow.get('id')} crosses {other}"


# ------------------------------------------------------------------------------ diploma_copy

DIPLOMA_HAPPY = {
    "receipt_check": RECEIVED,
    "verify_register": {"found": True, "register_ref": "QĐ-123/2015, số vào sổ 456", "copies": 2},
    "approve_copy": {"approved": True},
    "return_result": RETURNED,
}


def test_diploma_copy_happy_path(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["diploma_copy"]
    workflow, done = run(bundle, DIPLOMA_HAPPY)
    assert workflow.is_completed()
    assert done == ["receipt_check", "verify_register", "approve_copy", "return_result"]
    assert statuses_reached(bundle, workflow) == {1, 2, 4, 9, 10}


def test_diploma_copy_rejection_goes_back_to_the_specialist(library: dict[str, ProcedureBundle]) -> None:
    answers: dict[str, Any] = dict(DIPLOMA_HAPPY)
    verified = DIPLOMA_HAPPY["verify_register"]
    answers["verify_register"] = [verified, {**verified, "copies": 1}]
    answers["approve_copy"] = [{"approved": False, "comment": "Ghi sai số bản"}, {"approved": True}]
    workflow, done = run(library["diploma_copy"], answers)
    assert workflow.is_completed()
    assert done.count("verify_register") == 2


def test_diploma_copy_not_in_register_is_refused(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["diploma_copy"]
    workflow, done = run(
        bundle,
        {
            "receipt_check": RECEIVED,
            "verify_register": {"found": False},
            "confirm_refusal": {"refusal_confirmed": True, "refusal_reason": "Không có tên trong sổ gốc"},
        },
    )
    assert workflow.is_completed()
    assert done[-1] == "confirm_refusal"
    assert statuses_reached(bundle, workflow) == {1, 2, 3, 4}


def test_refusal_at_the_desk_ends_the_case(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["diploma_copy"]
    refused = {"decision": "refuse", "reason": "Không thuộc thẩm quyền"}
    workflow, done = run(bundle, {"receipt_check": refused})
    assert workflow.is_completed() and done == ["receipt_check"]
    assert statuses_reached(bundle, workflow) == {1, 3}


def test_supplementation_at_the_desk_loops_back_to_receipt(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["diploma_copy"]
    answers: dict[str, Any] = dict(DIPLOMA_HAPPY)
    asked = {"decision": "supplement", "reason": "Thiếu đơn", "missing_documents": ["TP1"]}
    answers["receipt_check"] = [asked, RECEIVED]
    answers["receipt_supplement"] = {"supplemented_documents": ["TP1"]}
    far = datetime.now(UTC) + timedelta(days=30)
    workflow, done = run(bundle, answers, script_engine=timer_engine(far))
    assert workflow.is_completed()
    assert done[:3] == ["receipt_check", "receipt_supplement", "receipt_check"]
    assert 5 in statuses_reached(bundle, workflow)


def test_unanswered_supplementation_stops_the_case(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["diploma_copy"]
    past = datetime.now(UTC) - timedelta(minutes=1)
    workflow, done = run(
        bundle,
        {"receipt_check": {"decision": "supplement", "reason": "Thiếu đơn"}},
        script_engine=timer_engine(past),
    )
    assert workflow.is_completed() and done == ["receipt_check"]
    assert 8 in statuses_reached(bundle, workflow)


# --------------------------------------------------------------------------------- the others

DECIDED = {"decision_number": "123/QĐ-SGDĐT", "decision_date": "2025-03-14"}


def test_student_transfer_from_another_province(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["student_transfer"]
    workflow, done = run(
        bundle,
        {
            "receipt_check": RECEIVED,
            "check_dossier": {"from_other_province": True, "in_transfer_period": True},
            "propose_school": [
                {"receiving_school": "Trường THPT Lê Quý Đôn"},
                {"receiving_school": "Trường THPT Nguyễn Du"},
            ],
            "head_review": [{"approved": False, "comment": "Trường đã đủ sĩ số"}, HEAD_OK],
            "director_sign": {"decision_number": "45/SGDĐT-GDTrH"},
            "return_result": RETURNED,
        },
    )
    assert workflow.is_completed()
    assert "school_decision" not in done and done.count("propose_school") == 2
    assert statuses_reached(bundle, workflow) == {1, 2, 4, 9, 10}


def test_student_transfer_within_the_province(library: dict[str, ProcedureBundle]) -> None:
    workflow, done = run(
        library["student_transfer"],
        {
            "receipt_check": RECEIVED,
            "check_dossier": {"from_other_province": False, "in_transfer_period": True},
            "school_decision": {"school_accepted": True, "receiving_school": "Trường THPT Chu Văn An"},
            "return_result": RETURNED,
        },
    )
    assert workflow.is_completed()
    assert done == ["receipt_check", "check_dossier", "school_decision", "return_result"]


ESTABLISHMENT = {
    "receipt_check": RECEIVED,
    "appraise_dossier": {"dossier_valid": True, "conditions_met": True},
    "interdept_appraisal": {"interdept_opinion": "agree"},
    "appraisal_report": {"appraisal_result": "pass", "report": "Đủ điều kiện thành lập"},
    "head_review": HEAD_OK,
    "director_decision": {"permitted": True, **DECIDED},
    "return_result": RETURNED,
}


def test_language_centre_establishment_appraises_in_parallel(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["language_centre_establishment"]
    workflow, done = run(bundle, ESTABLISHMENT)
    assert workflow.is_completed()
    assert set(done[1:3]) == {"appraise_dossier", "interdept_appraisal"}  # both open at once
    assert statuses_reached(bundle, workflow) == {1, 2, 4, 9, 10}


def test_language_centre_establishment_supplementation_restarts_appraisal(
    library: dict[str, ProcedureBundle],
) -> None:
    bundle = library["language_centre_establishment"]
    answers: dict[str, Any] = dict(ESTABLISHMENT)
    asked = {"appraisal_result": "supplement", "report": "Thiếu đề án", "missing_documents": ["TP2"]}
    answers["appraisal_report"] = [asked, ESTABLISHMENT["appraisal_report"]]
    answers["appraise_dossier"] = [ESTABLISHMENT["appraise_dossier"]] * 2
    answers["interdept_appraisal"] = [ESTABLISHMENT["interdept_appraisal"]] * 2
    answers["supplement_dossier"] = {"supplemented_documents": ["TP2"]}
    far = datetime.now(UTC) + timedelta(days=30)
    workflow, done = run(bundle, answers, script_engine=timer_engine(far))
    assert workflow.is_completed()
    assert done.count("appraise_dossier") == 2 and done.count("supplement_dossier") == 1
    assert {4, 5, 9}.issubset(statuses_reached(bundle, workflow))


def test_language_centre_operation_collects_the_fee(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["language_centre_operation"]
    workflow, done = run(
        bundle,
        {
            "receipt_check": RECEIVED,
            "pay_fee": {
                "amount": bundle.meta.fee,
                "payment_method": "online",
                "transaction_ref": "VNPAY-0001",
            },
            "check_dossier": {"dossier_valid": True},
            "onsite_inspection": {
                "inspection_date": "2025-03-10",
                "inspection_passed": True,
                "minutes_ref": "12/BB",
            },
            "inspection_report": {"proposal": "permit", "report": "Đủ điều kiện hoạt động"},
            "head_review": HEAD_OK,
            "director_decision": {"permitted": True, **DECIDED},
            "return_result": RETURNED,
        },
    )
    assert workflow.is_completed()
    assert done[1] == "pay_fee"
    assert statuses_reached(bundle, workflow) == {1, 2, 4, 6, 9, 10}


SCHOOL = {
    "receipt_check": RECEIVED,
    "check_dossier": {"dossier_valid": True, "school_level": "primary", "requested_grade": "level_1"},
    "specialist_appraisal": {"specialist_opinion": "meets"},
    "quality_appraisal": {"quality_opinion": "meets"},
    "facilities_appraisal": {"facilities_opinion": "meets"},
    "site_inspection": {"inspection_date": "2025-04-02", "inspection_passed": True, "minutes_ref": "7/BB"},
    "consolidate": {"recommendation": "recognise", "report": "Đạt chuẩn mức độ 1"},
    "head_review": HEAD_OK,
    "director_decision": {"recognised": True, **DECIDED},
    "return_result": RETURNED,
}


def test_national_standard_school_recognised(library: dict[str, ProcedureBundle]) -> None:
    bundle = library["national_standard_school"]
    workflow, done = run(bundle, SCHOOL)
    assert workflow.is_completed()
    assert set(done[2:5]) == {"specialist_appraisal", "quality_appraisal", "facilities_appraisal"}
    completed = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "result_recognised" in completed and "result_not_recognised" not in completed


def test_national_standard_school_not_recognised_still_returns_a_result(
    library: dict[str, ProcedureBundle],
) -> None:
    bundle = library["national_standard_school"]
    answers = {
        **SCHOOL,
        "director_decision": {"recognised": False, "refusal_reason": "Chưa đạt tiêu chuẩn 3", **DECIDED},
    }
    workflow, done = run(bundle, answers)
    assert workflow.is_completed() and done[-1] == "return_result"
    completed = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "result_not_recognised" in completed
    assert statuses_reached(bundle, workflow) == {1, 2, 4, 9, 10}
