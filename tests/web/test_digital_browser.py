"""The digital one-stop pages in Debian's Chromium: a clerk checks the applicant's identity (a
mismatch, then the override reason), digitises a scanned page drawn by the test, finds its text by
search; a citizen files a complaint that staff answer and publish, and rates the answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from werkzeug.serving import make_server

from engine.identity import LocalPopulationData, seed_population_records
from engine.service import Engine
from engine.storage import DiskFileStore
from tests.engine.test_digitise import scanned_page
from tests.web.conftest import TEST_CONFIG, submit_online
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from web.app import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def digital_server(sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    seed_population_records(sqlite_engine.db)
    config = {
        **TEST_CONFIG,
        "FILE_STORE": DiskFileStore(tmp_path / "files"),
        "POPULATION_DATA": LocalPopulationData(sqlite_engine.db),
    }
    http = make_server("127.0.0.1", 0, create_app(sqlite_engine, config), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


def test_identity_digitisation_and_search(
    browser: Browser,  # noqa: F811
    digital_server: str,
    sqlite_engine: Engine,
) -> None:
    case = submit_online(sqlite_engine)
    clerk = Session(browser, digital_server, "clerk")
    page = clerk.goto(f"/cases/{case.code}")
    page.click("#digital-link")
    page.fill("#cccd", "001091012345")
    page.fill("#dob", "1990-05-12")
    page.click("#identity-form button[type=submit]")
    expect(page.locator("#identity-error")).to_contain_text("Hai chữ số năm sinh trong số CCCD (91)")
    page.fill("#cccd", "001090012345")
    page.fill("#dob", "1990-05-13")
    page.click("#identity-form button[type=submit]")
    expect(page.locator("#identity-state")).to_contain_text("Không khớp dữ liệu dân cư")
    page.fill("#reason", "Đã đối chiếu bản chính thẻ CCCD")
    page.click("#override-form button[type=submit]")
    expect(page.locator("#identity-state")).to_contain_text("đã ghi lý do tiếp nhận")
    page.select_option("#document-code", "TP2")
    page.set_input_files(
        "#scan",
        {
            "name": "cccd.png",
            "mimeType": "image/png",
            "buffer": scanned_page(["CĂN CƯỚC CÔNG DÂN", "Nguyễn Văn An"]),
        },
    )
    # OCR takes seconds (more on a loaded machine): the form's navigation gets a generous limit.
    with page.expect_navigation(timeout=300_000):
        page.click("#digitise-form button[type=submit]", no_wait_after=True)
    expect(page.locator("#components tr[data-code=TP2]")).to_contain_text("Đã số hóa")
    clerk.shot("digital-case")
    page.goto(f"{digital_server}/digitised/search")
    page.fill("#q", "căn cước")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#search-hits")).to_contain_text(case.code)
    clerk.close()
    kinds = [e.kind for e in sqlite_engine.events(case.code)]
    assert kinds[-3:] == ["identity_checked", "identity_overridden", "document_digitised"]


def test_complaint_answered_published_and_rated(
    browser: Browser,  # noqa: F811
    digital_server: str,
    sqlite_engine: Engine,
) -> None:
    case = submit_online(sqlite_engine)
    citizen = Session(browser, digital_server)
    page = citizen.goto("/public/feedback")
    page.fill("#content", "Tôi chờ quá lâu ở quầy tiếp nhận.")
    page.fill("#case-code", case.code)
    page.fill("#case-secret", "SAI-MA")
    page.check("#anonymous")
    page.click("#feedback-form button[type=submit]")
    expect(page.locator("#feedback-error")).to_contain_text("Mã hồ sơ hoặc mã tra cứu không đúng")
    assert case.secret is not None
    page.fill("#case-secret", case.secret)
    page.click("#feedback-form button[type=submit]")
    code = page.locator("#feedback-code").inner_text().strip()
    secret = page.locator("#feedback-secret").inner_text().strip()
    head = Session(browser, digital_server, "head")
    board = head.goto("/feedback")
    board.click(f"#feedback-board a:text('{code}')")
    board.select_option("#assignee", "specialist")
    board.click("#assign-form button[type=submit]")
    specialist = Session(browser, digital_server, "specialist")
    item = specialist.goto(f"/feedback/{code}")
    item.fill("#answer", "Đã bố trí thêm cán bộ tiếp nhận buổi sáng.")
    item.click("#answer-form button[type=submit]")
    expect(item.locator("#answer-text")).to_contain_text("Đã bố trí thêm cán bộ")
    board = head.goto(f"/feedback/{code}")
    board.click("#publish-form button[type=submit]")
    expect(board.locator("#feedback-item h1")).to_contain_text("Đã công khai kết quả")
    page = citizen.goto("/public/feedback/lookup")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.click("#feedback-lookup-form button[type=submit]")
    expect(page.locator("#feedback-answer")).to_contain_text("Đã bố trí thêm cán bộ")
    page.check("input[name=score][value='3']")
    page.click("#feedback-rate-form button[type=submit]")
    expect(page.locator("#feedback-rating")).to_contain_text("Rất hài lòng")
    citizen.shot("feedback-rated")
    for session in (citizen, head, specialist):
        session.close()
