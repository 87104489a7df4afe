"""What the import assistant repairs in a foreign diagram, each change reported to the designer:
conditions in other tools' languages, unconditioned branches (a decision field on the deciding
step), messages from outside, unresolved calls, data stores, empty timers."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from engine.clock import FixedClock
from engine.definitions import NSMAP
from engine.import_decisions import python_condition
from engine.importer import assess
from engine.service import Engine
from tests.engine.helpers import DESIGNER, drive_to_end


@pytest.mark.parametrize(
    ("foreign", "python"),
    [
        ("${approved}", "approved"),
        ("${!approved}", "not approved"),
        ("${clarified == 'yes'}", "clarified == 'yes'"),
        ("#{amount > 1000 && urgent}", "amount > 1000 and urgent"),
        ("= not(approved)", "not(approved)"),
        ("=fraud", "fraud"),
        ('Vacation Approval = "Approved"', 'vacation_approval == "Approved"'),
        ("Service Level == 'Premium'", "service_level == 'Premium'"),
        ("bpmn:getDataObject('clarified') = 'yes'", "clarified == 'yes'"),
        ("not(bpmn:getDataObject('approved'))", "not(approved)"),
        ("true", "True"),
    ],
)
def test_conditions_of_other_tools_in_python(foreign: str, python: str) -> None:
    assert python_condition(foreign) == python


@pytest.mark.parametrize(
    "foreign", ['= some risk in riskLevels satisfies risk = "red"', "${__import__('os')}", "a b c"]
)
def test_conditions_that_cannot_be_read_are_left_to_the_designer(foreign: str) -> None:
    assert python_condition(foreign) is None


REVIEW = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- As another tool exports it: branches labelled, no conditions; a JUEL gateway; a message wait. -->
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:x">
  <message id="reply" name="Reply"/>
  <process id="review" isExecutable="true">
    <startEvent id="start"/>
    <userTask id="check" name="Check application"/>
    <exclusiveGateway id="ok" name="Complete?"/>
    <userTask id="fix" name="Ask for corrections"/>
    <intermediateCatchEvent id="wait_reply" name="Corrections received">
      <messageEventDefinition messageRef="reply"/>
    </intermediateCatchEvent>
    <userTask id="decide" name="Decide"/>
    <exclusiveGateway id="approved_gw" name="Approved?"/>
    <callActivity id="archive" name="Archive" calledElement="ArchiveProcess"/>
    <intermediateCatchEvent id="cool_off" name="Cooling-off">
      <timerEventDefinition><timeDuration/></timerEventDefinition>
    </intermediateCatchEvent>
    <endEvent id="end_yes"/>
    <endEvent id="end_no"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <sequenceFlow id="f2" sourceRef="check" targetRef="ok"/>
    <sequenceFlow id="yes" name="Yes" sourceRef="ok" targetRef="decide"/>
    <sequenceFlow id="no" name="No" sourceRef="ok" targetRef="fix"/>
    <sequenceFlow id="f3" sourceRef="fix" targetRef="wait_reply"/>
    <sequenceFlow id="f4" sourceRef="wait_reply" targetRef="check"/>
    <sequenceFlow id="f5" sourceRef="decide" targetRef="approved_gw"/>
    <sequenceFlow id="granted" sourceRef="approved_gw" targetRef="archive">
      <conditionExpression>${approved}</conditionExpression></sequenceFlow>
    <sequenceFlow id="refused" sourceRef="approved_gw" targetRef="end_no">
      <conditionExpression>${!approved}</conditionExpression></sequenceFlow>
    <sequenceFlow id="f6" sourceRef="archive" targetRef="cool_off"/>
    <sequenceFlow id="f7" sourceRef="cool_off" targetRef="end_yes"/>
  </process>
</definitions>
"""


def _node(prepared: bytes, element_id: str) -> etree._Element:
    [node] = etree.fromstring(prepared).xpath(f"//*[@id='{element_id}']")
    return node


def _form(prepared: bytes, element_id: str) -> dict[str, object]:
    form = _node(prepared, element_id).find("bpmn:extensionElements/motcua:form", NSMAP)
    return dict(json.loads(form.text))


