"""The digital one-stop pages in Debian's Chromium: a clerk checks the applicant's identity (a
mismatch, then the override reason), digitises a scanned page drawn by the test, finds its text by
search; a citizen files a complaint that staff answer and publish, and rates the answer. The
acceptance walk takes one citizen through identity, digitisation with OCR, reuse in a second
dossier, online payment, a signed electronic result downloaded and verified, and a complaint
answered on time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from engine.esign import verify_result
from engine.feedback import feedback_numbers
from engine.identity import LocalPopulationData, seed_population_records
from engine.service import Engine
from engine.storage import DiskFileStore
from handlers.payment import signed_headers
from tests.engine.helpers import result_pdf
from tests.engine.test_digitise import scanned_page
from tests.web.conftest import TEST_CONFIG, submit_online
from tests.web.test_browser import Session, browser  # noqa: F401 (fixture)
from web.app import create_app

pytestmark = pytest.mark.browser
PAYMENT_SECRET = "khoa-cong-thanh-toan-thu-nghiem"
ACCEPT_DIPLOMA = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}


@pytest.fixture
def digital_server(sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    seed_population_records(sqlite_engine.db)
    config = {
        **TEST_CONFIG,
        "FILE_STORE": DiskFileStore(tmp_path / "files"),
        "POPULATION_DATA": LocalPopulationData(sqlite_engine.db),
        "PAYMENT_SECRET": PAYMENT_SECRET,
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


def _verified_identity(page: Page) -> None:
    page.fill("#cccd", "001090012345")
    page.fill("#dob", "1990-05-12")
    page.fill("#full-name", "Nguyễn Văn An")
    page.click("#identity-form button[type=submit]")
    expect(page.locator("#identity-state")).to_contain_text("Đã xác thực")


def test_acceptance_walk_of_the_digital_one_stop(
    browser: Browser,  # noqa: F811
    digital_server: str,
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    engine = sqlite_engine
    clerk_actor = engine.actor("clerk")
    first = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Văn An"}}, clerk_actor
    )
    assert first.secret is not None
    clerk = Session(browser, digital_server, "clerk")

    # 1. Identity at the counter, then the ID card digitised with Vietnamese OCR and found by search.
    page = clerk.goto(f"/cases/{first.code}/digital")
    _verified_identity(page)
    page.select_option("#document-code", "TP2")
    card = scanned_page(["CĂN CƯỚC CÔNG DÂN", "Số 001090012345", "Nguyễn Văn An"])
    page.set_input_files("#scan", {"name": "cccd.png", "mimeType": "image/png", "buffer": card})
    with page.expect_navigation(timeout=300_000):
        page.click("#digitise-form button[type=submit]", no_wait_after=True)
    expect(page.locator("#components tr[data-code=TP2]")).to_contain_text("Đã số hóa")
    page.goto(f"{digital_server}/digitised/search")
    page.fill("#q", "căn cước")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#search-hits")).to_contain_text(first.code)

    # 2. The same citizen's next dossier reuses the digitised ID card without a new upload.
    second = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Văn An"}}, clerk_actor
    )
    page = clerk.goto(f"/cases/{second.code}/digital")
    _verified_identity(page)
    expect(page.locator("#reuse-offers")).to_contain_text(first.code)
    page.click("#reuse-offers .reuse-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Đã sử dụng lại dữ liệu số cho TP2")
    assert engine.events(second.code)[-1].kind == "document_reused"

    # 3. Online payment of a fee: a forged gateway callback is refused, the signed one issues the
    #    electronic receipt the desk sees.
    centre = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Sao Mai"}}, clerk_actor
    )
    body = json.dumps(
        {"case_code": centre.code, "transaction_id": "GW-WALK-1", "amount": 1_000_000,
         "paid_at": "2026-03-02T09:00:00+07:00"}
    ).encode()  # fmt: skip
    stamp = int(engine.lease_clock.now().timestamp())
    gateway = clerk.context.request
    forged = gateway.post(
        f"{digital_server}/api/payments/callback",
        data=body,
        headers={
            **signed_headers(b"khoa-gia", body, stamp, "nonce-walk-forged"),
            "Content-Type": "application/json",
        },
    )
    assert forged.status == 403 and engine.case_payments(centre.code) == []
    paid = gateway.post(
        f"{digital_server}/api/payments/callback",
        data=body,
        headers={
            **signed_headers(PAYMENT_SECRET.encode(), body, stamp, "nonce-walk-00001"),
            "Content-Type": "application/json",
        },
    )
    assert paid.status == 201
    page = clerk.goto(f"/cases/{centre.code}/digital")
    expect(page.locator("#receipts")).to_contain_text(f"BL-{centre.code}-1")
    expect(page.locator("#receipts")).to_contain_text("Thanh toán trực tuyến")

    # 4. The first dossier is decided; its result is signed; the citizen downloads and verifies it.
    engine.add_document(first.code, "TP1", "don.pdf", result_pdf("Don de nghi"), clerk_actor)
    engine.complete_task(first.code, "receipt_check", ACCEPT_DIPLOMA, clerk_actor)
    engine.complete_task(
        first.code,
        "verify_register",
        {"found": True, "register_ref": "Sổ 2008", "copies": 1},
        engine.actor("specialist"),
    )
    engine.complete_task(first.code, "approve_copy", {"approved": True}, engine.actor("head"))
    engine.attach_result(
        first.code, "ban-sao.pdf", result_pdf("Ban sao van bang"), engine.actor("specialist")
    )
    citizen = Session(browser, digital_server)
    page = citizen.goto("/public/lookup")
    page.fill("#code", first.code)
    page.fill("#secret", first.secret)
    page.click("#lookup-form button[type=submit]")
    expect(page.locator("#results .signature-check")).to_contain_text("Chữ ký số hợp lệ của")
    with page.expect_download() as download:
        page.click("#results .result-download button[type=submit]")
    signed = Path(download.value.path()).read_bytes()
    check = verify_result(signed, engine.signing)
    assert check.valid and check.signer is not None and "Sở Giáo dục và Đào tạo" in check.signer
    citizen.shot("digital-walk-result")

    # 5. A complaint on the dossier, answered within its deadline and published.
    page = citizen.goto("/public/feedback")
    page.fill("#content", "Đề nghị cho nhận bản sao qua bưu điện.")
    page.fill("#case-code", first.code)
    page.fill("#case-secret", first.secret)
    page.check("#anonymous")
    page.click("#feedback-form button[type=submit]")
    code = page.locator("#feedback-code").inner_text().strip()
    head = Session(browser, digital_server, "head")
    item = head.goto(f"/feedback/{code}")
    item.fill("#answer", "Sở đã mở thêm hình thức nhận kết quả qua bưu điện.")
    item.click("#answer-form button[type=submit]")
    item.click("#publish-form button[type=submit]")
    expect(item.locator("#feedback-item h1")).to_contain_text("Đã công khai kết quả")
    numbers = feedback_numbers(engine, date(2026, 3, 1), date(2026, 3, 31))
    assert (numbers.received, numbers.on_time, numbers.overdue) == (1, 1, 0)
    for session in (clerk, citizen, head):
        session.close()
