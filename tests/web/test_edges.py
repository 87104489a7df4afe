"""Abuse and failure edges: anonymous upload byte quotas, the PDF render cap, 503 when the database is
away, and SQLite's synchronous=FULL."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text

from engine.calendar import WorkingCalendar
from engine.clock import FixedClock
from engine.db import Database
from engine.service import Engine
from engine.settings import EngineSettings
from tests.support.fixtures import vn
from tests.web.conftest import ACCEPT, TEST_CONFIG, Client
from tests.web.test_public import complete_form
from web.app import create_app
from web.pdf import pdf_slots

KB = 1024


def _submit(client: Client, size: int, name: str = "Phạm Thu") -> Any:
    return client.post(
        "/public/procedures/diploma_copy/submit",
        complete_form(applicant_name=name, doc_TP1=(io.BytesIO(b"%PDF-1.4 " + b"x" * (size - 9)), "don.pdf")),
        content_type="multipart/form-data",
    )


def test_anonymous_upload_bytes_have_a_per_address_quota(engine: Engine) -> None:
    app = create_app(engine, {**TEST_CONFIG, "UPLOAD_BYTES_PER_ADDRESS_HOUR": 100 * KB})
    first = Client(app)
    first.http.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    assert _submit(first, 60 * KB).status_code == 302
    cases = len(engine.desk_queue(1))
    refused = _submit(first, 60 * KB)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "hạn mức dung lượng tệp tải lên" in refused.get_data(as_text=True)
    assert len(engine.desk_queue(1)) == cases  # nothing was created
    other = Client(app)
    other.http.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert _submit(other, 60 * KB).status_code == 302


def test_anonymous_upload_bytes_have_a_global_quota(engine: Engine) -> None:
    app = create_app(
        engine,
        {**TEST_CONFIG, "UPLOAD_BYTES_PER_ADDRESS_HOUR": 100 * KB, "UPLOAD_BYTES_GLOBAL_HOUR": 150 * KB},
    )
    answers = []
    for i in range(3):
        client = Client(app)
        client.http.environ_base["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        answers.append(_submit(client, 60 * KB))
    assert [a.status_code for a in answers] == [302, 302, 429]
    assert "toàn hệ thống" in answers[2].get_data(as_text=True)


def test_pdf_renders_are_capped(sqlite_engine: Engine) -> None:
    case = sqlite_engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Đặng Thu Hà"}, "channel": 2},
        sqlite_engine.actor("citizen"),
    )
    sqlite_engine.complete_work_item(case.code, "receipt_check", ACCEPT, sqlite_engine.actor("clerk"))
    app = create_app(sqlite_engine, {**TEST_CONFIG, "PDF_MAX_CONCURRENT": 1, "PDF_QUEUE_SECONDS": 0})
    clerk = Client(app).login("clerk")
    slots = pdf_slots(app)
    assert slots.acquire(blocking=False)  # one render in progress elsewhere
    try:
        busy = clerk.get(f"/cases/{case.code}/forms/01.pdf")
    finally:
        slots.release()
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    assert "đang bận tạo các tệp PDF" in busy.get_data(as_text=True)
    assert slots.acquire(blocking=False)  # the refused request did not keep a slot
    slots.release()


def _dead_app() -> Flask:
    # Nothing listens on port 1: every connection attempt is refused.
    dead = Database("postgresql://postgres@127.0.0.1:1/test")
    engine = Engine(
        dead, clock=FixedClock(vn(2026, 3, 2, 8, 0)), calendar=WorkingCalendar(), settings=EngineSettings()
    )
    return create_app(engine, dict(TEST_CONFIG))


def test_an_unreachable_database_answers_503_with_retry_after() -> None:
    app = _dead_app()
    page = app.test_client().get("/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "không kết nối được cơ sở dữ liệu" in page.get_data(as_text=True)
    api = app.test_client().get("/api/procedures")
    assert api.status_code == 503 and api.get_json()["error"] == "database_unavailable"
    # A session cookie makes the session store itself reach for the database first.
    with_cookie = app.test_client()
    with_cookie.set_cookie("motcua_session", "x" * 43)
    assert with_cookie.get("/api/procedures").status_code == 503


def test_the_embedded_sqlite_database_syncs_fully(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'full.sqlite3'}")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    db.dispose()