def test_the_assistant_makes_decisions_explicit_and_reports_each_change() -> None:
    report = assess("review.bpmn", REVIEW)
    assert report.deployable, report.problems
    prepared = report.prepared
    assert prepared is not None
    # Unconditioned "Yes"/"No": a field on the deciding step; the way forward is the first value,
    # the branch that loops back is the default.
    complete = _form(prepared, "check")["properties"]["complete"]  # type: ignore[index]
    assert complete == {"type": "string", "title": "Complete?", "enum": ["Yes", "No"]}
    assert _node(prepared, "ok").get("default") == "no"
    assert (
        _node(prepared, "yes").findtext("bpmn:conditionExpression", namespaces=NSMAP) == "complete == 'Yes'"
    )
    # JUEL in Python, and the boolean asked where it is decided.
    assert _node(prepared, "refused").findtext("bpmn:conditionExpression", namespaces=NSMAP) == "not approved"
    assert _form(prepared, "decide")["properties"] == {"approved": {"type": "boolean", "title": "Approved?"}}
    # A message from outside and a call to a process not in the file: steps a person records.
    assert etree.QName(_node(prepared, "wait_reply")).localname == "userTask"
    assert etree.QName(_node(prepared, "archive")).localname == "userTask"
    assert _node(prepared, "cool_off").findtext(".//bpmn:timeDuration", namespaces=NSMAP) == "P1D"
    changed = {f.element_id: f.message for f in report.findings if f.kind == "changed"}
    assert "viết lại điều kiện '${!approved}' thành not approved" in changed["refused"]
    assert "chờ thông điệp từ bên ngoài" in changed["wait_reply"]
    assert "gọi quy trình 'ArchiveProcess' không có trong tệp" in changed["archive"]
    assert "hỏi thêm complete (Yes / No)" in changed["check"]


def test_the_prepared_diagram_runs_to_completion(engine: Engine, clock: FixedClock) -> None:
    report = assess("review.bpmn", REVIEW)
    assert report.prepared is not None
    engine.deploy("review.bpmn", report.prepared, {}, DESIGNER)
    case = engine.start_case(
        {"procedure_id": "review", "applicant": {"name": "Lê Thị Hoa"}}, engine.actor("clerk")
    )
    done = drive_to_end(engine, clock, case.code)
    assert done.completed, (done.status, done.tasks)


def test_a_gateway_without_a_deciding_step_gets_one(engine: Engine, clock: FixedClock) -> None:
    text = REVIEW.replace(b'<sequenceFlow id="f2" sourceRef="check" targetRef="ok"/>', b"").replace(
        b'<sequenceFlow id="f1" sourceRef="start" targetRef="check"/>',
        b'<sequenceFlow id="f1" sourceRef="start" targetRef="ok"/>'
        b'<sequenceFlow id="f2" sourceRef="check" targetRef="end_no"/>',
    )
    report = assess("review.bpmn", text)
    assert report.deployable, report.problems
    assert report.prepared is not None
    step = _node(report.prepared, "ok_decide")
    assert (etree.QName(step).localname, step.get("name")) == ("userTask", "Quyết định: Complete?")
    assert _node(report.prepared, "f1").get("targetRef") == "ok_decide"
    assert _form(report.prepared, "ok_decide")["required"] == ["complete"]
    added = [f.message for f in report.findings if f.element_id == "ok_decide" and f.kind == "changed"]
    assert added and "thêm bước 'Quyết định: Complete?' (ok_decide)" in added[0]
    engine.deploy("review.bpmn", report.prepared, {}, DESIGNER)
    case = engine.start_case(
        {"procedure_id": "review", "applicant": {"name": "Lê Thị Hoa"}}, engine.actor("clerk")
    )
    assert drive_to_end(engine, clock, case.code).completed


