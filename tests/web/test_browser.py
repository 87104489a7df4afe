"""End-to-end walks in Debian's Chromium (Playwright), against the real app served over HTTP.

The app runs in-process on a werkzeug server thread with the test's FixedClock, so the test moves
time (through the 8-hour receipt window, past an appointment) without sleeping. Screenshots of the
main pages go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import TEST_PASSWORD, vn
from tests.web.conftest import TEST_CONFIG
from web.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PDF = b"%PDF-1.4\n% motcua test document\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser-deps` installs Debian chromium", pytrace=False)
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def server(sqlite_engine: Engine) -> Iterator[str]:
    app = create_app(sqlite_engine, dict(TEST_CONFIG))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="motcua-test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


class Session:
    """One person at one browser: their own cookies, their own page."""

    def __init__(self, browser: Browser, base: str, username: str | None = None) -> None:
        self.context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.base = base
        if username:
            self.goto("/login")
            self.page.fill("#username", username)
            self.page.fill("#password", TEST_PASSWORD)
            self.page.click("button[type=submit]")
            expect(self.page.locator(".user")).to_contain_text(f"Người dùng {username}")

    def goto(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def fill_diploma_details(page: Page) -> None:
    """The diploma-copy form's own fields (declared on the BPMN start event)."""
    page.select_option("#f-diploma_type", "thpt")
    page.fill("#f-graduation_year", "2012")
    page.fill("#f-school", "Trường THPT Phan Châu Trinh, Đà Nẵng")
    page.fill("#f-copies", "2")
    page.check("input[name=delivery][value=in_person]")


