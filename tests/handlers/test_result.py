"""Electronic results: signed by the agency, stored with SHA-256 in the file store, chained into the
history, verified on download and by ``audit verify``, published to the portal."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import update

from engine.clock import FixedClock
from engine.errors import Forbidden, ValidationError
from engine.models import CaseResult
from engine.outbox import RESULT_PUBLISH
from engine.service import Engine
from handlers import HandlerSettings, build_handlers
from tests.engine.helpers import deploy_fixture, result_pdf
from tests.handlers.conftest import FakeHttp

PDF = result_pdf("Ket qua giai quyet ho so")


def _case(engine: Engine) -> str:
    deploy_fixture(engine)
    return engine.start_case(
        {"procedure_id": "timer_demo", "applicant": {"name": "Lý Thị Quả"}}, engine.actor("clerk")
    ).code


def test_result_is_stored_with_its_sha256_and_chained(engine: Engine) -> None:
    code = _case(engine)
    view = engine.attach_result(code, "Ban sao van bang.pdf", PDF, engine.actor("specialist"))
    stored, content = engine.result_file(code, view.id)
    # The stored file is the result with the agency's signature appended (incremental update).
    assert content.startswith(PDF) and len(content) > len(PDF)
    assert view.sha256 == hashlib.sha256(content).hexdigest() and view.size == len(content)
    assert view.signer is not None and "Sở Giáo dục và Đào tạo" in view.signer
    [event] = [e for e in engine.events(code) if e.kind == "result_attached"]
    assert event.payload["sha256"] == view.sha256 and event.payload["result_id"] == view.id
    assert event.payload["signed"] is True
    assert stored == view
    assert engine.files.get(view.sha256) == content
    assert [r.id for r in engine.case_results(code)] == [view.id]


def test_result_checks(engine: Engine) -> None:
    code = _case(engine)
    with pytest.raises(Forbidden):
        engine.attach_result(code, "kq.pdf", PDF, engine.actor("auditor"))
    with pytest.raises(ValidationError):
        engine.attach_result(code, "kq.exe", b"MZ...", engine.actor("specialist"))
    with pytest.raises(ValidationError):
        engine.attach_result(code, "kq.pdf", b"<html>not a pdf</html>", engine.actor("specialist"))


def test_a_tampered_result_file_is_detected(engine: Engine) -> None:
    code = _case(engine)
    view = engine.attach_result(code, "kq.pdf", PDF, engine.actor("specialist"))
    with engine.db.unit_of_work() as session:
        session.execute(update(CaseResult).values(content=PDF.replace(b"Ket qua", b"Ket-qua")))
    with pytest.raises(ValidationError):
        engine.result_file(code, view.id)


def test_result_is_published_with_its_digest(
    engine: Engine, fake_http: FakeHttp, lease_clock: FixedClock
) -> None:
    code = _case(engine)
    view = engine.attach_result(code, "Bản sao văn bằng.pdf", PDF, engine.actor("specialist"))
    fake_http.fail_next = 1
    handlers = build_handlers(HandlerSettings(portal_result_url=f"{fake_http.url}/ketqua"), engine)
    assert set(handlers) == {RESULT_PUBLISH}
    engine.deliver_outbox(handlers)
    lease_clock.advance(timedelta(seconds=5))
    engine.deliver_outbox(handlers)
    first, second = fake_http.requests
    assert first.body == second.body == engine.result_file(code, view.id)[1]
    assert second.headers["x-content-sha256"] == view.sha256 == hashlib.sha256(second.body).hexdigest()
    assert second.path == f"/ketqua?MaHoSo={code}"
    [message] = [m for m in engine.case_outbox(code) if m.handler == RESULT_PUBLISH]
    assert message.state == "delivered" and message.attempts == 2
