"""A phone-width walk in Debian's Chromium with citizen sign-in: everyone works at 360 px, every step
in the browser. The citizen signs in at the local OIDC test provider (mounted in the app, real HTTP,
real RS256 tokens) and submits pre-filled; the desk asks for a component again; the citizen answers
from "Hồ sơ của tôi"; signed out, they look the dossier up by code and secret; the desk, the
specialist and the head finish it; the desk returns the result; the citizen rates it. Screenshots of
the new pages at 360 and 1366 px go to docs/screenshots/ (README's web section).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import vn
from tests.web.conftest import TEST_CONFIG
from tests.web.test_browser import PDF, browser, fill_diploma_details
from tests.web.test_phone_browser import WIDTHS, Screen
from web.app import create_app

__all__ = ["browser"]

pytestmark = pytest.mark.browser

AN = "001090012345"


@pytest.fixture
def idp_server(sqlite_engine: Engine, clock: FixedClock) -> Iterator[str]:
    """The app with the local OIDC test provider mounted under /oidc-test, over HTTP."""
    clock.set(vn(2026, 3, 2, 8, 0))
    app = create_app(sqlite_engine, {**TEST_CONFIG, "OIDC_TEST_PROVIDER": True})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="motcua-test-http-oidc", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)


def sign_in(screen: Screen, shot: bool = False) -> Page:
    page = screen.goto("/")
    page.click("#citizen-signin")
    expect(page.locator("#idp-login h1")).to_have_text("Đăng nhập định danh (thử nghiệm)")
    if shot:
        screen.fits("20-signin-provider")
    page.check(f"#idp-form input[name=person][value='{AN}']")
    page.click("#idp-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Hồ sơ của tôi")
    expect(page.locator("#citizen-name")).to_have_text("Nguyễn Văn An")
    return page


def test_phone_walk_with_sign_in_and_every_staff_step_in_the_browser(
    browser: Browser, idp_server: str, sqlite_engine: Engine
) -> None:
    engine = sqlite_engine
    citizen = Screen(browser, idp_server, 360)
    page = sign_in(citizen)
    expect(page.locator("#my-empty")).to_be_visible()

    # Submission, pre-filled with who signed in; the CCCD cannot be changed.
    page = citizen.goto("/public/procedures/diploma_copy/submit")
    expect(page.locator("#signed-in-applicant")).to_contain_text("Nguyễn Văn An")
    expect(page.locator("#a-name")).to_have_value("Nguyễn Văn An")
    expect(page.locator("#a-id")).to_have_value(AN)
    expect(page.locator("#a-id")).to_have_attribute("readonly", "")
    page.fill("#a-phone", "0905 123 456")
    fill_diploma_details(page)
    page.set_input_files("#doc-TP1", {"name": "don.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.set_input_files("#doc-TP2", {"name": "cccd.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.click("#submit-form button[type=submit]")
    code = page.locator("#case-code").inner_text().strip()
    secret = page.locator("#case-secret").inner_text().strip()
    checks = [e for e in engine.events(code) if e.kind == "identity_checked"]
    assert [c.payload["source"] for c in checks] == ["portal"]

    # The desk (on a phone too) asks for TP2 again, in the browser.
    clerk = Screen(browser, idp_server, 360, "clerk")
    page = clerk.goto("/desk/")
    page.locator(f"#receipt-queue tr[data-code='{code}'] a.button").click()
    page.check("#task-form input[name=decision][value=supplement]")
    page.check("#task-form input[name=missing_documents][value=TP2]")
    page.fill("#task-form [name=reason]", "Ảnh CCCD bị mờ, đề nghị chụp lại")
    page.click("#task-form button[type=submit]")
    expect(page.locator("body")).to_contain_text("PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ")
    assert engine.get_case(code).status == 5

    # The citizen sees it in "Hồ sơ của tôi" and answers with a file in TP2's slot.
    page = citizen.goto("/public/my")
    row = page.locator(f"#my-dossiers li[data-code='{code}']")
    expect(row).to_contain_text("Yêu cầu bổ sung giấy tờ")
    expect(row.locator(".action-needed")).to_be_visible()
    citizen.fits("24-my-dossiers-supplement")
    row.locator("a.button").click()
    expect(page.locator("#supplement-reason")).to_have_text("Ảnh CCCD bị mờ, đề nghị chụp lại")
    expect(page.locator("#back-to-my")).to_be_visible()
    page.set_input_files("#doc-TP2", {"name": "cccd-ro.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.click("#supplement-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Đã gửi hồ sơ bổ sung")
    assert [d.document_code for d in engine.list_documents(code)] == ["TP1", "TP2", "TP2"]

    # Signed out, the code and secret still open it.
    page.click("#signout-form button")
    expect(page.locator(".flash-success")).to_contain_text("đã đăng xuất")
    expect(page.locator("#citizen-signin")).to_be_visible()
    page = citizen.goto("/public/lookup")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.click("#lookup-form button[type=submit]")
    expect(page.locator("#public-status")).to_have_text("Mới đăng ký")

    # The staff finish it, each in the browser.
    page = clerk.goto("/desk/")
    page.locator(f"#receipt-queue tr[data-code='{code}'] a.button").click()
    page.check("#task-form input[name=decision][value=accept]")
    page.check("#task-form input[name=checked_documents][value=TP1]")
    page.check("#task-form input[name=checked_documents][value=TP2]")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#form-code")).to_have_text(code)

    specialist = Screen(browser, idp_server, 360, "specialist")
    page = specialist.goto("/tasks/")
    page.locator(f"#tasklist tr[data-code='{code}'] button", has_text="Nhận xử lý").click()
    expect(page.locator(f"#tasklist tr[data-code='{code}']")).to_contain_text("specialist")
    page = specialist.goto(f"/cases/{code}")
    page.check("#task-form input[name=found][value=true]")
    page.fill("#task-form [name=register_ref]", "Sổ gốc 2012, số 88")
    page.fill("#task-form [name=copies]", "2")
    page.click("#task-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Đối chiếu sổ gốc")

    head = Screen(browser, idp_server, 360, "head")
    page = head.goto(f"/cases/{code}")
    page.check("#task-form input[name=approved][value=true]")
    page.click("#task-form button[type=submit]")
    expect(page.locator(".flash-success")).to_be_visible()
    assert engine.get_case(code).status == 9

    page = clerk.goto("/desk/")
    page.locator(f"#return-queue tr[data-code='{code}'] a.button").click()
    page.fill("#task-form [name=returned_to]", "Nguyễn Văn An")
    page.check("#task-form input[name=method][value=in_person]")
    page.click("#task-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Đã trả kết quả")

    # The result is out; the citizen looks it up and rates from the phone.
    page = citizen.goto("/public/lookup")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.click("#lookup-form button[type=submit]")
    expect(page.locator("#public-status")).to_have_text("Đã trả kết quả")
    page.check("#rating-form input[name=score][value='3']")
    page.fill("#comment", "Nộp trên điện thoại rất tiện")
    page.click("#rating-form button[type=submit]")
    expect(page.locator("#rating-done")).to_contain_text("Rất hài lòng")
    final = engine.get_case(code)
    assert final.status == 10 and engine.rating(code, secret) is not None
    for screen in (citizen, clerk, specialist, head):
        screen.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_sign_in_pages_fit_the_screen(
    browser: Browser, idp_server: str, sqlite_engine: Engine, width: int
) -> None:
    engine = sqlite_engine
    counter = engine.counter_intake(
        {
            "procedure_id": "diploma_copy",
            "channel": 1,
            "applicant": {"name": "Nguyễn Văn An", "id_number": AN, "phone": "0905123456"},
        },
        actor=engine.actor("clerk"),
    )
    citizen = Screen(browser, idp_server, width)
    page = sign_in(citizen, shot=True)
    expect(page.locator(f"#my-dossiers li[data-code='{counter.code}']")).to_contain_text("Mới đăng ký")
    citizen.fits("21-my-dossiers")
    page = citizen.goto("/public/procedures/diploma_copy/submit")
    citizen.fits("23-submit-signed-in")

    # A callback this browser never started: refused in Vietnamese, still signed in as before.
    stranger = Screen(browser, idp_server, width)
    page = stranger.goto("/public/signin/callback?code=abc&state=forged")
    expect(page.locator("#signin-error")).to_contain_text("state")
    expect(page.locator("#citizen-signin")).to_be_visible()
    stranger.fits("22-signin-error")
    page = citizen.goto("/public/my")
    expect(page.locator("#citizen-name")).to_have_text("Nguyễn Văn An")
    citizen.close()
    stranger.close()
