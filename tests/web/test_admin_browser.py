"""The administrator in Debian's Chromium: records a day off on the calendar page and sees it take effect."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from engine.service import Engine
from tests.web.test_browser import Session, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_admin_adds_a_day_off_and_sees_it_listed_and_applied(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    sqlite_engine: Engine,
) -> None:
    admin = Session(browser, server, "admin")
    page = admin.goto("/admin/")
    page.click("#admin-calendar a")
    expect(page.locator("h1")).to_have_text("Lịch làm việc năm 2026")
    expect(page.locator("#make-up-days tr[data-day='2026-08-22']")).to_be_visible()

    # A note left empty is refused by the server with its own message (the browser check is lifted
    # so the server's validation is what answers); nothing is stored.
    page.fill("#day", "2026-03-03")
    page.eval_on_selector("#note", "el => el.removeAttribute('required')")
    page.click("#override-form button[type=submit]")
    expect(page.locator("#override-error")).to_contain_text("Phải ghi căn cứ")
    assert sqlite_engine.calendar_overrides() == []

    page.fill("#day", "2026-03-03")
    page.select_option("#kind", "off")
    page.fill("#note", "Thông báo số 123/TB-UBND ngày 15/01/2026 về hoán đổi ngày làm việc")
    page.click("#override-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Đã ghi điều chỉnh lịch ngày 03/03/2026")
    row = page.locator("#override-history tr[data-day='2026-03-03']")
    expect(row).to_contain_text("Thông báo số 123/TB-UBND")
    expect(row).to_contain_text("Đang áp dụng")
    expect(page.locator("#days-off tr[data-day='2026-03-03']")).to_be_visible()

    page.fill("#from", "2026-03-02T08:00")
    page.fill("#amount", "8")
    page.select_option("#unit", "hours")
    page.click("#trial-form button[type=submit]")
    expect(page.locator("#trial-result")).to_contain_text("08:30 04/03/2026")
    admin.shot("admin-calendar")
    admin.close()
