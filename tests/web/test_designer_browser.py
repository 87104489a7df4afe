"""The designer in Debian's Chromium: every library procedure renders in bpmn-js; an edit is validated,
fixed and deployed as version N+1 while a case started on version N keeps running on it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from engine.service import Engine
from tests.engine.test_designer import restore_library
from tests.web.conftest import ACCEPT, submit_online
from tests.web.test_browser import Session, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

LIBRARY = Path(__file__).resolve().parents[2] / "bpmn"
PROCEDURES = sorted(p.stem for p in LIBRARY.glob("*.bpmn"))
VERIFIED = {"found": True, "register_ref": "SG-2026/17", "copies": 1}

# Adds "Kiểm tra dấu, chữ ký" after verify_register (in the specialist lane) with a non-interrupting
# boundary timer leading to an end event: the modeler's own API, as the palette would.
ADD_TASK_WITH_TIMER = """() => {
  const m = window.motcuaDesigner.modeler;
  const reg = m.get('elementRegistry'), modeling = m.get('modeling');
  const factory = m.get('elementFactory'), bpmn = m.get('bpmnFactory');
  const verify = reg.get('verify_register'), gateway = reg.get('gw_found');
  const lane = reg.get('diploma_copy_lane_specialist');
  const bo = bpmn.create('bpmn:UserTask', {id: 'check_stamp', name: 'Kiểm tra dấu, chữ ký'});
  const task = modeling.createShape(factory.createShape({type: 'bpmn:UserTask', businessObject: bo}),
    {x: verify.x + verify.width / 2, y: lane.y + lane.height - 45}, lane);
  const flow = reg.get('flow_verify_register_to_gw_found');
  modeling.reconnectEnd(flow, task, {x: task.x + task.width / 2, y: task.y});
  modeling.connect(task, gateway);
  const timerBo = bpmn.create('bpmn:BoundaryEvent', {id: 'check_stamp_reminder', name: 'Nhắc hạn'});
  const timer = modeling.createShape(
    factory.createShape({type: 'bpmn:BoundaryEvent', businessObject: timerBo,
                         eventDefinitionType: 'bpmn:TimerEventDefinition'}),
    {x: task.x + task.width, y: task.y + task.height / 2}, task, {attach: true});
  modeling.updateProperties(timer, {cancelActivity: false});
  modeling.appendShape(timer, {type: 'bpmn:EndEvent'}, {x: timer.x + 120, y: timer.y + 18});
  return reg.filter((e) => e.type === 'bpmn:UserTask').length;
}"""


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    yield sqlite_engine
    restore_library(sqlite_engine.db)


def watch_console(page: Page) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def open_designer(page: Page, base: str, procedure_id: str) -> None:
    page.goto(f"{base}/designer/{procedure_id}/edit")
    expect(page.locator("#designer")).to_have_attribute("data-state", "ready", timeout=15_000)


def select(page: Page, element_id: str) -> None:
    page.evaluate(
        "(id) => { const m = window.motcuaDesigner.modeler;"
        " m.get('selection').select(m.get('elementRegistry').get(id)); }",
        element_id,
    )


def test_every_library_procedure_renders_in_bpmn_js(browser: Browser, server: str) -> None:  # noqa: F811
    designer = Session(browser, server, "designer")
    problems = watch_console(designer.page)
    for procedure_id in PROCEDURES:
        open_designer(designer.page, server, procedure_id)
        state: dict[str, Any] = designer.page.evaluate(
            "() => ({errors: window.motcuaDesigner.importErrors,"
            " warnings: window.motcuaDesigner.importWarnings,"
            " shapes: window.motcuaDesigner.modeler.get('elementRegistry').filter("
            "   (e) => e.type === 'bpmn:UserTask').length})"
        )
        assert state["errors"] == [] and state["warnings"] == [], (procedure_id, state)
        assert state["shapes"] >= 2, procedure_id
        expect(designer.page.locator(".djs-element.djs-shape").first).to_be_visible()
        designer.shot(f"designer-{procedure_id}")
    assert problems == []
    designer.close()


def test_edit_validate_fix_deploy_and_cases_keep_their_version(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
) -> None:
    clerk, specialist = engine.actor("clerk"), engine.actor("specialist")
    old_case = submit_online(engine, "Trần Thị Cũ")
    assert old_case.procedure_version == 1

    designer = Session(browser, server, "designer")
    page = designer.page
    problems = watch_console(page)
    page.click("text=Thiết kế quy trình")
    page.click("#procedure-diploma_copy >> text=Mở trình thiết kế")
    expect(page.locator("#designer")).to_have_attribute("data-state", "ready")
    assert page.evaluate(ADD_TASK_WITH_TIMER) == 4

    # The side form writes the business-time timer; the new step is left without role/allocation.
    select(page, "check_stamp_reminder")
    page.fill("#timer-expression", "working_hours(8)")
    page.click("#designer-validate")
    expect(page.locator("#designer-status")).to_contain_text("Chưa hợp lệ")
    issue = page.locator("#designer-issues li.error", has_text="check_stamp")
    expect(issue.first).to_contain_text("thiếu thông tin bước")
    expect(page.locator('g.djs-element.error[data-element-id="check_stamp"]')).to_have_count(1)
    designer.shot("designer-validation-error")

    # "Lưu và kiểm tra" kept the unfinished edit as a draft: a reload reopens it, not version 1.
    expect(page.locator("#designer-status")).to_contain_text("Đã lưu bản nháp")
    page.reload()
    expect(page.locator("#designer")).to_have_attribute("data-state", "ready")
    expect(page.locator("#designer-draft-notice")).to_contain_text("chưa hợp lệ")
    assert page.evaluate("() => !!window.motcuaDesigner.modeler.get('elementRegistry').get('check_stamp')")

    # Fix it in the side form, validate again (marker gone), deploy version 2.
    select(page, "check_stamp")
    page.select_option("#step-role", "specialist")
    page.fill("#step-hours", "1")
    expect(page.locator("#status-code option[value='4']")).to_have_text("4 — Đang xử lý")  # national names
    page.select_option("#status-code", "4")
    page.click("#designer-validate")
    expect(page.locator("#designer-status")).to_contain_text("Hợp lệ")
    expect(page.locator('g.djs-element.error[data-element-id="check_stamp"]')).to_have_count(0)
    page.click("#designer-deploy")
    expect(page.locator("#designer-status")).to_contain_text("Đã triển khai phiên bản 2")
    expect(page.locator("#designer-status")).to_contain_text("Kiểm tra dấu, chữ ký [check_stamp]")
    # The page follows the deploy without a reload: version, download link, no draft banner.
    expect(page.locator("#designer-version")).to_have_text("2")
    expect(page.locator("#designer-draft-notice")).to_have_count(0)
    expect(page.locator("#designer-download")).to_have_text("Tải BPMN phiên bản 2")
    expect(page.locator("#designer-download")).to_have_attribute("href", re.compile(r"version=2$"))
    designer.shot("designer-deployed")
    page.goto(f"{server}/designer/")
    expect(page.locator("#procedure-diploma_copy tr[data-version='2'] .summary")).to_contain_text("Thêm")
    assert problems == []
    designer.close()

    deployed = engine.procedure("diploma_copy")
    assert deployed.version == 2 and deployed.deployed_by == "designer"
    step = next(s for s in deployed.steps if s["element_id"] == "check_stamp")
    assert step["role"] == "specialist" and step["hours"] == 1

    # New cases take version 2 and reach the new step; the old case runs on, on version 1.
    new_case = submit_online(engine, "Lê Văn Mới")
    assert new_case.procedure_version == 2
    for case in (old_case, new_case):
        engine.complete_task(case.code, "receipt_check", ACCEPT, clerk)
        engine.complete_task(case.code, "verify_register", VERIFIED, specialist)
    assert [t.element_id for t in engine.list_tasks(new_case.code)] == ["check_stamp"]
    old_now = engine.get_case(old_case.code)
    assert old_now.procedure_version == 1
    assert [t.element_id for t in engine.list_tasks(old_case.code)] == ["approve_copy"]


def test_procedure_metadata_documents_and_extensions_are_edited_in_the_side_form(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
) -> None:
    """Required documents, the receipt cut-off, the clock mode, whether a second supplementation
    request may be approved, and due extensions are procedure
    metadata a designer changes without touching XML; they reach the deployed version."""
    designer = Session(browser, server, "designer")
    page = designer.page
    problems = watch_console(page)
    open_designer(page, server, "diploma_copy")
    documents = page.locator("#proc-documents tr[data-index]")
    expect(documents).to_have_count(3)
    expect(page.locator("#proc-extensions tr[data-index] input[name='field']")).to_have_value("bulk")

    page.click("#proc-documents-add")
    expect(documents).to_have_count(4)
    row = documents.nth(3)
    expect(row.locator("input[name='code']")).to_have_value("TP4")
    row.locator("input[name='name']").fill("Bản sao giấy khai sinh")
    row.locator("select[name='kind']").select_option("certified_copy")
    row.locator("input[name='required']").uncheck()
    row.locator("input[name='dataCode']").fill("KHAI_SINH")
    row.locator("input[name='validMonths']").fill("120")
    documents.nth(2).locator("button.remove").click()  # TP3 (giấy ủy quyền) is dropped
    expect(documents.nth(1).locator("input[name='dataCode']")).to_have_value("CCCD")
    page.fill("#proc-fee", "20000")
    page.check("#proc-payment-integrated")
    expect(documents).to_have_count(3)
    page.fill("#proc-receipt-cutoff", "16:00")
    page.select_option("#proc-clock-mode", "extend")
    page.select_option("#proc-repeat-supplement", "head_approval")
    page.locator("#proc-extensions tr[data-index] input[name='workingDays']").fill("1")
    # The unit a lane's steps go to (motcua:assignment), as the designer's side form shows it.
    select(page, "diploma_copy_lane_specialist")
    expect(page.locator("#lane-unit")).to_have_value("Phòng thử nghiệm")
    page.fill("#lane-unit", "Phòng Khảo thí và Kiểm định")
    designer.shot("designer-procedure-metadata")

    page.click("#designer-deploy")
    expect(page.locator("#designer-status")).to_contain_text("Đã triển khai phiên bản 2")
    assert problems == []
    designer.close()

    meta = engine.procedure("diploma_copy").meta
    assert [d["code"] for d in meta["documents"]] == ["TP1", "TP2", "TP4"]
    added = meta["documents"][2]
    assert added["name"] == "Bản sao giấy khai sinh"
    assert (added["kind"], added["required"]) == ("certified_copy", False)
    assert (added["data_code"], added["valid_months"]) == ("KHAI_SINH", 120)
    assert (meta["fee"], meta["payment_integrated"]) == (20000, True)
    assert meta["receipt_cutoff"] in ("16:00", "16:00:00")
    assert meta["clock_mode"] == "extend"
    assert meta["repeat_supplement"] == "head_approval"
    assert meta["due_extensions"][0]["working_days"] == 1
    with engine.db.read() as session:
        version = engine.procedures.load(session, engine.procedures.latest(session, "diploma_copy").id)
    assert version.elements["verify_register"]["unit"] == "Phòng Khảo thí và Kiểm định"
    assert version.elements["approve_copy"]["unit"] == "Phòng thử nghiệm"  # another lane keeps its unit


def test_a_bpmn_file_from_disk_opens_in_the_modeler_and_is_saved_as_a_draft(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
    tmp_path: Path,
) -> None:
    source = (LIBRARY / "diploma_copy.bpmn").read_text(encoding="utf-8")
    renamed = source.replace('name="Đối chiếu sổ gốc"', 'name="Đối chiếu sổ gốc (tệp mới)"', 1)
    assert renamed != source
    file = tmp_path / "diploma_copy.bpmn"
    file.write_text(renamed, encoding="utf-8")
    designer = Session(browser, server, "designer")
    page = designer.page
    problems = watch_console(page)
    open_designer(page, server, "diploma_copy")
    page.set_input_files("#designer-file", str(file))
    expect(page.locator("#designer-status")).to_contain_text("Đã mở tệp diploma_copy.bpmn")
    name = page.evaluate(
        "() => window.motcuaDesigner.modeler.get('elementRegistry')"
        ".get('verify_register').businessObject.name"
    )
    assert name == "Đối chiếu sổ gốc (tệp mới)"
    page.click("#designer-validate")
    expect(page.locator("#designer-status")).to_contain_text("Hợp lệ")
    assert problems == []
    designer.close()
    draft = engine.draft("diploma_copy")
    assert draft is not None and draft.valid and "(tệp mới)" in draft.xml
    assert engine.procedure("diploma_copy").version == 1


def test_a_broken_form_schema_blocks_saving_until_fixed(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
) -> None:
    designer = Session(browser, server, "designer")
    page = designer.page
    open_designer(page, server, "diploma_copy")
    select(page, "verify_register")
    original = page.input_value("#form-schema")
    page.fill("#form-schema", '{"type": "object", "properties": {')
    expect(page.locator("#form-schema-error")).to_contain_text("JSON không hợp lệ")
    select(page, "approve_copy")
    select(page, "verify_register")
    expect(page.locator("#form-schema")).to_have_value('{"type": "object", "properties": {')  # kept
    page.click("#designer-validate")
    expect(page.locator("#designer-status")).to_contain_text("Chưa lưu: biểu mẫu của 1 phần tử")
    expect(page.locator("#designer-issues li.error")).to_contain_text("[verify_register] Biểu mẫu")
    page.click("#designer-deploy")
    expect(page.locator("#designer-status")).to_contain_text("Chưa lưu")
    assert engine.draft("diploma_copy") is None and engine.procedure("diploma_copy").version == 1
    page.fill("#form-schema", original)
    page.click("#designer-validate")
    expect(page.locator("#designer-status")).to_contain_text("Hợp lệ")
    designer.close()
