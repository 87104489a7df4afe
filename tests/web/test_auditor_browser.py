"""The auditor's pages in Debian's Chromium: the case player moves through the events (slider,
previous/next), the state panel follows the replay, the bpmn-js diagram shows the path taken, and the
766 scorecard draws its Chart.js charts — all under the app's strict CSP, without console errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from engine.clock import FixedClock
from engine.service import Engine
from tests.web.test_auditor import run_case, tamper
from tests.web.test_browser import Session, browser, server  # noqa: F401 (fixtures)
from tests.web.test_designer_browser import watch_console

pytestmark = pytest.mark.browser


@pytest.fixture
def engine(sqlite_engine: Engine) -> Iterator[Engine]:
    yield sqlite_engine


def marked(page: Page, marker: str) -> int:
    return int(page.locator(f".djs-element.{marker}").count())


def wait_at(page: Page, at: int) -> None:
    expect(page.locator("#auditor-player")).to_have_attribute("data-at", str(at))
    expect(page.locator("#auditor-player")).to_have_attribute("data-state", "ready")


def test_case_player_steps_through_the_history_on_the_diagram(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
    clock: FixedClock,
) -> None:
    code = run_case(engine, clock)
    total = len(engine.events(code))
    auditor = Session(browser, server, "auditor")
    page = auditor.page
    problems = watch_console(page)

    page.click("text=Kiểm tra, báo cáo")
    page.fill("#code", code)
    page.click("#auditor-search button[type=submit]")
    expect(page.locator("h1")).to_contain_text(code)
    wait_at(page, total)
    expect(page.locator("#chain-result")).to_have_attribute("data-ok", "true")
    expect(page.locator("#snapshot-result")).to_have_attribute("data-ok", "true")
    expect(page.locator("#state-status")).to_contain_text("Đã trả kết quả")
    expect(page.locator("#player-position")).to_have_text(f"Sự kiện {total} / {total}")
    finished_path = marked(page, "motcua-done")
    assert finished_path > 5  # start, the call activity, steps, gateways and the flows between them
    expect(page.locator('.djs-element.motcua-done[data-element-id="approve_copy"]')).to_have_count(1)
    expect(page.locator('.djs-element.motcua-done[data-element-id="call_return"]')).to_have_count(1)
    # Flows are lit only where the dossier went: in, not the approval loop's way back.
    done_flow = '.djs-element.motcua-done[data-element-id="{}"]'
    expect(page.locator(done_flow.format("flow_gw_received_to_verify_register"))).to_have_count(1)
    expect(page.locator(done_flow.format("flow_approve_copy_to_gw_approved"))).to_have_count(1)
    expect(page.locator(done_flow.format("flow_gw_approved_to_verify_register"))).to_have_count(0)
    expect(page.locator(done_flow.format("flow_gw_found_to_confirm_refusal"))).to_have_count(0)
    auditor.shot("auditor-01-case-finished")

    # The slider goes back to event 7: the specialist's step is open, the path is shorter.
    page.locator("#player-slider").fill("7")
    wait_at(page, 7)
    expect(page.locator("#state-status")).to_contain_text("4 — Đang xử lý")
    expect(page.locator("#state-tasks tr[data-element='verify_register']")).to_have_count(1)
    expect(page.locator("#state-who")).to_contain_text("Người dùng clerk")
    expect(page.locator("#state-when")).to_contain_text("02/03/2026")
    expect(page.locator('.djs-element.motcua-current[data-element-id="verify_register"]')).to_have_count(1)
    expect(page.locator('.djs-element.motcua-done[data-element-id="approve_copy"]')).to_have_count(0)
    assert 0 < marked(page, "motcua-done") < finished_path
    expect(page.locator("#auditor-timeline tr.selected")).to_have_attribute("data-seq", "7")
    assert page.url.endswith("?at=7")
    auditor.shot("auditor-02-case-at-event-7")

    # Previous / next buttons step one event at a time; the state follows the engine's replay.
    page.click("#player-prev")
    wait_at(page, 6)
    assert page.locator("#player-slider").input_value() == "6"
    expected = engine.replay_case(code, 6).state
    assert expected is not None
    expect(page.locator("#state-status")).to_have_attribute("data-status", str(expected.status))
    page.click("#player-next")
    page.click("#player-next")
    wait_at(page, 8)
    expect(page.locator("#state-who")).to_contain_text("Người dùng specialist")
    # At the first event only the case was submitted; at the second the desk's check (a step of the
    # called receipt sub-process) is open, so the call activity is the current element.
    page.locator("#player-slider").fill("1")
    wait_at(page, 1)
    expect(page.locator("#state-status")).to_contain_text("1 — Mới đăng ký")
    expect(page.locator('.djs-element.motcua-done[data-element-id="verify_register"]')).to_have_count(0)
    page.click("#player-next")
    wait_at(page, 2)
    expect(page.locator("#state-tasks tr[data-element='receipt_check']")).to_have_count(1)
    expect(page.locator('.djs-element.motcua-current[data-element-id="call_receipt"]')).to_have_count(1)
    # A row of the timeline jumps there too.
    page.click("#auditor-timeline a[data-at='12']")
    wait_at(page, 12)
    expect(page.locator("#state-status")).to_contain_text("Đã xử lý xong")
    assert problems == []
    auditor.close()


def test_integrity_check_and_scorecard_charts(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
    clock: FixedClock,
) -> None:
    codes = [run_case(engine, clock, f"Người nộp {i}") for i in range(3)]
    run_case(engine, clock, "Đang xử lý", steps=2)
    director = Session(browser, server, "director")
    page = director.page
    problems = watch_console(page)
    page.goto(f"{server}/auditor/")
    page.click("#verify-all")
    expect(page.locator("#verify-result")).to_have_attribute("data-ok", "true")
    expect(page.locator("#verify-result")).to_contain_text("Nhật ký toàn vẹn: 4 hồ sơ")
    director.shot("auditor-03-verify")

    page.goto(f"{server}/auditor/reports")
    page.fill("#index766-form input[name=from]", "2026-03-01")
    page.fill("#index766-form input[name=to]", "2026-03-31")
    page.click("#index766-form button[type=submit]")
    expect(page.locator("#scorecard-charts")).to_have_attribute("data-state", "ready")
    for canvas in ("#chart-trend", "#chart-groups", "#chart-indicators"):
        box = page.locator(canvas).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    drawn = page.evaluate(
        "() => window.motcuaCharts.map((c) => ({bars: c.getDatasetMeta(0).data.length,"
        " labels: c.data.labels.length, lines: c.data.datasets.length, inked: c.canvas.toDataURL().length}))"
    )
    # The trend: one point per month of the period (March), one line per target with data.
    assert drawn[0]["labels"] == drawn[0]["bars"] == 1 and drawn[0]["lines"] >= 3
    assert drawn[1]["bars"] == drawn[1]["labels"] == 6
    assert drawn[2]["bars"] > 0 and all(d["inked"] > 2000 for d in drawn)
    expect(page.locator("#scorecard-table tr[data-indicator='2.1']")).to_contain_text("%")
    # The drill-down: the dossier behind the on-time gap opens its history.
    late = page.locator("#targets-table tr[data-line='2.1']")
    expect(late).to_contain_text("Chưa đạt")
    late.locator("summary").click()
    late.locator("ul.behind a").first.click()
    expect(page.locator("h1")).to_contain_text("H99.12-")
    page.go_back()
    director.shot("auditor-04-scorecard")

    page.goto(f"{server}/auditor/reports")
    page.fill("#register-form input[name=from]", "2026-03-01")
    page.fill("#register-form input[name=to]", "2026-03-31")
    page.click("#register-form button[type=submit]")
    expect(page.locator("#report-table tbody tr")).to_have_count(4)
    director.shot("auditor-05-register")

    page.goto(f"{server}/auditor/reports")
    page.select_option("#periodic-form select[name=period]", "h1")
    page.click("#periodic-form button[type=submit]")
    expect(page.locator(".report-subtitle").first).to_contain_text("6 tháng năm 2026")
    expect(page.locator("#report-table tbody tr").last).to_contain_text("Tổng cộng")
    director.shot("auditor-06-periodic")

    # Someone edits an event row in the database: the next check names the dossier and the event.
    tamper(engine, codes[1], 8)
    page.goto(f"{server}/auditor/")
    page.click("#verify-all")
    expect(page.locator("#verify-result")).to_have_attribute("data-ok", "false")
    expect(page.locator(f"#verify-findings tr[data-case='{codes[1]}'][data-seq='8']")).to_have_count(1)
    director.shot("auditor-07-verify-broken")
    page.click(f"#verify-findings tr[data-case='{codes[1]}'] a")
    expect(page.locator("#chain-result")).to_have_attribute("data-ok", "false")
    expect(page.locator("#auditor-player")).to_have_attribute("data-at", "8")
    assert problems == []
    director.close()


def test_history_diagram_opens_readable_and_zooms(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    engine: Engine,
    clock: FixedClock,
) -> None:
    code = run_case(engine, clock)
    auditor = Session(browser, server, "auditor")
    page = auditor.page
    problems = watch_console(page)
    page.goto(f"{server}/auditor/cases/{code}?at=3")
    wait_at(page, 3)
    scale = lambda: float(page.evaluate("() => window.motcuaAuditor.viewer.get('canvas').zoom()"))  # noqa: E731
    box = page.locator("#auditor-diagram").bounding_box()
    assert box is not None and box["width"] >= 1000  # the diagram has the page's full width
    assert scale() >= 0.79  # labels readable at once
    before = scale()
    page.click("#diagram-zoom-in")
    assert scale() > before
    page.click("#diagram-zoom-out")
    page.click("#diagram-zoom-out")
    assert scale() < before
    page.click("#diagram-big")
    expect(page.locator("#auditor-diagram")).to_have_class("auditor-diagram large")
    big = page.locator("#auditor-diagram").bounding_box()
    assert big is not None and big["height"] > box["height"]
    auditor.shot("auditor-diagram-large")
    assert problems == []
    auditor.close()
