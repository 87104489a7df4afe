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


def test_admin_creates_an_account_and_its_owner_must_change_the_password(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    sqlite_engine: Engine,
) -> None:
    import uuid

    name = f"b{uuid.uuid4().hex[:8]}"
    admin = Session(browser, server, "admin")
    page = admin.goto("/admin/users")
    page.fill("#username", name)
    page.fill("#full_name", "Lý Thị Trình Duyệt")
    page.check("#create-user input[value=specialist]")
    page.fill("#unit", "Phòng Khảo thí")
    page.click("#create-user button[type=submit]")
    password = page.locator("#issued-password").inner_text()
    assert len(password) == 16
    admin.shot("admin-account-created")

    owner = Session(browser, server)
    login = owner.goto("/login")
    login.fill("#username", name)
    login.fill("#password", password)
    login.click("button[type=submit]")
    expect(login.locator("h1")).to_have_text("Đổi mật khẩu")
    expect(login.locator("#forced")).to_be_visible()
    login.fill("#current_password", password)
    login.fill("#password", "1234567890ab")
    login.fill("#password_confirm", "1234567890ab")
    login.click("#password-form button[type=submit]")
    expect(login.locator(".flash-error")).to_contain_text("dễ đoán")
    login.fill("#current_password", password)
    login.fill("#password", "nang-vang-tren-song-huong")
    login.fill("#password_confirm", "nang-vang-tren-song-huong")
    login.click("#password-form button[type=submit]")
    expect(login.locator(".flash-success")).to_contain_text("Đã đổi mật khẩu")

    # The administrator deactivates the account: the owner's open session ends at once.
    page = admin.goto(f"/admin/users/{name}")
    page.click("#deactivate-form button[type=submit]")
    expect(page.locator("#state")).to_have_text("Đã vô hiệu hoá")
    owner.goto("/tasks/")
    expect(owner.page.locator("h1")).to_have_text("Đăng nhập cán bộ")
    owner.close()
    admin.close()
