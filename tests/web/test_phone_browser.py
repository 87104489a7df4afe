"""Phones and tablets in Debian's Chromium: no page is wider than the screen (360 px and 1366 px), the
online form checks itself in Vietnamese before sending, and a citizen walks submission →
supplementation → lookup → rating on a phone. Screenshots go to docs/screenshots/ (README's web
section links them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import TEST_PASSWORD, vn
from tests.web.conftest import ACCEPT
from tests.web.test_browser import PDF, browser, fill_diploma_details, server

__all__ = ["browser", "server"]  # fixtures shared with the main browser walk

pytestmark = pytest.mark.browser

DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTHS = (360, 1366)


class Screen:
    """One person at one browser of a given width."""

    def __init__(self, browser: Browser, base: str, width: int, username: str | None = None) -> None:
        height = 780 if width < 800 else 900
        self.width = width
        self.context = browser.new_context(
            locale="vi-VN", viewport={"width": width, "height": height}, is_mobile=width < 800
        )
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.base = base
        self.missing: list[str] = []
        self.page.on("response", self._note_missing)
        if username:
            self.goto("/login")
            self.page.fill("#username", username)
            self.page.fill("#password", TEST_PASSWORD)
            self.page.click("button[type=submit]")

    def _note_missing(self, response: object) -> None:
        status, url = getattr(response, "status", 0), str(getattr(response, "url", ""))
        if status == 404:
            self.missing.append(url)

    def goto(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def fits(self, name: str) -> None:
        """No horizontal scroll on this page at this width; saves the screenshot for the README."""
        width = self.page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= self.width, f"{name}: {width} px wide at {self.width} px"
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(DOCS_SHOTS / f"{name}-{self.width}.png"), full_page=True)

    def close(self) -> None:
        assert not self.missing, f"404 while loading: {self.missing}"
        self.context.close()


@pytest.fixture
def walk_clock(clock: FixedClock) -> Iterator[FixedClock]:
    clock.set(vn(2026, 3, 2, 8, 0))
    yield clock


def _fill_online_form(page: Page) -> None:
    page.fill("#a-name", "Nguyễn Thị Mai")
    page.fill("#a-phone", "0905 123 456")
    page.fill("#a-email", "congdan@example.vn")
    fill_diploma_details(page)
    page.set_input_files("#doc-TP1", {"name": "don.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.set_input_files("#doc-TP2", {"name": "cccd.pdf", "mimeType": "application/pdf", "buffer": PDF})


@pytest.mark.parametrize("width", WIDTHS)
def test_citizen_walk_fits_the_screen(
    browser: Browser, server: str, sqlite_engine: Engine, walk_clock: FixedClock, width: int
) -> None:
    engine = sqlite_engine
    citizen = Screen(browser, server, width)
    page = citizen.goto("/")
    expect(page.locator("#procedures li")).to_have_count(len(engine.list_procedures()))
    expect(page.locator("body")).not_to_contain_text("Phiên bản")
    citizen.fits("01-home")
    page.click("li[data-procedure=diploma_copy] a.proc-name")
    expect(page.locator("#procedure-legal-basis")).to_contain_text("23/2015/NĐ-CP")
    citizen.fits("02-procedure")
    page.click("a.button.primary")

    # Sent empty: the page itself answers in Vietnamese next to each field, nothing is posted.
    page.click("#submit-form button[type=submit]")
    expect(page.locator("#a-name-error")).to_have_text("bắt buộc")
    expect(page.locator("#doc-TP1-error")).to_have_text("chưa đính kèm tệp")
    page.fill("#a-phone", "abc")
    page.click("#submit-form button[type=submit]")
    expect(page.locator("#a-phone-error")).to_have_text("số điện thoại không hợp lệ")
    assert engine.desk_queue(1) == []
    citizen.fits("03-submit-errors")

    _fill_online_form(page)
    page.click("#submit-form button[type=submit]")
    code = page.locator("#case-code").inner_text().strip()
    secret = page.locator("#case-secret").inner_text().strip()
    family = page.eval_on_selector("#case-procedure", "e => getComputedStyle(e).fontFamily")
    assert "Mono" not in family and "monospace" not in family
    expect(page.locator("#case-procedure")).to_have_text("Cấp bản sao văn bằng, chứng chỉ từ sổ gốc")
    citizen.fits("04-submitted")
    assert len(engine.desk_queue(1)) == 1

    # The desk asks for TP2 again; the citizen sees why and answers with a file in TP2's slot.
    engine.complete_work_item(
        code,
        "receipt_check",
        {"decision": "supplement", "missing_documents": ["TP2"], "reason": "Ảnh CCCD bị mờ"},
        engine.actor("clerk"),
    )
    page = citizen.goto("/public/lookup")
    page.fill("#code", code.lower())
    page.fill("#secret", secret.lower())
    page.click("#lookup-form button[type=submit]")
    expect(page.locator("#supplement-reason")).to_have_text("Ảnh CCCD bị mờ")
    expect(page.locator("#missing-documents li")).to_have_count(1)
    citizen.fits("05-supplement-request")
    page.set_input_files("#doc-TP2", {"name": "cccd-ro.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.click("#supplement-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Đã gửi hồ sơ bổ sung")
    assert [d.document_code for d in engine.list_documents(code)] == ["TP1", "TP2", "TP2"]

    # Processed and returned; the citizen rates from the phone.
    engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    engine.complete_work_item(
        code, "verify_register", {"found": True, "register_ref": "S", "copies": 2}, engine.actor("specialist")
    )
    engine.complete_work_item(code, "approve_copy", {"approved": True}, engine.actor("head"))
    engine.complete_work_item(
        code, "return_result", {"returned_to": "Mai", "method": "in_person"}, engine.actor("clerk")
    )
    page = citizen.goto("/public/lookup")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.click("#lookup-form button[type=submit]")
    citizen.fits("06-lookup-returned")
    page.check("#rating-form input[name=score][value='3']")
    page.click("#rating-form button[type=submit]")
    expect(page.locator("#rating-done")).to_contain_text("Ông/bà đã đánh giá")
    citizen.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_desk_pages_fit_the_screen(
    browser: Browser, server: str, sqlite_engine: Engine, walk_clock: FixedClock, width: int
) -> None:
    engine = sqlite_engine
    case = engine.start_case(
        {
            "procedure_id": "diploma_copy",
            "channel": 2,
            "applicant": {"name": "Trần Văn Bình", "id_number": "048090001234", "address": "12 Lê Lợi, Huế"},
        },
        engine.actor("citizen"),
    )
    clerk = Screen(browser, server, width, "clerk")
    for path, name in (
        ("/desk/", "10-desk-queue"),
        ("/desk/intake?procedure_id=diploma_copy", "11-desk-intake"),
        (f"/desk/receipt/{case.code}", "12-desk-receipt"),
        (f"/cases/{case.code}", "13-case"),
        ("/tasks/", "14-tasks"),
        ("/board/", "15-board"),
    ):
        page = clerk.goto(path)
        expect(page.locator("h1").first).to_be_visible()
        clerk.fits(name)
    page = clerk.goto(f"/desk/receipt/{case.code}")
    page.check("input[name=decision][value=accept]")
    page.check("input[name=checked_documents][value=TP1]")
    page.check("input[name=checked_documents][value=TP2]")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#form-code")).to_have_text(case.code)
    clerk.fits("16-form01")
    clerk.close()
    assert re.fullmatch(r"H99\.12-\d{6}-\d{4}", case.code)


def test_counter_intake_on_one_page_with_the_keyboard_alone(
    browser: Browser, server: str, sqlite_engine: Engine, walk_clock: FixedClock
) -> None:
    """Procedure, applicant, scans, "Đủ tất cả" and the decision on one page, driven by keys only
    (the files are handed to the inputs directly: a file chooser is the operating system's)."""
    engine = sqlite_engine
    clerk = Screen(browser, server, 1366, "clerk")
    page = clerk.goto("/desk/intake")
    keys = page.keyboard
    page.focus("#procedure")
    keys.press("ArrowDown")  # the first procedure of the list
    first = engine.list_procedures()[0]
    assert page.eval_on_selector("#procedure", "e => e.value") == first.procedure_id
    page.focus("#procedure")
    page.select_option("#procedure", "diploma_copy")  # the same select, set to the one we want
    keys.press("Tab")
    keys.press("Enter")  # "Chọn thủ tục"
    expect(page.locator("#intake-form")).to_be_visible()
    page.focus("#a-name")
    keys.type("Trần Thị Lan")
    keys.press("Tab")  # Đối tượng
    keys.press("Tab")
    keys.type("048190001111")
    keys.press("Tab")
    keys.type("0905 111 222")
    keys.press("Tab")
    keys.press("Tab")
    keys.type("12 Hùng Vương, Huế")
    for code in ("TP1", "TP2"):
        page.set_input_files(
            f"#doc-{code}", {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
    page.focus("#receipt-fields input[name=decision][value=accept]")
    keys.press("Space")
    page.focus("#check-all-checked_documents")
    keys.press("Enter")  # "Đủ tất cả"
    for code in ("TP1", "TP2", "TP3"):
        expect(page.locator(f"#receipt-fields input[name=checked_documents][value={code}]")).to_be_checked()
    page.focus("#intake-form button[type=submit]")
    keys.press("Enter")
    expect(page.locator("#form-code")).to_be_visible()
    expect(page.locator("#form-id-number")).to_have_text("048190001111")
    expect(page.locator("#form-address")).to_have_text("12 Hùng Vương, Huế")
    expect(page.locator("#lookup-secret")).to_be_visible()
    code = page.locator("#form-code").inner_text().strip()
    case = engine.get_case(code)
    assert case.received_at is not None and case.channel == 1
    assert case.applicant["id_number"] == "048190001111"
    assert [d.document_code for d in engine.list_documents(code)] == ["TP1", "TP2"]
    clerk.close()
