"""Reading procedure metadata out of BPMN: what is read, and what cannot be read at all."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from engine.definitions import (
    ProcedureMeta,
    build_bundle,
    load_library,
    parse_xml,
    read_elements,
    read_procedure_meta,
)
from engine.errors import ProcedureError

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:motcua="urn:motcua:bpmn:1" id="defs" targetNamespace="urn:test">'
)
PROCEDURE = (
    '<motcua:procedure code="1.010020" field="Văn bằng, chứng chỉ" legalTime="1" legalUnit="working_days" '
    'onlineLevel="partial" resultType="paper" receiptCutoff="15:00">'
    '<motcua:document code="TP1" name="Đơn đề nghị" kind="original"/>'
    '<motcua:document code="TP2" name="Giấy tờ tùy thân" kind="copy" count="2" required="false"/>'
    '<motcua:configurable field="fee" note="Do UBND tỉnh quy định"/>'
    "</motcua:procedure>"
)
FORM = '{"type": "object", "properties": {"found": {"type": "boolean", "title": "Có trong sổ gốc"}}}'


def process(pid: str, body: str, ext: str = PROCEDURE, executable: bool = True) -> str:
    flag = "true" if executable else "false"
    extension = f"<bpmn:extensionElements>{ext}</bpmn:extensionElements>" if ext else ""
    opening = f'<bpmn:process id="{pid}" name="Thủ tục {pid}" isExecutable="{flag}">'
    return f"{opening}{extension}{body}</bpmn:process>"


def document(*processes: str) -> bytes:
    return (HEAD + "".join(processes) + "</bpmn:definitions>").encode()


def user_task(task_id: str, ext: str) -> str:
    return (
        f'<bpmn:userTask id="{task_id}" name="Bước {task_id}">'
        f"<bpmn:extensionElements>{ext}</bpmn:extensionElements></bpmn:userTask>"
    )


# ---------------------------------------------------------------------------------- procedure


def test_reads_the_procedure_metadata() -> None:
    meta = read_procedure_meta(parse_xml(document(process("diploma_copy", ""))))
    assert meta.id == "diploma_copy" and meta.name == "Thủ tục diploma_copy"
    assert (meta.code, meta.field, meta.legal_time, meta.legal_unit) == (
        "1.010020",
        "Văn bằng, chứng chỉ",
        1.0,
        "working_days",
    )
    assert meta.fee == 0 and meta.clock_mode == "restart"  # defaults
    assert meta.repeat_supplement == "refuse"  # a second supplementation request is refused by law
    assert meta.receipt_cutoff == datetime.time(15, 0)
    assert [d.code for d in meta.documents] == ["TP1", "TP2"]
    assert meta.documents[0].required and meta.documents[0].count == 1
    assert not meta.documents[1].required and meta.documents[1].count == 2
    assert meta.configurable == {"fee": "Do UBND tỉnh quy định"}


@pytest.mark.parametrize(
    ("unit", "expected"), [("working_days", 16.0), ("working_hours", 2.0), ("calendar_days", 2 * 8 * 5 / 7)]
)
def test_legal_hours_converts_the_unit(unit: str, expected: float) -> None:
    meta = ProcedureMeta(
        id="p",
        name="P",
        code="1",
        field="F",
        legal_time=2,
        legal_unit=unit,  # type: ignore[arg-type]
        online_level="full",
        result_type="electronic",
    )
    assert meta.legal_hours() == pytest.approx(expected)


def test_legal_hours_follows_the_working_day_length() -> None:
    meta = read_procedure_meta(parse_xml(document(process("p", ""))))
    assert meta.legal_hours(hours_per_day=7.5) == 7.5


def test_process_without_procedure_metadata_is_refused() -> None:
    with pytest.raises(ProcedureError, match="'bare'.*motcua:procedure"):
        read_procedure_meta(parse_xml(document(process("bare", "", ext=""))))


def test_missing_attribute_is_named() -> None:
    ext = PROCEDURE.replace('legalUnit="working_days" ', "")
    with pytest.raises(ProcedureError, match="legalUnit"):
        read_procedure_meta(parse_xml(document(process("p", "", ext=ext))))


def test_repeat_supplement_is_read_and_checked() -> None:
    allowed = PROCEDURE.replace(
        'receiptCutoff="15:00"', 'receiptCutoff="15:00" repeatSupplement="head_approval"'
    )
    assert read_procedure_meta(parse_xml(document(process("p", "", ext=allowed)))).repeat_supplement == (
        "head_approval"
    )
    with pytest.raises(ProcedureError, match="repeatSupplement"):
        bad = allowed.replace("head_approval", "always")
        read_procedure_meta(parse_xml(document(process("p", "", ext=bad))))


def test_unknown_unit_is_refused() -> None:
    ext = PROCEDURE.replace("working_days", "fortnights")
    with pytest.raises(ProcedureError, match="legalUnit"):
        read_procedure_meta(parse_xml(document(process("p", "", ext=ext))))


def test_one_executable_process_per_file() -> None:
    root = parse_xml(document(process("a", ""), process("b", "")))
    with pytest.raises(ProcedureError, match="đúng một"):
        read_procedure_meta(root)
    assert read_procedure_meta(root, "b").id == "b"


def test_non_executable_helpers_do_not_count() -> None:
    root = parse_xml(document(process("main", ""), process("helper", "", ext="", executable=False)))
    assert read_procedure_meta(root).id == "main"


# ----------------------------------------------------------------------------------- elements


def test_reads_steps_statuses_forms_and_lanes() -> None:
    body = (
        '<bpmn:laneSet id="ls"><bpmn:lane id="lane_specialist" name="Chuyên viên">'
        "<bpmn:flowNodeRef>verify_register</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="start"/>'
        + user_task(
            "verify_register",
            '<motcua:step role="specialist" hours="2.5"/><motcua:status code="4"/>'
            f"<motcua:form>{FORM}</motcua:form>",
        )
        + '<bpmn:userTask id="bare_task" name="Chưa mô tả"/>'
        + '<bpmn:intermediateThrowEvent id="received"><bpmn:extensionElements><motcua:status code="2"/>'
        "</bpmn:extensionElements></bpmn:intermediateThrowEvent>" + '<bpmn:endEvent id="end"/>'
    )
    elements = read_elements(parse_xml(document(process("p", body))))
    assert set(elements) == {"verify_register", "bare_task", "received"}  # plain start/end are skipped
    verify = elements["verify_register"]
    assert (verify.type, verify.process_id, verify.lane) == ("userTask", "p", "Chuyên viên")
    assert (verify.role, verify.hours, verify.kind, verify.status) == ("specialist", 2.5, None, 4)
    assert verify.form is not None and verify.form["properties"]["found"]["type"] == "boolean"
    assert elements["bare_task"].role is None and elements["bare_task"].lane is None
    assert elements["received"].status == 2 and elements["received"].type == "intermediateThrowEvent"


def test_step_kind_is_read() -> None:
    body = user_task("receipt_check", '<motcua:step role="desk_clerk" hours="1" kind="receipt"/>')
    assert read_elements(parse_xml(document(process("p", body))))["receipt_check"].kind == "receipt"


@pytest.mark.parametrize(
    ("ext", "message"),
    [
        (
            '<motcua:step hours="2"/>',
            "Bước 'Bước verify_register' \\(verify_register\\) thiếu vai trò \\(motcua:step role\\)",
        ),
        ('<motcua:step role="specialist" hours="hai"/>', "\\(verify_register\\).*số giờ"),
        ('<motcua:status code="bốn"/>', "\\(verify_register\\).*mã trạng thái"),
        ("<motcua:status/>", "\\(verify_register\\).*thiếu mã trạng thái"),
        ("<motcua:form>{not json</motcua:form>", "\\(verify_register\\).*JSON"),
        ("<motcua:form>[1, 2]</motcua:form>", "\\(verify_register\\).*đối tượng"),
        ('<motcua:form>{"type": 5}</motcua:form>', "\\(verify_register\\).*JSON Schema"),
    ],
)
def test_unreadable_metadata_names_the_element(ext: str, message: str) -> None:
    root = parse_xml(document(process("p", user_task("verify_register", ext))))
    with pytest.raises(ProcedureError, match=message):
        read_elements(root)


# ------------------------------------------------------------------------------------- bundle


def caller(pid: str, called: str) -> bytes:
    return document(
        process(
            pid,
            f'<bpmn:startEvent id="{pid}_start"/>'
            f'<bpmn:callActivity id="{pid}_call" calledElement="{called}"/>',
        )
    )


def shared_process(pid: str, body: str = "") -> bytes:
    return document(process(pid, f'<bpmn:startEvent id="{pid}_start"/>{body}', ext="", executable=True))


def test_bundle_resolves_calls_transitively_and_keeps_exact_bytes() -> None:
    main = caller("proc", "shared_a")
    a = shared_process("shared_a", '<bpmn:callActivity id="a_calls_b" calledElement="shared_b"/>')
    b = shared_process("shared_b", user_task("b_task", '<motcua:step role="citizen" hours="1"/>'))
    unused = shared_process("shared_c")
    bundle = build_bundle(
        main, "proc.bpmn", {"shared/a.bpmn": a, "shared/b.bpmn": b, "shared/c.bpmn": unused}
    )
    assert bundle.meta.id == "proc"
    assert set(bundle.called) == {"shared_a", "shared_b"}
    assert bundle.files == {"proc.bpmn": main, "shared/a.bpmn": a, "shared/b.bpmn": b}
    assert bundle.elements["b_task"].process_id == "shared_b"


def test_bundle_refuses_a_missing_called_process() -> None:
    with pytest.raises(ProcedureError, match="'proc_call'.*'shared_missing'"):
        build_bundle(caller("proc", "shared_missing"), "proc.bpmn", {})


def test_bundle_refuses_a_shared_process_defined_twice() -> None:
    twice = {"shared/a.bpmn": shared_process("shared_a"), "shared/a2.bpmn": shared_process("shared_a")}
    with pytest.raises(ProcedureError, match="hai lần"):
        build_bundle(caller("proc", "shared_a"), "proc.bpmn", twice)


def test_load_library_reads_procedures_and_shared_parts(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "receipt.bpmn").write_bytes(shared_process("shared_receipt"))
    (tmp_path / "b_proc.bpmn").write_bytes(caller("b_proc", "shared_receipt"))
    (tmp_path / "a_proc.bpmn").write_bytes(document(process("a_proc", '<bpmn:startEvent id="s"/>')))
    (tmp_path / "notes.txt").write_text("không phải BPMN")
    bundles = load_library(tmp_path)
    assert [b.meta.id for b in bundles] == ["a_proc", "b_proc"]
    assert set(bundles[1].files) == {"b_proc.bpmn", "shared/receipt.bpmn"}
    assert set(bundles[0].files) == {"a_proc.bpmn"}


# ---------------------------------------------------------------------------------------- xml


def test_entities_and_doctype_are_refused() -> None:
    body = document(process("p", "")).decode().split("\n", 1)[1].replace('name="Thủ tục p"', 'name="&x;"')
    evil = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + body
    with pytest.raises(ProcedureError):
        build_bundle(evil.encode(), "p.bpmn", {})


def test_broken_xml_is_a_procedure_error() -> None:
    with pytest.raises(ProcedureError):
        build_bundle(b"<bpmn:definitions", "p.bpmn", {})