def test_data_stores_go_and_data_objects_become_fields() -> None:
    text = REVIEW.replace(
        b'<userTask id="decide" name="Decide"/>',
        b'<userTask id="decide" name="Decide"><dataOutputAssociation id="out">'
        b"<targetRef>ref_1</targetRef></dataOutputAssociation>"
        b'<dataInputAssociation id="in"><sourceRef>store_ref</sourceRef></dataInputAssociation></userTask>'
        b'<dataObjectReference id="ref_1" dataObjectRef="_0f3a-obj"/>'
        b'<dataObject id="_0f3a-obj" name="Decision letter"/>'
        b'<dataStoreReference id="store_ref" name="Registry" dataStoreRef="registry"/>',
    ).replace(b'<message id="reply"', b'<dataStore id="registry" name="Registry"/><message id="reply"')
    report = assess("review.bpmn", text)
    assert report.deployable, report.problems
    assert report.prepared is not None
    assert b"dataStore" not in report.prepared
    assert _form(report.prepared, "decide")["properties"]["decision_letter"] == {  # type: ignore[index]
        "type": "string",
        "title": "Decision letter",
    }


ORDER = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:x="urn:other-tool"
             id="d" targetNamespace="urn:x">
  <message id="Message_7"/>
  <process id="order" isExecutable="true">
    <extensionElements><x:target id="order"/></extensionElements>
    <startEvent id="start"/>
    <task id="take" name="Take order"/>
    <businessRuleTask id="rate" name="Rate customer" implementation="dmn"/>
    <subProcess id="pack" name="Pack goods">
      <multiInstanceLoopCharacteristics/>
    </subProcess>
    <intermediateThrowEvent id="notify" name="Notify warehouse">
      <messageEventDefinition messageRef="x:Message_7"/>
    </intermediateThrowEvent>
    <parallelGateway id="join"/>
    <endEvent id="end"/>
    <subProcess id="on_cancel" triggeredByEvent="true">
      <startEvent id="cancel_start"><signalEventDefinition/></startEvent>
      <endEvent id="cancel_end"/>
      <sequenceFlow id="c1" sourceRef="cancel_start" targetRef="cancel_end"/>
    </subProcess>
    <sequenceFlow id="f1" sourceRef="start" targetRef="take"/>
    <sequenceFlow id="f2" sourceRef="take" targetRef="rate"/>
    <sequenceFlow id="f3" sourceRef="take" targetRef="pack"/>
    <sequenceFlow id="f4" sourceRef="rate" targetRef="join"/>
    <sequenceFlow id="f5" sourceRef="pack" targetRef="notify"/>
    <sequenceFlow id="f6" sourceRef="notify" targetRef="join"/>
    <sequenceFlow id="f7" sourceRef="join" targetRef="end"/>
  </process>
