"""Withdrawal on request (status 7) and the officer's stop (status 8), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from engine.errors import Forbidden, ValidationError
from engine.service import Engine
from engine.users import CITIZEN

ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
#: The scan of the request the applicant signed at the desk.
PAPER = ("don-rut-ho-so.pdf", b"%PDF-1.4 don rut ho so, co chu ky")


def _received(engine: Engine) -> str:
    case = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Bùi Văn Tâm"}, "channel": 2}, CITIZEN
    )
    engine.complete_work_item(case.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    return case.code


def test_request_then_confirm_stops_the_case_and_cancels_open_steps(engine: Engine) -> None:
    code = _received(engine)
    asked = engine.request_withdrawal(code, "Đã nhận bản sao ở nơi khác", engine.actor("clerk"), PAPER)
    assert asked.status == 7 and asked.sla["withdrawal"]["previous_status"] == 4
    assert [t.element_id for t in asked.tasks] == ["verify_register"]  # nothing stops before confirmation
    stopped = engine.confirm_withdrawal(code, engine.actor("head"))
    assert stopped.status == 8 and stopped.completed and stopped.finished_at is not None
    assert stopped.tasks == []
    rows = engine.control_sheet(code)
    assert rows[-1].element_id == "verify_register" and rows[-1].cancelled
    transitions = [(e.status_from, e.status_to) for e in engine.events(code) if e.kind == "status_changed"]
    assert transitions[-2:] == [(4, 7), (7, 8)]
    assert engine.fire_due_timers().fired == 0  # SLA and BPMN timers are gone


def test_citizen_requests_online_with_the_secret(engine: Engine) -> None:
    case = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Lý Thị Hằng"}, "channel": 2}, CITIZEN
    )
    assert case.secret is not None
    with pytest.raises(Exception, match="Mã hồ sơ hoặc mã tra cứu không đúng"):
        engine.citizen_request_withdrawal(case.code, "SAI", "Lý do")
    assert engine.citizen_request_withdrawal(case.code, case.secret, "Nộp nhầm thủ tục").status == 7


def test_rules(engine: Engine) -> None:
    code = _received(engine)
    with pytest.raises(ValidationError):
        engine.request_withdrawal(code, "  ", engine.actor("clerk"))
    with pytest.raises(Forbidden):
        engine.request_withdrawal(code, "x", engine.actor("specialist"))
    with pytest.raises(ValidationError):
        engine.confirm_withdrawal(code, engine.actor("clerk"))  # nothing requested
    engine.request_withdrawal(code, "x", engine.actor("clerk"), PAPER)
    with pytest.raises(ValidationError):
        engine.request_withdrawal(code, "again", engine.actor("clerk"), PAPER)
    with pytest.raises(Forbidden):
        engine.confirm_withdrawal(code, engine.actor("specialist"))
    with pytest.raises(Forbidden, match="cán bộ khác"):  # the clerk who entered it cannot confirm alone
        engine.confirm_withdrawal(code, engine.actor("clerk"))
    assert engine.get_case(code).status == 7
    engine.confirm_withdrawal(code, engine.actor("head"))
    with pytest.raises(ValidationError):
        engine.request_withdrawal(code, "x", engine.actor("clerk"), PAPER)


def test_a_desk_request_needs_the_signed_paper_which_the_confirming_officer_sees(engine: Engine) -> None:
    code = _received(engine)
    events_before = len(engine.events(code))
    with pytest.raises(ValidationError, match="chữ ký") as refused:
        engine.request_withdrawal(code, "Công dân đến quầy xin rút", engine.actor("clerk"))
    assert refused.value.details["fields"][0]["field"] == "paper"
    with pytest.raises(ValidationError, match="định dạng"):  # a paper that is not a scan: nothing kept
        engine.request_withdrawal(code, "Công dân đến quầy xin rút", engine.actor("clerk"), ("a.exe", b"MZ"))
    assert len(engine.events(code)) == events_before and engine.list_documents(code) == []

    asked = engine.request_withdrawal(code, "Công dân đến quầy xin rút", engine.actor("clerk"), PAPER)
    paper_id = asked.sla["withdrawal"]["paper_document_id"]
    [document] = engine.list_documents(code)
    assert document.id == paper_id and document.filename == "don-rut-ho-so.pdf"
    request = [e for e in engine.events(code) if e.kind == "withdrawal_requested"][-1]
    assert request.payload["paper"] == {
        "document_id": paper_id,
        "filename": "don-rut-ho-so.pdf",
        "sha256": document.sha256,
    }
    # the second officer reads what the applicant signed, byte for byte, before stopping the dossier
    assert engine.read_document(code, paper_id)[1] == PAPER[1]
    assert engine.confirm_withdrawal(code, engine.actor("head")).status == 8
    assert engine.verify_history(code).ok  # the rebuilt state (with the paper) matches the stored row
