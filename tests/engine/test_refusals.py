"""Every refusal a user reads is Vietnamese and names the element (name and id): SpiffWorkflow's,
Python's, lxml's and json's English goes to ``details["detail"]`` (and the log), never after a
Vietnamese prefix."""

from __future__ import annotations

import re

import pytest

from engine.designer import validate_upload
from engine.errors import MotcuaError, ProcedureError, UnsafeXmlError
from engine.refusals import UNKNOWN, element_label, explain, translate
from engine.sandbox import check_source
from engine.service import Engine
from engine.xmlsafe import parse_xml
from tests.engine.test_sandbox_pool import APPLICANT, case_count, deploy


def english_residue(text: str) -> list[str]:
    """Runs of three or more plain ASCII words outside quotes and brackets (element names, ids and
    expressions, which come from the diagram, are quoted or bracketed)."""
    stripped = re.sub(r"«[^»]*»|'[^']*'|\"[^\"]*\"|\([^)]*\)|<[^>]*>|\[[^\]]*\]", " ", text)
    return re.findall(r"\b[A-Za-z]+(?: [A-Za-z]+){2,}\b", stripped)


@pytest.mark.parametrize(
    ("english", "vietnamese"),
    [
        (
            "Exactly one start event is required in a SubWorkflow Task; found 0.",
            "quy trình con phải có đúng một sự kiện bắt đầu (đang có 0)",
        ),
        (
            "Non-default exclusive outgoing sequence flow without condition",
            "luồng ra từ cổng thiếu điều kiện",
        ),
        ("Object of type DataObject is not JSON serializable", "không lưu được phần tử loại DataObject"),
        ("Data Store with name Bank System has no implementation", "kho dữ liệu 'Bank System'"),
        ("Signal identifier is missing from bpmn xml", "tín hiệu thiếu mã"),
        (
            "The process 'global-task' was not found. Did you mean one of the following: a, b?",
            "'global-task'",
        ),
        ("Error evaluating expression 'x > 1', name 'x' is not defined", "chưa có biến 'x'"),
        ("'NoneType' object is not iterable", "danh sách cần lặp chưa có giá trị"),
        ("Invalid isoformat string: 'tomorrow'", "không đúng định dạng ISO 8601"),
        ("maximum recursion depth exceeded while calling a Python object", "lồng nhau hoặc dài quá mức"),
        (
            "Opening and ending tag mismatch: process line 3 and definitions",
            "thẻ <process> không được đóng đúng",
        ),
        ("Expecting property name enclosed in double quotes", "tên thuộc tính phải đặt trong dấu nháy kép"),
        ("'(' was never closed", "dấu '(' chưa được đóng"),
        (
            "NotImplementedError('Unsupported Catch Event: %r', b'<boundaryEvent/>')",
            "sự kiện chờ này chưa được hỗ trợ",
        ),
    ],
)
def test_known_library_messages_are_said_in_vietnamese(english: str, vietnamese: str) -> None:
    said = translate(english)
    assert said is not None and vietnamese in said
    assert not english_residue(said), said


def test_an_unknown_message_is_a_generic_vietnamese_reason_with_the_english_kept_aside() -> None:
    reason = explain(RuntimeError("flux capacitor overheated"))
    assert reason.message == UNKNOWN
    assert reason.detail == "flux capacitor overheated"


def test_the_innermost_known_cause_wins() -> None:
    try:
        try:
            raise NameError("name 'approved' is not defined")
        except NameError as inner:
            raise RuntimeError("Error evaluating expression 'approved'") from inner
    except RuntimeError as outer:
        reason = explain(outer)
    assert reason.message == "chưa có biến 'approved' trong dữ liệu hồ sơ"
    assert "Error evaluating" in reason.detail


def test_elements_are_named_by_name_and_id() -> None:
    assert element_label("task_1", "Thẩm định\n hồ sơ") == "'Thẩm định hồ sơ' (task_1)"
    assert element_label("task_1", None) == "'task_1'"


