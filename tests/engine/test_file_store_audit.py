"""Documents live in the file store, not the database; ``audit verify`` reads them back there."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import DossierDocument
from engine.service import Engine

PDF = b"%PDF-1.4\n% don de nghi\n"


def _case_with_document(engine: Engine) -> tuple[str, str]:
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Lý Văn Tệp"}}, engine.actor("clerk")
    ).code
    view = engine.add_document(code, "TP1", "don.pdf", PDF, engine.actor("clerk"))
    return code, view.sha256


def test_the_database_keeps_only_the_hash(engine: Engine) -> None:
    code, sha = _case_with_document(engine)
    with engine.db.read() as session:
        row = session.scalars(select(DossierDocument)).one()
        assert row.content is None and row.sha256 == sha
        document_id = row.id
    assert engine.files.get(sha) == PDF
    assert engine.read_document(code, document_id)[1] == PDF
    assert engine.verify_history(code).findings == []


def test_audit_finds_a_swapped_or_lost_file(engine: Engine) -> None:
    code, sha = _case_with_document(engine)
    path = engine.files.path_of(sha)  # type: ignore[attr-defined]
    path.write_bytes(PDF.replace(b"don", b"DON"))
    [altered] = engine.verify_history(code).findings
    assert altered.problem == "document_altered" and "khác với mã SHA-256 ghi trong sự kiện" in altered.reason
    path.unlink()
    [missing] = engine.verify_history(code).findings
    assert missing.problem == "document_missing" and "không còn trong kho lưu trữ" in missing.reason


def test_a_rewritten_row_hash_is_still_caught_by_the_history(engine: Engine) -> None:
    code, _ = _case_with_document(engine)
    forged = b"%PDF-1.4\n% forged\n"
    other = engine.files.put(forged).sha256  # the forger stores other bytes and points the row at them
    with engine.db.unit_of_work() as session:
        session.scalars(select(DossierDocument)).one().sha256 = other
    [finding] = engine.verify_history(code).findings
    assert finding.problem == "document_altered"
