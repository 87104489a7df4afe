"""Identity at receipt with real adapters: the fixtures table, and an HTTP service started here."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine.digital_models import IdentityCheck
from engine.errors import Forbidden, NotFound, ValidationError
from engine.identity import (
    HttpPopulationData,
    LocalPopulationData,
    case_identity_facts,
    check_identity,
    identity_checks,
    identity_facts,
    override_identity,
    require_identity_ok,
    seed_population_records,
)
from engine.service import Engine
from tests.engine.helpers import event_count

APPLICANT = {"name": "Nguyễn Văn An", "id_number": "001090012345"}


@pytest.fixture
def local(engine: Engine) -> LocalPopulationData:
    seed_population_records(engine.db)
    return LocalPopulationData(engine.db)


def _case(engine: Engine) -> str:
    return engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": APPLICANT}, engine.actor("clerk")
    ).code


def test_verified_against_the_fixtures_table(engine: Engine, local: LocalPopulationData) -> None:
    code = _case(engine)
    view = check_identity(
        engine, code, "001090012345", "1990-05-12", engine.actor("clerk"), local, "nguyễn  văn AN"
    )
    assert (view.outcome, view.source, view.province) == ("verified", "local", "Hà Nội")
    event = engine.events(code)[-1]
    assert event.kind == "identity_checked"
    assert event.payload == {
        "check_id": view.id,
        "cccd": "001090012345",
        "date_of_birth": "1990-05-12",
        "full_name": "nguyễn  văn AN",
        "outcome": "verified",
        "source": "local",
        "detail": "Khớp với cơ sở dữ liệu dân cư: Nguyễn Văn An",
    }
    require_identity_ok(case_identity_facts(engine, code))


def test_mismatch_blocks_acceptance_until_an_override_reason(
    engine: Engine, local: LocalPopulationData
) -> None:
    code = _case(engine)
    clerk = engine.actor("clerk")
    # valid layout, but the population data has another birthday for this number
    view = check_identity(engine, code, "001090012345", "1990-06-12", clerk, local)
    assert view.outcome == "mismatch" and "Ngày sinh" in view.detail
    with pytest.raises(ValidationError, match="cần ghi lý do"):
        require_identity_ok(case_identity_facts(engine, code))
    with pytest.raises(ValidationError, match="ít nhất 10 ký tự"):
        override_identity(engine, code, "ngắn", clerk)
    overridden = override_identity(
        engine, code, "Đối chiếu bản chính CCCD: dữ liệu dân cư ghi sai ngày sinh", clerk
    )
    assert overridden.overridden_by == "clerk"
    assert engine.events(code)[-1].kind == "identity_overridden"
    assert engine.events(code)[-1].payload == {
        "check_id": view.id,
        "reason": "Đối chiếu bản chính CCCD: dữ liệu dân cư ghi sai ngày sinh",
    }
    require_identity_ok(case_identity_facts(engine, code))
    with pytest.raises(ValidationError, match="đã có lý do"):
        override_identity(engine, code, "Một lý do khác đủ dài", clerk)
    # a new check starts over: a new mismatch blocks again
    check_identity(engine, code, "001090012345", "1990-06-12", clerk, local)
    with pytest.raises(ValidationError, match="cần ghi lý do"):
        require_identity_ok(case_identity_facts(engine, code))


def test_unknown_number_and_wrong_name_are_mismatches(engine: Engine, local: LocalPopulationData) -> None:
    code = _case(engine)
    clerk = engine.actor("clerk")
    assert "không có trong" in check_identity(engine, code, "001090099999", "1990-05-12", clerk, local).detail
    wrong_name = check_identity(engine, code, "001090012345", "1990-05-12", clerk, local, "Nguyễn Văn Ân")
    assert wrong_name.outcome == "mismatch" and "Họ tên" in wrong_name.detail
    assert [c.outcome for c in identity_checks(engine, code)] == ["mismatch", "mismatch"]


def test_invalid_number_changes_nothing(engine: Engine, local: LocalPopulationData) -> None:
    code = _case(engine)
    case_id = engine.get_case(code).id
    before = event_count(engine.db, case_id)
    with pytest.raises(ValidationError, match="Hai chữ số năm sinh"):
        check_identity(engine, code, "001091012345", "1990-05-12", engine.actor("clerk"), local)
    with pytest.raises(ValidationError, match="12 chữ số"):
        check_identity(engine, code, "12345", "1990-05-12", engine.actor("clerk"), local)
    assert event_count(engine.db, case_id) == before
    with engine.db.read() as session:
        assert session.scalars(select(IdentityCheck)).all() == []


def test_only_clerks_check_and_override(engine: Engine, local: LocalPopulationData) -> None:
    code = _case(engine)
    with pytest.raises(Forbidden):
        check_identity(engine, code, "001090012345", "1990-05-12", engine.actor("specialist"), local)
    with pytest.raises(Forbidden):
        override_identity(engine, code, "Một lý do đủ dài để ghi", engine.actor("auditor"))
    with pytest.raises(NotFound, match="chưa được kiểm tra"):
        override_identity(engine, code, "Một lý do đủ dài để ghi", engine.actor("clerk"))


def test_override_only_after_a_mismatch(engine: Engine, local: LocalPopulationData) -> None:
    code = _case(engine)
    check_identity(engine, code, "001090012345", "1990-05-12", engine.actor("clerk"), local)
    with pytest.raises(ValidationError, match="không khớp"):
        override_identity(engine, code, "Một lý do đủ dài để ghi", engine.actor("clerk"))


def test_require_identity_ok_pure() -> None:
    require_identity_ok({"identity": None})
    with pytest.raises(ValidationError, match="Chưa kiểm tra danh tính"):
        require_identity_ok({"identity": None}, required=True)
    unavailable = identity_facts([("identity_checked", {"check_id": 1, "outcome": "unavailable"})])
    require_identity_ok(unavailable, required=True)
    other_check = identity_facts(
        [
            ("identity_checked", {"check_id": 1, "outcome": "mismatch"}),
            ("identity_overridden", {"check_id": 7, "reason": "x"}),
        ]
    )
    with pytest.raises(ValidationError):
        require_identity_ok(other_check)


# ------------------------------------------------------------------ the HTTP adapter, for real


class _Population(BaseHTTPRequestHandler):
    people = {
        "031185004321": {"cccd": "031185004321", "full_name": "Trần Thị Bình", "date_of_birth": "1985-11-03"}
    }
    release = threading.Event()
    expected_auth = "Basic " + base64.b64encode(b"motcua:bi-mat").decode()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.headers.get("Authorization") != self.expected_auth:
            self.send_response(401)
            self.end_headers()
            return
        number = self.path.rsplit("/", 1)[-1]
        if number == "079203000777":  # a service that hangs: only the client's timeout ends the wait
            self.release.wait(30)
            return
        person = self.people.get(number)
        body = json.dumps(person).encode() if person else b"{}"
        self.send_response(200 if person else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def population_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Population)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        _Population.release.set()
        server.shutdown()
        server.server_close()
        _Population.release.clear()


def test_http_adapter_verifies_and_misses(engine: Engine, population_url: str) -> None:
    adapter = HttpPopulationData(population_url, "motcua", "bi-mat", timeout=5)
    found = adapter.lookup("031185004321")
    assert found is not None and found.date_of_birth == date(1985, 11, 3)
    assert adapter.lookup("001090012345") is None
    code = _case(engine)
    view = check_identity(
        engine, code, "031185004321", "1985-11-03", engine.actor("clerk"), adapter, "Trần Thị Bình"
    )
    assert (view.outcome, view.source) == ("verified", "http")


def test_http_timeout_is_recorded_as_unavailable(engine: Engine, population_url: str) -> None:
    adapter = HttpPopulationData(population_url, "motcua", "bi-mat", timeout=0.3)
    code = _case(engine)
    view = check_identity(engine, code, "079203000777", "2003-01-21", engine.actor("clerk"), adapter)
    assert view.outcome == "unavailable"
    assert view.detail == "Không xác thực được: hết thời gian chờ máy chủ dữ liệu dân cư"
    assert engine.events(code)[-1].payload["outcome"] == "unavailable"
    require_identity_ok(case_identity_facts(engine, code))


def test_http_wrong_credentials_and_no_server_are_unavailable(engine: Engine, population_url: str) -> None:
    code = _case(engine)
    clerk = engine.actor("clerk")
    wrong = HttpPopulationData(population_url, "motcua", "sai", timeout=5)
    assert "mã 401" in check_identity(engine, code, "031185004321", "1985-11-03", clerk, wrong).detail
    gone = HttpPopulationData("http://127.0.0.1:9/api", "motcua", "bi-mat", timeout=5)
    assert check_identity(engine, code, "031185004321", "1985-11-03", clerk, gone).outcome == "unavailable"


def test_portal_asserted_identity_of_an_online_dossier(engine: Engine) -> None:
    from engine.identity import record_portal_identity
    from engine.users import SYSTEM

    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": APPLICANT, "channel": 2}, engine.actor("citizen")
    ).code
    view = record_portal_identity(engine, code, "001090012345", "1990-05-12", "Nguyễn Văn An", SYSTEM)
    assert (view.outcome, view.source, view.checked_by) == ("verified", "portal", "system")
    assert engine.events(code)[-1].payload["source"] == "portal"
    with pytest.raises(ValidationError, match="Mã tỉnh"):
        record_portal_identity(engine, code, "999090012345", "1990-05-12", "Nguyễn Văn An", SYSTEM)


def test_the_completion_path_refuses_acceptance_after_a_mismatch_until_overridden(
    engine: Engine, local: LocalPopulationData
) -> None:
    """The rule holds where staff accept a dossier (web, API and CLI share ``complete_task``)."""
    code = _case(engine)
    clerk = engine.actor("clerk")
    accept = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
    check_identity(engine, code, "001090012345", "1990-06-12", clerk, local)
    before = event_count(engine.db, engine.get_case(code).id)
    with pytest.raises(ValidationError, match="cần ghi lý do"):
        engine.complete_task(code, "receipt_check", accept, clerk)
    assert engine.get_case(code).status == 1
    assert event_count(engine.db, engine.get_case(code).id) == before
    override_identity(engine, code, "Đối chiếu bản chính CCCD: dữ liệu dân cư ghi sai ngày sinh", clerk)
    assert engine.complete_task(code, "receipt_check", accept, clerk).received_at is not None