def submit_online(browser: Browser, server: str, name: str, shot: str | None = None) -> tuple[str, str]:
    citizen = Session(browser, server)
    page = citizen.goto("/")
    page.click("a[href='/public/procedures/diploma_copy/submit']")
    page.fill("#a-name", name)
    page.fill("#a-phone", "0905123456")
    page.fill("#a-email", "congdan@example.vn")
    fill_diploma_details(page)
    page.set_input_files(
        "input[name=doc_TP1]", {"name": "don-de-nghi.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.set_input_files(
        "input[name=doc_TP2]", {"name": "cccd.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    if shot:
        citizen.shot(shot)
    page.click("#submit-form button[type=submit]")
    code = page.locator("#case-code").inner_text().strip()
    secret = page.locator("#case-secret").inner_text().strip()
    if shot:
        citizen.shot(shot + "-done")
    citizen.close()
    return code, secret


def complete_on_case_page(session: Session, code: str, fill: dict[str, Any]) -> Page:
    page = session.goto(f"/cases/{code}")
    for name, value in fill.items():
        if value is True or value is False:
            page.check(f"#task-form input[name={name}][value={str(value).lower()}]")
        elif isinstance(value, tuple):
            page.check(f"#task-form input[name={name}][value={value[0]}]")
        else:
            page.fill(f"#task-form [name={name}]", str(value))
    page.click("#task-form button[type=submit]")
    return page


def test_online_dossier_received_processed_returned_and_rated(
    browser: Browser, server: str, sqlite_engine: Engine, clock: FixedClock
) -> None:
    engine = sqlite_engine
    code, secret = submit_online(browser, server, "Nguyễn Thị Mai", shot="01-citizen-submit")
    assert re.fullmatch(r"H99\.12-260302-\d{4}", code) and len(secret) == 16

    # The desk sees it with the 8-working-hour countdown and accepts it within the window.
    clock.set(vn(2026, 3, 2, 10, 0))
    clerk = Session(browser, server, "clerk")
    page = clerk.goto("/desk/")
    row = page.locator(f"#receipt-queue tr[data-code='{code}']")
    expect(row).to_contain_text("Còn 6 giờ 00 phút")
    clerk.shot("02-desk-queue")
    row.locator("a.button").click()
    expect(page.locator("h1")).to_contain_text(code)
    page.check("input[name=decision][value=accept]")
    page.check("input[name=checked_documents][value=TP1]")
    page.check("input[name=checked_documents][value=TP2]")
    clerk.shot("03-desk-receipt")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#form-code")).to_have_text(code)
    expect(page.locator("#due-at")).to_contain_text("17 giờ 00 phút, ngày 02/03/2026")
    clerk.shot("04-form01-receipt")
    assert engine.get_case(code).sla["receipt_outcome"] == "on_time"

    # The specialist claims and verifies the register.
    clock.set(vn(2026, 3, 2, 13, 45))
    specialist = Session(browser, server, "specialist")
    page = specialist.goto("/tasks/")
    row = page.locator(f"#tasklist tr[data-code='{code}']")
    expect(row).to_contain_text("Đối chiếu sổ gốc")
    expect(row).to_have_class(re.compile("row-green"))
    specialist.shot("05-tasklist")
    row.locator("button", has_text="Nhận xử lý").click()
    expect(page.locator(f"#tasklist tr[data-code='{code}']")).to_contain_text("specialist")
    page = complete_on_case_page(specialist, code, {})  # nothing filled: errors come back inline
    expect(page.locator(".flash-error")).to_contain_text("thiếu trường bắt buộc")
    page = complete_on_case_page(
        specialist, code, {"found": True, "register_ref": "Sổ gốc 2015, số 1234", "copies": 2}
    )
    expect(page.locator(".flash-success")).to_contain_text("Đối chiếu sổ gốc")

    # The head of department approves.
    clock.set(vn(2026, 3, 2, 15, 0))
    head = Session(browser, server, "head")
    page = head.goto(f"/cases/{code}")
    head.shot("06-case-page-head")
    complete_on_case_page(head, code, {"approved": True})
    assert engine.get_case(code).status == 9

    # The desk returns the result.
    page = clerk.goto("/desk/")
    page.locator(f"#return-queue tr[data-code='{code}'] a.button").click()
    page.fill("#task-form [name=returned_to]", "Nguyễn Thị Mai")
    page.check("#task-form input[name=method][value=in_person]")
    page.click("#task-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Đã trả kết quả")
    page = clerk.goto(f"/cases/{code}/control-sheet")
    expect(page.locator("#control-sheet")).to_contain_text("Đúng hạn")
    clerk.shot("07-form05-control-sheet")

    # The citizen looks the dossier up and rates the service.
    citizen = Session(browser, server)
    page = citizen.goto("/public/lookup")
    page.fill("#code", code)
    page.fill("#secret", "WRONG123")
    page.click("#lookup-form button[type=submit]")
    expect(page.locator("#lookup-error")).to_have_text("Mã hồ sơ hoặc mã tra cứu không đúng")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.click("#lookup-form button[type=submit]")
    expect(page.locator("#public-status")).to_have_text("Đã trả kết quả")
    page.check("input[name=score][value='3']")
    page.fill("#comment", "Cán bộ hướng dẫn tận tình")
    citizen.shot("08-citizen-lookup")
    page.click("#rating-form button[type=submit]")
    expect(page.locator("#rating-done")).to_contain_text("Rất hài lòng")
    citizen.shot("09-citizen-rated")
    final = engine.get_case(code)
    assert final.status == 10 and final.outcome == "on_time"  # returned on the appointment's own day
    assert engine.rating(code, secret) is not None
    for s in (clerk, specialist, head, citizen):
        s.close()


def test_late_dossier_needs_an_apology_before_it_can_continue(
    browser: Browser, server: str, sqlite_engine: Engine, clock: FixedClock
) -> None:
    engine = sqlite_engine
    clock.set(vn(2026, 3, 2, 9, 0))
    clerk = Session(browser, server, "clerk")
    page = clerk.goto("/desk/intake")
    page.select_option("#procedure", "diploma_copy")
    page.click("#procedure-pick-button")
    page.fill("#a-name", "Phạm Văn Long")
    page.fill("#a-addr", "45 Trần Phú, Nha Trang")
    clerk.shot("10-desk-intake")
    page.click("#intake-form button[type=submit]")
    code = page.locator("h1 .code").inner_text().strip()
    page.check("input[name=decision][value=accept]")
    page.check("input[name=checked_documents][value=TP1]")
    page.check("input[name=checked_documents][value=TP2]")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#lookup-secret")).to_be_visible()  # counter dossier: secret on the receipt
    assert engine.get_case(code).due_at == vn(2026, 3, 2, 17, 0)  # the same working day's close

    # Nobody verified the register in time: the appointment passes and the board shows the breach.
    clock.set(vn(2026, 3, 3, 10, 0))
    engine.fire_due_timers()
    head = Session(browser, server, "head")
    page = head.goto("/board/")
    breached = page.locator(f"#board-breached tr[data-code='{code}']")
    expect(breached).to_contain_text("Chưa có phiếu xin lỗi")
    head.shot("11-sla-board")

    # The engine refuses to continue a late dossier without the apology letter.
    specialist = Session(browser, server, "specialist")
    page = complete_on_case_page(specialist, code, {"found": True, "register_ref": "S-77", "copies": 1})
    expect(page.locator("#task-error")).to_contain_text("Mẫu 04")
    expect(page.locator("#apology-hint")).to_be_visible()  # a specialist cannot issue it: who can
    expect(page.locator("#task-form [name=register_ref]")).to_have_value("S-77")  # the input is kept

    # The head issues Mẫu 04 with a new appointment.
    page = head.goto(f"/cases/{code}/apology")
    page.fill("#unit", "Phòng Quản lý chất lượng")
    page.fill("#reason", "Sổ gốc năm 2015 đang lưu tại kho lưu trữ tỉnh")
    page.fill("#nd", "2026-03-04")
    page.fill("#nt", "16:00")
    head.shot("12-apology-form")
    page.click("#apology-form button[type=submit]")
    expect(page.locator("#new-due")).to_contain_text("16 giờ 00 phút, ngày 04/03/2026")
    expect(page.locator("#original-due")).to_contain_text("17 giờ 00 phút, ngày 02/03/2026")
    head.shot("13-form04-apology")

    page = head.goto("/board/")
    expect(page.locator(f"#board-rescheduled tr[data-code='{code}'] .apology")).to_contain_text(
        "Đã xin lỗi (1)"
    )

    clock.set(vn(2026, 3, 3, 14, 0))
    complete_on_case_page(specialist, code, {"found": True, "register_ref": "S-77", "copies": 1})
    clock.set(vn(2026, 3, 3, 15, 0))
    complete_on_case_page(head, code, {"approved": True})
    page = clerk.goto(f"/cases/{code}")
    expect(page.locator("#case-status")).to_contain_text("Đã xử lý xong")
    expect(page.locator("#case-facts")).to_contain_text("Quá hạn")  # still late despite the new appointment
    clerk.shot("14-case-late")
    assert engine.get_case(code).outcome == "late"
    clock.set(vn(2026, 3, 3, 15, 0) + timedelta(minutes=5))
    for s in (clerk, specialist, head):
        s.close()


def test_printed_forms_download_as_pdf(sqlite_engine: Engine) -> None:
    """Mẫu 01 and Mẫu 05 as PDF files, printed by Chromium from the same templates."""
    from engine.users import CITIZEN
    from tests.web.conftest import ACCEPT, Client

    case = sqlite_engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Đặng Thu Hà"}, "channel": 2}, CITIZEN
    )
    sqlite_engine.complete_work_item(case.code, "receipt_check", ACCEPT, sqlite_engine.actor("clerk"))
    clerk = Client(create_app(sqlite_engine, dict(TEST_CONFIG))).login("clerk")
    assert f'href="/cases/{case.code}/forms/01.pdf"' in clerk.get(f"/cases/{case.code}/forms/01").get_data(
        as_text=True
    )
    for url in (f"/cases/{case.code}/forms/01.pdf", f"/cases/{case.code}/control-sheet.pdf"):
        response = clerk.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
        assert "attachment" in response.headers["Content-Disposition"]
    assert clerk.get(f"/cases/{case.code}/forms/09.pdf").status_code == 404


def test_form01_fits_one_a5_page_with_ten_components(sqlite_engine: Engine) -> None:
    """Mẫu 01 of a ten-component dossier with long names prints on one A5 sheet (PDF page count),
    with the applicant's CCCD and address in its header."""
    import pypdfium2

    from engine.users import CITIZEN
    from tests.support.fixtures import one_unit_library
    from tests.web.conftest import Client

    engine = sqlite_engine
    library = one_unit_library()  # the units the test accounts belong to
    main = (library / "diploma_copy.bpmn").read_text(encoding="utf-8")
    start, end = main.index("<motcua:document "), main.index("<motcua:configurable")
    documents = "".join(
        f'<motcua:document code="TP{i}" name="Giấy tờ số {i}: bản sao có chứng thực văn bằng, chứng chỉ, '
        f'học bạ hoặc giấy xác nhận của cơ sở giáo dục nơi người học đã theo học" kind="copy" count="1"/>\n'
        for i in range(1, 11)
    )
    main = main[:start] + documents + main[end:]
    shared = {f"shared/{p.name}": p.read_bytes() for p in sorted((library / "shared").glob("*.bpmn"))}
    engine.deploy("diploma_copy.bpmn", main.encode("utf-8"), shared, engine.actor("designer"))
    case = engine.start_case(
        {
            "procedure_id": "diploma_copy",
            "channel": 2,
            "applicant": {
                "name": "Đặng Thu Hà",
                "id_number": "048190012345",
                "address": "Số 12 đường Lê Lợi, phường Phú Hội, thành phố Huế, tỉnh Thừa Thiên Huế",
                "phone": "0905123456",
                "email": "thuha@example.vn",
            },
        },
        CITIZEN,
    )
    checked = [f"TP{i}" for i in range(1, 11)]
    engine.complete_work_item(
        case.code,
        "receipt_check",
        {"decision": "accept", "checked_documents": checked},
        engine.actor("clerk"),
    )
    clerk = Client(create_app(engine, dict(TEST_CONFIG))).login("clerk")
    html = clerk.get(f"/cases/{case.code}/forms/01").get_data(as_text=True)
    assert 'id="form-id-number">048190012345<' in html and "phường Phú Hội" in html
    assert html.count("Giấy tờ số ") == 10
    response = clerk.get(f"/cases/{case.code}/forms/01.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    pdf = pypdfium2.PdfDocument(response.data)
    width, height = pdf[0].get_size()
    assert len(pdf) == 1
    assert round(width / 72 * 25.4) == 148 and round(height / 72 * 25.4) == 210  # A5 portrait
