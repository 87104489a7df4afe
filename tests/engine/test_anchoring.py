"""Audit anchoring: document bytes against their chained hash, seals signed and kept outside the
database, and the current day sealed every hour by the worker."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

import run
from engine.clock import FixedClock
from engine.models import AuditDigest, AuditDigestEntry, CaseEvent
from engine.seal_log import read_entries
from engine.service import Engine
from tests.engine.test_integrity import _no_seals, case_id, problems, rechain, run_case, sql
from tests.support.fixtures import vn

__all__ = ["_no_seals"]  # the autouse clean-up of seals, shared with test_integrity


def _with_document(engine: Engine, clock: FixedClock) -> tuple[str, int]:
    code = run_case(engine, clock, steps=1)
    engine.add_document(code, "TP1", "don.pdf", b"%PDF-1.4 ban goc", engine.actor("clerk"))
    doc = engine.list_documents(code)[0]
    return code, doc.id


def test_swapping_a_documents_bytes_and_its_stored_hash_is_detected(
    engine: Engine, clock: FixedClock, capsys: Any
) -> None:
    code, doc_id = _with_document(engine, clock)
    assert engine.verify_history().ok
    forged = b"%PDF-1.4 ban gia mao"
    import hashlib

    sql(
        engine,
        "UPDATE dossier_documents SET content = :c, sha256 = :h, size = :s WHERE id = :d",
        c=forged,
        h=hashlib.sha256(forged).hexdigest(),
        s=len(forged),
        d=doc_id,
    )
    seq = next(e.seq for e in engine.events(code) if e.kind == "document_added")
    assert problems(engine.verify_history()) == [(code, seq, "document_altered")]
    assert problems(engine.verify_history(code)) == [(code, seq, "document_altered")]
    assert run.main(["audit", "verify", "--db", engine.db.url]) == run.INTEGRITY_BROKEN
    assert "khác với mã SHA-256 ghi trong sự kiện" in capsys.readouterr().out


def test_editing_only_the_stored_hash_is_detected(engine: Engine, clock: FixedClock) -> None:
    code, doc_id = _with_document(engine, clock)
    sql(engine, "UPDATE dossier_documents SET sha256 = :h WHERE id = :d", h="0" * 64, d=doc_id)
    assert [p[2] for p in problems(engine.verify_history())] == ["document_hash_changed"]


def _rewrite_chain(engine: Engine, code: str) -> None:
    """A forger credits the clerk's steps to someone else everywhere — events (with every later hash
    recomputed), work items and the case row — so the database agrees with itself."""

    def credit_elsewhere(row: CaseEvent) -> None:
        if row.actor == "clerk":
            row.actor = "ke-gia-mao"

    rechain(engine, code, credit_elsewhere)
    cid = case_id(engine, code)
    with engine.db.unit_of_work() as session:
        for column in ("completed_by", "assignee"):
            session.execute(
                text(f"UPDATE work_items SET {column} = :new WHERE case_id = :c AND {column} = :old"),
                {"c": cid, "new": "ke-gia-mao", "old": "clerk"},
            )


def test_a_rewritten_history_resealed_in_the_database_is_caught_by_the_outside_copy(
    engine: Engine, clock: FixedClock, capsys: Any
) -> None:
    code = run_case(engine, clock)
    clock.set(vn(2026, 3, 3, 8, 0))
    original = engine.seal_day(date(2026, 3, 2))
    log = engine.seal_log_path
    lines = read_entries(log)
    assert [e["day"] for e in lines] == ["2026-03-02"] and lines[0]["seal"] == original.seal
    assert engine.verify_history(seals_file=log).ok
    # The forger rewrites the chain consistently, throws the seals away and seals again.
    _rewrite_chain(engine, code)
    with engine.db.unit_of_work() as session:
        session.execute(AuditDigestEntry.__table__.delete())
        session.execute(AuditDigest.__table__.delete())
    with engine.db.unit_of_work() as session:
        from engine.integrity import record_digest

        resealed = record_digest(session, date(2026, 3, 2), clock.now())
    assert resealed.seal != original.seal
    assert engine.verify_history().ok  # the database alone cannot tell
    found = problems(engine.verify_history(seals_file=log))
    assert found == [(None, None, "seal_rewritten")]
    assert run.main(["audit", "verify", "--seals", str(log), "--db", engine.db.url]) == run.INTEGRITY_BROKEN
    out = capsys.readouterr().out
    assert "lịch sử đã bị viết lại và niêm phong lại" in out


def test_the_outside_copy_is_signed_and_a_forged_line_is_refused(engine: Engine, clock: FixedClock) -> None:
    run_case(engine, clock)
    clock.set(vn(2026, 3, 3, 8, 0))
    engine.seal_day(date(2026, 3, 2))
    log: Path = engine.seal_log_path
    entry = read_entries(log)[0]
    # The forger also edits the outside line to match a new seal, but cannot sign it.
    entry["seal"] = "f" * 64
    log.write_text(json.dumps(entry) + "\n", encoding="utf-8")
    found = problems(engine.verify_history(seals_file=log))
    assert (None, None, "seal_signature_invalid") in found
    # The signing key lives outside the database: no column holds it.
    private = engine.seal_key_path.read_text()
    assert "PRIVATE KEY" in private and oct(engine.seal_key_path.stat().st_mode)[-3:] == "600"


def test_the_worker_seals_the_current_day_every_hour(engine: Engine, clock: FixedClock) -> None:
    from engine.worker import run_worker

    clock.set(vn(2026, 3, 2, 8, 0))
    gone = run_case(engine, clock, "Sẽ bị xoá", steps=2)  # events until 08:40
    clock.set(vn(2026, 3, 2, 10, 30))
    run_worker(engine, once=True)
    with engine.db.read() as session:
        assert "2026-03-02T10:00" in list(session.scalars(select(AuditDigest.day)))
    assert [e["day"] for e in read_entries(engine.seal_log_path)][-1] == "2026-03-02T10:00"
    cid = case_id(engine, gone)
    for table in ("case_events", "work_items", "timers"):
        sql(engine, f"DELETE FROM {table} WHERE case_id = :case", case=cid)
    sql(engine, "DELETE FROM cases WHERE id = :case", case=cid)
    assert [(p[0], p[2]) for p in problems(engine.verify_history())] == [(gone, "case_missing")]
    # Later the same hour nothing new is sealed; the next hour adds a checkpoint.
    assert engine.seal_current_hour() is not None
    clock.set(vn(2026, 3, 2, 11, 5))
    later = engine.seal_current_hour()
    assert later is not None and later.day == "2026-03-02T11:00" and later.created
