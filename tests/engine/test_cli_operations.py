"""Every case operation of the web app through the CLI (``run.py case …``), with the same checks,
and the history it writes replays (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import run
from engine.clock import FixedClock
from engine.service import Engine
from handlers.payment import sign
from tests.engine.helpers import result_pdf

PDF = b"%PDF-1.4\n% cli test\n"


def cli(engine: Engine, capsys: Any, *args: str, now: str = "2026-03-02T09:00:00+07:00") -> tuple[int, Any]:
    code = run.main([*args, "--json", "--db", engine.db.url, "--now", now])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def start(engine: Engine, capsys: Any, procedure: str = "diploma_copy") -> str:
    data = json.dumps({"applicant": {"name": "Vũ Thị Lan"}})
    status, view = cli(engine, capsys, "case", "start", procedure, "--data", data, "--as", "clerk")
    assert status == 0
    return str(view["code"])


def test_cli_complete_refuses_what_the_web_refuses(engine: Engine, capsys: Any, tmp_path: Path) -> None:
    code = start(engine, capsys)
    incomplete = json.dumps({"decision": "accept", "checked_documents": []})
    status, _ = cli(
        engine, capsys, "case", "complete", code, "receipt_check", "--as", "clerk", "--data", incomplete
    )
    assert status == 2  # ValidationError: the dossier is incomplete
    assert engine.get_case(code).status == 1 and len(engine.events(code)) == 2  # started, step ready
    status, _ = cli(engine, capsys, "case", "claim", engine.list_tasks(code)[0].task_id, "--as", "clerk")
    assert status == 0
    accept = json.dumps({"decision": "accept", "checked_documents": ["TP1", "TP2"]})
    status, _ = cli(
        engine, capsys, "case", "complete", code, "receipt_check", "--as", "head", "--data", accept
    )
    assert status == 5  # claimed by someone else (the web answers 403 too)
    paper = tmp_path / "don-rut.pdf"
    paper.write_bytes(PDF)
    status, _ = cli(engine, capsys, "case", "withdraw", code, "--reason", "Không cần nữa", "--as", "clerk")
    assert status == 2  # at the desk the applicant's signed request is attached
    status, _ = cli(
        engine,
        capsys,
        "case",
        "withdraw",
        code,
        "--reason",
        "Không cần nữa",
        "--paper",
        str(paper),
        "--as",
        "clerk",
    )
    assert status == 0
    status, _ = cli(
        engine, capsys, "case", "complete", code, "receipt_check", "--as", "clerk", "--data", accept
    )
    assert status == 3  # a withdrawal is pending: confirm it first
    assert engine.get_case(code).status == 7


def test_withdrawal_documents_claims_and_a_result_through_the_cli_replay(
    engine: Engine, capsys: Any, tmp_path: Path
) -> None:
    code = start(engine, capsys)
    scan = tmp_path / "don.pdf"
    scan.write_bytes(PDF)
    status, doc = cli(
        engine, capsys, "case", "document-add", code, "--code", "TP1", "--file", str(scan), "--as", "clerk"
    )
    assert status == 0 and doc["document_code"] == "TP1"
    status, docs = cli(engine, capsys, "case", "documents", code)
    assert [d["filename"] for d in docs] == ["don.pdf"]
    task = engine.list_tasks(code)[0].task_id
    assert cli(engine, capsys, "case", "claim", task, "--as", "clerk")[0] == 0
    assert cli(engine, capsys, "case", "release", task, "--as", "clerk")[0] == 0
    assert cli(engine, capsys, "case", "reassign", task, "--to", "clerk", "--as", "head")[0] == 0
    assert engine.list_tasks(code)[0].assignee == "clerk"
    accept = json.dumps({"decision": "accept", "checked_documents": ["TP1", "TP2"]})
    assert (
        cli(engine, capsys, "case", "complete", code, "receipt_check", "--as", "clerk", "--data", accept)[0]
        == 0
    )
    found = json.dumps({"found": True, "register_ref": "Sổ 1", "copies": 1})
    assert (
        cli(
            engine, capsys, "case", "complete", code, "verify_register", "--as", "specialist", "--data", found
        )[0]
        == 0
    )
    assert (
        cli(
            engine,
            capsys,
            "case",
            "complete",
            code,
            "approve_copy",
            "--as",
            "head",
            "--data",
            '{"approved": true}',
        )[0]
        == 0
    )
    result = tmp_path / "ket-qua.pdf"
    result.write_bytes(result_pdf())
    status, attached = cli(
        engine, capsys, "case", "result-attach", code, "--file", str(result), "--as", "clerk"
    )
    assert status == 0 and attached["filename"] == "ket-qua.pdf" and attached["signer"]
    other = start(engine, capsys)
    assert (
        cli(
            engine,
            capsys,
            "case",
            "withdraw",
            other,
            "--reason",
            "Nộp nhầm thủ tục",
            "--paper",
            str(scan),
            "--as",
            "clerk",
        )[0]
        == 0
    )
    status, stopped = cli(engine, capsys, "case", "withdraw-confirm", other, "--as", "head")
    assert status == 0 and stopped["status"] == 8 and stopped["tasks"] == []
    for ref in (code, other):
        status, report = cli(engine, capsys, "audit", "replay", ref)
        assert status == 0 and report["ok"], report
    kinds = {e.kind for e in engine.events(code)} | {e.kind for e in engine.events(other)}
    assert {"document_added", "task_claimed", "task_released", "task_reassigned", "result_attached"} <= kinds
    assert {"withdrawal_requested", "withdrawal_confirmed", "task_cancelled"} <= kinds


def test_a_signed_payment_callback_through_the_cli_replays(
    engine: Engine, clock: FixedClock, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("MOTCUA_PAYMENT_SECRET", "khoa-bi-mat-cong-thanh-toan")
    code = start(engine, capsys, "language_centre_operation")
    accept = json.dumps({"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]})
    assert (
        cli(engine, capsys, "case", "complete", code, "receipt_check", "--as", "clerk", "--data", accept)[0]
        == 0
    )
    body = json.dumps(
        {
            "case_code": code,
            "transaction_id": "GW-1",
            "amount": 1_000_000,
            "paid_at": "2026-03-02T09:05:00+07:00",
        }
    )
    stamp, nonce = str(int(time.time())), "nonce-cli-000001"
    args = ["case", "pay", "--body", body, "--timestamp", stamp, "--nonce", nonce]
    forged = sign(b"khoa-sai", stamp, nonce, body.encode())
    assert cli(engine, capsys, *args, "--signature", forged)[0] == 5  # refused, nothing recorded
    assert engine.case_payments(code) == []
    good = sign(b"khoa-bi-mat-cong-thanh-toan", stamp, nonce, body.encode())
    status, paid = cli(engine, capsys, *args, "--signature", good)
    assert status == 0 and paid["amount"] == 1_000_000
    assert cli(engine, capsys, *args, "--signature", good)[0] == 3  # the same callback again: a replay
    status, report = cli(engine, capsys, "audit", "replay", code)
    assert status == 0 and report["ok"]
    assert [e.kind for e in engine.events(code)].count("fee_paid") == 1


def test_cli_reuse_and_cash_payment(engine: Engine, capsys: Any) -> None:
    from engine.digitise import OcrOutput, digitise_component
    from engine.identity import LocalPopulationData, check_identity, seed_population_records

    seed_population_records(engine.db)

    def identified() -> str:
        code = start(engine, capsys)
        clerk = engine.actor("clerk")
        check_identity(engine, code, "001090012345", "1990-05-12", clerk, LocalPopulationData(engine.db))
        return code

    def ocr(content: bytes, name: str, content_type: str) -> OcrOutput:
        return OcrOutput(b"%PDF-1.7\n% CCCD\n", "CĂN CƯỚC", 1)

    first = identified()
    digitise_component(
        engine, first, "TP2", "cccd.png", b"\x89PNG\r\n\x1a\n", engine.actor("clerk"), engine.files, ocr
    )
    second = identified()
    status, offers = cli(engine, capsys, "case", "reuse-offers", second, "--as", "clerk")
    assert status == 0 and [o["source_case_code"] for o in offers] == [first]
    item = str(offers[0]["item_id"])
    status, _ = cli(
        engine, capsys, "case", "reuse", second, "--item", item, "--component", "TP1", "--as", "clerk"
    )
    assert status == 2 and engine.events(second)[-1].kind == "identity_checked"  # nothing recorded
    status, used = cli(
        engine, capsys, "case", "reuse", second, "--item", item, "--component", "TP2", "--as", "clerk"
    )
    assert status == 0 and used["document_code"] == "TP2"
    assert engine.events(second)[-1].kind == "document_reused"

    centre = start(engine, capsys, "language_centre_operation")
    status, _ = cli(engine, capsys, "case", "pay-cash", centre, "--amount", "5", "--as", "clerk")
    assert status == 2 and engine.case_payments(centre) == []
    status, _ = cli(engine, capsys, "case", "pay-cash", centre, "--amount", "1000000", "--as", "specialist")
    assert status == 5 and engine.case_payments(centre) == []
    status, paid = cli(engine, capsys, "case", "pay-cash", centre, "--amount", "1000000", "--as", "clerk")
    assert status == 0 and paid["receipt_number"] == f"BL-{centre}-1" and paid["method"] == "cash"


def test_cli_online_identity_reuse_and_result_download(engine: Engine, capsys: Any, tmp_path: Path) -> None:
    from engine.digitise import OcrOutput, digitise_component
    from engine.identity import LocalPopulationData, check_identity, seed_population_records

    seed_population_records(engine.db)
    first = start(engine, capsys)
    clerk = engine.actor("clerk")
    check_identity(engine, first, "001090012345", "1990-05-12", clerk, LocalPopulationData(engine.db))

    def ocr(content: bytes, name: str, content_type: str) -> OcrOutput:
        return OcrOutput(b"%PDF-1.7\n% CCCD\n", "CĂN CƯỚC", 1)

    digitise_component(engine, first, "TP2", "cccd.png", b"\x89PNG\r\n\x1a\n", clerk, engine.files, ocr)
    [offer] = engine.portal_reuse_offers(
        "diploma_copy", {"cccd": "001090012345", "date_of_birth": "1990-05-12", "full_name": "Nguyễn Văn An"}
    )
    don = tmp_path / "don.pdf"
    don.write_bytes(PDF)
    data = json.dumps(
        {"applicant": {"name": "Nguyễn Văn An"}, "diploma_type": "thpt", "graduation_year": 2008,
         "school": "THPT Chu Văn An", "copies": 1, "delivery": "post"}
    )  # fmt: skip
    identity = json.dumps(
        {"cccd": "001090012345", "date_of_birth": "1990-05-12", "full_name": "Nguyễn Văn An"}
    )
    args = ["case", "submit-online", "diploma_copy", "--data", data, "--file", f"TP1={don}"]
    status, _ = cli(engine, capsys, *args, "--reuse", f"TP2={offer.item_id}")
    assert status == 2  # reuse needs the portal's identity
    status, view = cli(engine, capsys, *args, "--identity", identity, "--reuse", f"TP2={offer.item_id}")
    assert status == 0
    kinds = [(e.kind, e.payload.get("source")) for e in engine.events(view["code"])]
    assert ("identity_checked", "portal") in kinds and ("document_reused", None) in kinds

    result = engine.attach_result(first, "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    secret = engine.reissue_secret(first, clerk).secret
    assert secret is not None
    out = tmp_path / "tai-ve.pdf"
    status, shown = cli(
        engine,
        capsys,
        "case",
        "result-download",
        first,
        "--secret",
        secret,
        "--id",
        str(result.id),
        "--out",
        str(out),
    )
    assert status == 0 and shown["signature"]["valid"] is True
    assert out.read_bytes() == engine.result_file(first, result.id)[1]
    status, _ = cli(
        engine,
        capsys,
        "case",
        "result-download",
        first,
        "--secret",
        "SAI",
        "--id",
        str(result.id),
        "--out",
        str(out),
    )
    assert status != 0
