"""The import assistant in the designer (Debian's Chromium): a diagram from the BPMN MIWG reference
suite (../shared/bpmn-corpus/miwg, CC BY 3.0, read in place) opens through "Mở tệp BPMN…", the one
report lists what motcua needs with XML attribute names, the designer changes a proposal, applies
the values into the editor, validates and deploys; a case on the new version runs to completion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from engine.clock import FixedClock
from engine.service import Engine
from tests.engine.helpers import drive_to_end
from tests.engine.test_designer import restore_library
from tests.engine.test_import_corpus import CORPUS
from tests.web.test_browser import Session, browser, server  # noqa: F401 (fixtures)
from tests.web.test_designer_browser import open_designer, watch_console

pytestmark = pytest.mark.browser

MIWG_FILE = CORPUS / "Reference" / "C.9.1.bpmn"
TASK = "UserTask_CallCustomer"


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    yield sqlite_engine
    restore_library(sqlite_engine.db)


def test_a_miwg_diagram_is_completed_by_the_assistant_validated_deployed_and_run(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
    clock: FixedClock,
) -> None:
    assert MIWG_FILE.is_file(), f"BPMN MIWG corpus not found: {MIWG_FILE}"
    designer = Session(browser, server, "designer")
    page = designer.page
    problems = watch_console(page)
    open_designer(page, server, "diploma_copy")
    page.set_input_files("#designer-file", str(MIWG_FILE))
    expect(page.locator("#designer-status")).to_contain_text("Đã mở tệp C.9.1.bpmn")
    expect(page.locator("#designer-status")).to_contain_text("Trợ lý nhập sơ đồ: thiếu")

    # One report: procedure metadata, each user task's role/hours/status, in the XML's names.
    report = page.locator("#import-report")
    expect(report).to_be_visible()
    expect(report.locator("#import-summary")).to_contain_text("triển khai được")
    findings = report.locator("#import-findings li")
    expect(findings.filter(has_text="thuộc tính legalTime")).to_have_count(1)
    mine = findings.filter(has_text=f"[{TASK}]")
    expect(mine.filter(has_text="thuộc tính motcua:step role")).to_have_count(1)
    expect(mine.filter(has_text="thuộc tính motcua:step hours")).to_have_count(1)
    # The receive task waits for the customer's document: a person records its arrival.
    expect(findings.filter(has_text="ReceiveTask_WaitForDocument")).to_contain_text(["userTask"])
    expect(findings.filter(has_text="thuộc tính motcua:status code").first).to_be_visible()
    expect(findings.filter(has_text="Mã quy trình")).to_contain_text("diploma_copy")
    assert "legal_time" not in report.inner_text() and "online_level" not in report.inner_text()
    row = report.locator(f"#import-steps tr[data-element-id='{TASK}']")
    expect(row.locator("select[name='role']")).to_have_value("specialist")  # proposed
    expect(row.locator("input[name='hours']")).to_have_value("4")
    designer.shot("import-assist-report")

    # The designer confirms, changing two proposals, and applies them into the editor's XML.
    row.locator("select[name='role']").select_option("head_of_department")
    row.locator("input[name='hours']").fill("2")
    report.locator("#import-procedure input[name='code']").fill("1.009999")
    page.click("#import-apply")
    expect(page.locator("#designer-status")).to_contain_text("Đã áp dụng giá trị mặc định")
    step = page.evaluate(
        """(id) => {
          const bo = window.motcuaDesigner.modeler.get('elementRegistry').get(id).businessObject;
          const step = bo.extensionElements.get('values').find((v) => v.$type === 'motcua:Step');
          return {role: step.role, hours: String(step.hours)};
        }""",
        TASK,
    )
    assert step == {"role": "head_of_department", "hours": "2"}
    expect(page.locator("#proc-code")).to_have_value("1.009999")  # the side form reads the new XML

    page.click("#designer-validate")
    expect(page.locator("#designer-status")).to_contain_text("Hợp lệ")
    page.click("#designer-deploy")
    expect(page.locator("#designer-status")).to_contain_text("Đã triển khai phiên bản 2")
    designer.shot("import-assist-deployed")
    assert problems == []
    designer.close()

    deployed = engine.procedure("diploma_copy")
    assert deployed.version == 2 and deployed.meta["code"] == "1.009999"
    [call] = [s for s in deployed.steps if s["element_id"] == TASK]
    assert (call["role"], call["hours"]) == ("head_of_department", 2)
    case = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Lê Văn Cường"}}, engine.actor("clerk")
    )
    assert case.procedure_version == 2
    assert drive_to_end(engine, clock, case.code).completed


# Imports the assistant's copy into the page's modeler, exports it as the editor would save it, and
# asks the server's validator about that export.
ROUND_TRIP = """async (xml) => {
  const state = window.motcuaDesigner, root = document.getElementById('designer');
  const imported = await state.modeler.importXML(xml);
  const { xml: saved } = await state.modeler.saveXML({ format: true });
  const response = await fetch(root.dataset.validateUrl, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': root.dataset.csrf },
    body: JSON.stringify({ xml: saved }),
  });
  const body = await response.json();
  return { ok: body.ok, warnings: imported.warnings.length,
           errors: (body.issues || []).filter((i) => i.severity === 'error').map((i) => i.message) };
}"""


def test_every_miwg_diagram_made_deployable_stays_valid_through_the_editor(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
) -> None:
    """bpmn-js reads and writes the assistant's copies (new gateways, forms, renamed elements)
    without losing what makes them deployable."""
    designer = Session(browser, server, "designer")
    page = designer.page
    problems = watch_console(page)
    open_designer(page, server, "diploma_copy")
    checked, broken = 0, []
    for path in sorted(CORPUS.rglob("*.bpmn")):
        report = engine.import_assist(
            path.name, path.read_bytes(), engine.actor("designer"), procedure_id="diploma_copy"
        )
        if not report.deployable or report.prepared is None:
            continue
        result = page.evaluate(ROUND_TRIP, report.prepared.decode("utf-8"))
        checked += 1
        if not result["ok"]:
            broken.append(f"{path.relative_to(CORPUS)}: {result['errors'][:3]}")
    print(f"\nMIWG copies checked through bpmn-js: {checked}, still valid: {checked - len(broken)}")
    assert checked > 100
    assert not broken, broken
    # bpmn-js logs what it cannot draw of some tools' exports (an annotation linked across pools)
    # as import warnings; nothing else may go wrong in the page.
    assert [p for p in problems if not p.startswith("failed to import")] == []
    designer.close()