SUBPROCESS_TWO_STARTS = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:m="urn:motcua:bpmn:1"
             id="d" targetNamespace="urn:x">
  <process id="sub_two_starts" name="Hai sự kiện bắt đầu" isExecutable="true">
    <extensionElements><m:procedure code="1" field="x" legalTime="1" legalUnit="working_days"
      onlineLevel="full" resultType="paper"/></extensionElements>
    <startEvent id="start"/>
    <subProcess id="check" name="Kiểm tra hồ sơ">
      <startEvent id="s1"/>
      <startEvent id="s2"/>
      <scriptTask id="inner" name="Tính"><script>x = 1</script></scriptTask>
      <sequenceFlow id="i0" sourceRef="s1" targetRef="inner"/>
      <sequenceFlow id="i9" sourceRef="s2" targetRef="inner"/>
      <endEvent id="inner_end"/>
      <sequenceFlow id="i1" sourceRef="inner" targetRef="inner_end"/>
    </subProcess>
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <sequenceFlow id="f2" sourceRef="check" targetRef="end"/>
  </process>
</definitions>""".encode()


def test_a_spiffworkflow_parser_refusal_is_vietnamese_and_names_the_element() -> None:
    report = validate_upload("sub.bpmn", SUBPROCESS_TWO_STARTS, {})
    [issue] = [i for i in report.errors if i.source == "spiff"]
    assert issue.message == (
        "BPMN không hợp lệ ở phần tử 'Kiểm tra hồ sơ' (check): "
        "quy trình con phải có đúng một sự kiện bắt đầu (đang có 2)"
    )
    assert issue.element_id == "check"


def test_engine_deploy_keeps_the_technical_detail_separately(engine: Engine) -> None:
    with pytest.raises(ProcedureError) as caught:
        engine.deploy("sub.bpmn", SUBPROCESS_TWO_STARTS, {}, engine.actor("designer"))
    assert "Exactly one start event" not in caught.value.message
    assert "Exactly one start event" in caught.value.details["detail"]


def test_malformed_xml_is_refused_in_vietnamese_with_the_position() -> None:
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml(b"<definitions><process></definitions>")
    assert caught.value.message.startswith("Tệp BPMN không phải XML hợp lệ: dòng 1, cột ")
    assert "thẻ <process> không được đóng đúng" in caught.value.message
    assert "mismatch" in caught.value.details["detail"]


@pytest.mark.parametrize(
    ("source", "mode", "said"),
    [
        ("x ==", "eval", "Biểu thức sai cú pháp: dòng 1: "),
        ("${approved}", "eval", "Biểu thức sai cú pháp: dòng 1: cách viết không hợp lệ"),
        ("f(1", "eval", "dấu '(' chưa được đóng"),
        ("x = 'abc", "exec", "chuỗi chưa đóng dấu nháy"),
    ],
)
def test_syntax_errors_in_conditions_and_scripts_are_vietnamese(source: str, mode: str, said: str) -> None:
    [problem] = check_source(source, mode=mode)  # type: ignore[arg-type]
    assert said in problem
    assert not english_residue(problem), problem


def test_a_broken_form_is_refused_in_vietnamese() -> None:
    form = (
        '<userTask id="form_step" name="Nhập"><extensionElements>'
        '<m:step role="specialist" hours="1"/><m:form>{"type": "object", properties: 1}</m:form>'
        "</extensionElements></userTask>"
    ).encode()
    text = SUBPROCESS_TWO_STARTS.replace(b'<startEvent id="start"/>', b'<startEvent id="start"/>' + form)
    report = validate_upload("form.bpmn", text, {})
    messages = [i.message for i in report.errors]
    assert any("không phải JSON hợp lệ: dòng 1, cột 20: tên thuộc tính phải đặt" in m for m in messages), (
        messages
    )
    assert not any("Expecting" in m for m in messages)


def test_a_run_time_python_error_in_a_script_is_vietnamese_and_changes_nothing(engine: Engine) -> None:
    deploy(engine, BEFORE_SCRIPT="y = 1 / 0")
    with pytest.raises(MotcuaError) as caught:
        engine.start_case({"procedure_id": "payloads", "applicant": APPLICANT}, engine.actor("clerk"))
    assert "phép chia cho 0" in caught.value.message
    assert "(before)" in caught.value.message
    assert not english_residue(caught.value.message), caught.value.message
    assert case_count(engine.db) == 0
