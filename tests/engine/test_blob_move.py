"""Bytes older versions kept in the database move to the file store; damaged ones stay for audit."""

from __future__ import annotations

from sqlalchemy import select, update

from engine.blob_move import move_blobs
from engine.models import CaseResult, DossierDocument
from engine.service import Engine
from tests.engine.helpers import result_pdf

PDF = b"%PDF-1.4\n% don cu\n"


def test_old_blobs_move_to_the_store_and_audit_still_agrees(engine: Engine) -> None:
    code = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Cũ"}},
        engine.actor("clerk"),
    ).code
    document = engine.add_document(code, "TP1", "to-trinh.pdf", PDF, engine.actor("clerk"))
    result = engine.attach_result(code, "quyet-dinh.pdf", result_pdf(), engine.actor("specialist"))
    other = engine.add_document(code, "TP2", "quyet-dinh-tl.pdf", PDF + b"2", engine.actor("clerk"))
    # As an older version stored them: bytes in the rows, nothing in the store.
    with engine.db.unit_of_work() as session:
        session.execute(update(DossierDocument).where(DossierDocument.id == document.id).values(content=PDF))
        session.execute(
            update(DossierDocument).where(DossierDocument.id == other.id).values(content=b"%PDF-1.4\n% sua\n")
        )
        session.execute(update(CaseResult).values(content=engine.result_file(code, result.id)[1]))
    for digest in (document.sha256, result.sha256):
        engine.files.path_of(digest).unlink()  # type: ignore[attr-defined]

    moved = move_blobs(engine.db, engine.files)
    assert (moved.documents, moved.results, moved.left_in_place) == (1, 1, 1)
    with engine.db.read() as session:
        contents = dict(session.execute(select(DossierDocument.id, DossierDocument.content)).all())
        assert contents[document.id] is None and contents[other.id] is not None
        assert session.scalars(select(CaseResult.content)).one() is None
    assert engine.read_document(code, document.id)[1] == PDF
    assert [f.problem for f in engine.verify_history(code).findings] == [
        "document_altered"
    ]  # the damaged one
    assert move_blobs(engine.db, engine.files) == type(moved)(0, 0, 1)  # idempotent