</definitions>
"""


def test_implicit_splits_tables_empty_sub_processes_and_unnamed_messages(
    engine: Engine, clock: FixedClock
) -> None:
    report = assess("order.bpmn", ORDER)
    assert report.deployable, report.problems
    prepared = report.prepared
    assert prepared is not None
    # "Take order" splits into two flows: the parallel gateway BPMN means, with its link.
    split = _node(prepared, "take_split")
    assert etree.QName(split).localname == "parallelGateway"
    assert _node(prepared, "f2").get("sourceRef") == "take_split"
    assert _node(prepared, "take_to_split").get("targetRef") == "take_split"
    # A decision table and a sub-process never drawn: steps a person does.
    assert etree.QName(_node(prepared, "rate")).localname == "userTask"
    assert etree.QName(_node(prepared, "pack")).localname == "userTask"
    assert _node(prepared, "pack").findtext(".//bpmn:loopCardinality", namespaces=NSMAP) == "1"
    assert _node(prepared, "Message_7").get("name") == "Message_7"
    assert (
        _node(prepared, "notify").find("bpmn:messageEventDefinition", NSMAP).get("messageRef") == "Message_7"
    )
    changed = {f.element_id for f in report.findings if f.kind == "changed"}
    assert {"take", "rate", "pack"} <= changed
    engine.deploy("order.bpmn", prepared, {}, DESIGNER)
    case = engine.start_case(
        {"procedure_id": "order", "applicant": {"name": "Phạm Văn Đức"}}, engine.actor("clerk")
    )
    assert drive_to_end(engine, clock, case.code).completed


def test_a_file_too_big_to_deploy_is_reported_not_repaired() -> None:
    from tests.engine.test_importer import _chain

    data = _chain(600).replace(b"<scriptTask", b"<task").replace(b"</scriptTask>", b"</task>")
    data = data.replace(
        b'<sequenceFlow id="last"',
        b'<sequenceFlow id="extra" sourceRef="t0" targetRef="end"/><sequenceFlow id="last"',
    )
    report = assess("chain.bpmn", data)
    assert any("tối đa 400" in p for p in report.problems)
    assert not [f for f in report.findings if f.element_id == "t0" and f.kind == "changed"]  # no split added


ALTERNATIVE_STARTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:x">
  <signal id="recall" name="Recall"/>
  <process id="starts" isExecutable="true">
    <startEvent id="by_post" name="By post"/>
    <startEvent id="by_signal" name="On recall"><signalEventDefinition signalRef="recall"/></startEvent>
    <userTask id="register" name="Register"/>
    <userTask id="recheck" name="Recheck">
      <extensionElements/>
    </userTask>
    <boundaryEvent id="watch" name="Watch" attachedToRef="recheck">
      <conditionalEventDefinition/>
    </boundaryEvent>
    <exclusiveGateway id="done_gw" name="Done?" default="again"/>
    <endEvent id="end"/>
    <endEvent id="end_watch"/>
    <sequenceFlow id="s1" sourceRef="by_post" targetRef="register"/>
    <sequenceFlow id="s2" sourceRef="by_signal" targetRef="recheck"/>
    <sequenceFlow id="r1" sourceRef="register" targetRef="done_gw"/>
    <sequenceFlow id="ok" name="Finished" sourceRef="done_gw" targetRef="end"/>
    <sequenceFlow id="again" name="Recheck" sourceRef="done_gw" targetRef="recheck"/>
    <sequenceFlow id="r2" sourceRef="recheck" targetRef="end"/>
    <sequenceFlow id="w1" sourceRef="watch" targetRef="end_watch"/>
  </process>
</definitions>
"""


def test_alternative_starts_a_default_with_one_open_branch_and_an_empty_conditional_event(
    engine: Engine, clock: FixedClock
) -> None:
    report = assess("starts.bpmn", ALTERNATIVE_STARTS)
    assert report.deployable, report.problems
    prepared = report.prepared
    assert prepared is not None
    # One way in (intake), then a gateway whose branches are the former starts' paths.
    assert etree.fromstring(prepared).xpath("//*[local-name()='startEvent']/@id") == ["by_post"]
    assert _node(prepared, "s2").get("sourceRef") == "by_post_which"
    # "Done?" has a default and one unconditioned branch: the branch is chosen on a field.
    assert (
        _node(prepared, "ok").findtext("bpmn:conditionExpression", namespaces=NSMAP) == "done == 'Finished'"
    )
    assert _form(prepared, "register")["properties"]["done"]["enum"] == ["Finished", "Recheck"]  # type: ignore[index]
    assert _node(prepared, "watch").findtext(".//bpmn:condition", namespaces=NSMAP) == "False"
    engine.deploy("starts.bpmn", prepared, {}, DESIGNER)
    case = engine.start_case(
        {"procedure_id": "starts", "applicant": {"name": "Hồ Thị Lan"}}, engine.actor("clerk")
    )
    assert drive_to_end(engine, clock, case.code).completed


def test_the_validator_refuses_a_conditional_event_without_a_condition() -> None:
    from engine.designer import validate_upload

    report = assess("starts.bpmn", ALTERNATIVE_STARTS)
    assert report.prepared is not None
    broken = report.prepared.replace(b">False<", b"><")
    messages = [i.message for i in validate_upload("starts.bpmn", broken, {}).errors]
    assert any("Sự kiện điều kiện 'Watch' (watch) thiếu biểu thức điều kiện" in m for m in messages), messages
