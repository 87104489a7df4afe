"""Tamper evidence on SQLite and PostgreSQL: rows are changed with SQL, behind the engine's back.

Every kind of tampering (edit, change of actor, delete, reorder, insert, a whole case deleted, a
chain rewritten with fresh hashes, the seal itself edited) must be caught by ``audit verify`` with
the right dossier code and event number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text

import run
from engine import audit
from engine.clock import FixedClock
from engine.errors import ValidationError
from engine.integrity import VerifyReport
from engine.models import AuditDigest, AuditDigestEntry, Case, CaseEvent
from engine.service import Engine
from tests.support.fixtures import vn

HAPPY = [
    ("receipt_check", "clerk", {"decision": "accept", "checked_documents": ["TP1", "TP2"]}),
    ("verify_register", "specialist", {"found": True, "register_ref": "Sổ gốc 2015, số 1234", "copies": 2}),
    ("approve_copy", "head", {"approved": True}),
    ("return_result", "clerk", {"method": "in_person", "returned_to": "Nguyễn Văn An"}),
]


@pytest.fixture(autouse=True)
def _no_seals(engine: Engine) -> Iterator[None]:
    """Seals are not case tables, so the shared clean-up leaves them: each test starts without any."""

    def wipe() -> None:
        with engine.db.unit_of_work() as session:
            session.execute(delete(AuditDigestEntry))
            session.execute(delete(AuditDigest))

    wipe()
    yield
    wipe()


def run_case(engine: Engine, clock: FixedClock, name: str = "Nguyễn Văn An", steps: int = 4) -> str:
    view = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": name}, "channel": 1}, engine.actor("clerk")
    )
    for element, user, data in HAPPY[:steps]:
        clock.advance(timedelta(minutes=20))
        engine.complete_task(view.code, element, data, engine.actor(user))
    return view.code


def sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def case_id(engine: Engine, code: str) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(Case.id).where(Case.code == code)) or 0)


def rechain(engine: Engine, code: str, edit: Callable[[CaseEvent], None]) -> None:
    """What a forger with database access does: edit the events, recompute every hash and the case
    row's head, so the chain verifies again (only a seal can tell)."""
    cid = case_id(engine, code)
    with engine.db.unit_of_work() as session:
        rows = list(
            session.scalars(select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.seq))
        )
        prev = audit.GENESIS
        for row in rows:
            edit(row)
            row.prev_hash, row.hash = prev, audit.chain_hash(prev, audit.stored_content(code, row))
            prev = row.hash
        session.execute(text("UPDATE cases SET last_hash = :h WHERE id = :c"), {"h": prev, "c": cid})


def last_seq(engine: Engine, code: str) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(Case.last_seq).where(Case.code == code)) or 0)


def problems(report: VerifyReport) -> list[tuple[str | None, int | None, str]]:
    return [(f.case, f.seq, f.problem) for f in report.findings]


def json_value(engine: Engine) -> str:
    return "CAST(:value AS json)" if engine.db.engine.dialect.name == "postgresql" else ":value"


def test_intact_history_verifies_and_cli_exits_zero(engine: Engine, clock: FixedClock, capsys: Any) -> None:
    codes = [run_case(engine, clock, f"Người nộp {i}") for i in range(3)]
    report = engine.verify_history()
    assert report.ok and report.cases == 3
    assert report.events == sum(last_seq(engine, c) for c in codes)
    assert engine.verify_history(codes[1]).ok
    assert run.main(["audit", "verify", "--all", "--db", engine.db.url]) == 0
    assert "Nhật ký toàn vẹn: 3 hồ sơ" in capsys.readouterr().out


def test_edited_payload_is_caught_with_case_and_seq(engine: Engine, clock: FixedClock, capsys: Any) -> None:
    other = run_case(engine, clock, "Không bị sửa")
    code = run_case(engine, clock)
    sql(
        engine,
        f"UPDATE case_events SET payload = {json_value(engine)} WHERE case_id = :case AND seq = 8",
        value=json.dumps({"data": {"found": False}}),
        case=case_id(engine, code),
    )
    report = engine.verify_history()
    assert problems(report) == [(code, 8, "content_mismatch")]
    assert engine.verify_history(other).ok
    assert run.main(["audit", "verify", "--all", "--json", "--db", engine.db.url]) == run.INTEGRITY_BROKEN
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["findings"][0]["case"] == code and out["findings"][0]["seq"] == 8
    assert "không khớp" in out["findings"][0]["reason"]


def test_changed_actor_is_caught(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    sql(
        engine,
        "UPDATE case_events SET actor = 'director' WHERE case_id = :case AND seq = 3",
        case=case_id(engine, code),
    )
    assert problems(engine.verify_history(code)) == [(code, 3, "content_mismatch")]


def test_deleted_event_is_caught(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    sql(engine, "DELETE FROM case_events WHERE case_id = :case AND seq = 6", case=case_id(engine, code))
    found = problems(engine.verify_history())
    assert found[0] == (code, 6, "event_missing")


def test_deleted_last_event_is_caught_by_the_case_head(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    n = last_seq(engine, code)
    sql(
        engine,
        "DELETE FROM case_events WHERE case_id = :case AND seq = :seq",
        case=case_id(engine, code),
        seq=n,
    )
    assert problems(engine.verify_history(code)) == [(code, n, "head_mismatch")]


def test_swapped_events_are_caught(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    cid = case_id(engine, code)
    sql(engine, "UPDATE case_events SET seq = -1 WHERE case_id = :case AND seq = 4", case=cid)
    sql(engine, "UPDATE case_events SET seq = 4 WHERE case_id = :case AND seq = 5", case=cid)
    sql(engine, "UPDATE case_events SET seq = 5 WHERE case_id = :case AND seq = -1", case=cid)
    found = problems(engine.verify_history(code))
    assert (code, 4, "event_reordered") in found
    assert (code, 4, "link_broken") in found
    assert all(seq == 4 for _, seq, _ in found)


def forged_event(engine: Engine, code: str, seq: int, prev_hash: str, **changes: Any) -> dict[str, Any]:
    """A row a forger who knows the hash algorithm (but has no key) would write."""
    at = changes.pop("at", vn(2026, 3, 2, 16, 0)).astimezone(UTC)  # as the engine stores it
    row: dict[str, Any] = {
        "case_id": case_id(engine, code),
        "seq": seq,
        "at": at,
        "actor": "director",
        "kind": "task_completed",
        "task_id": None,
        "element_id": "approve_copy",
        "status_from": None,
        "status_to": None,
        "payload": {"data": {"approved": True}},
        "prev_hash": prev_hash,
    }
    row.update(changes)
    content = audit.event_content(
        case_code=code,
        **{
            k: row[k]
            for k in ("seq", "at", "actor", "kind", "task_id", "element_id", "status_from", "status_to")
        },
        payload=row["payload"],
    )
    row["hash"] = audit.chain_hash(prev_hash, content)
    return row


def head(engine: Engine, code: str) -> tuple[int, str]:
    with engine.db.read() as session:
        case = session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        return case.last_seq, case.last_hash


def test_forged_event_appended_with_a_valid_hash_is_caught(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    n, last_hash = head(engine, code)
    with engine.db.engine.begin() as conn:
        conn.execute(insert(CaseEvent.__table__), [forged_event(engine, code, n + 1, last_hash)])
    assert problems(engine.verify_history(code)) == [(code, n + 1, "head_mismatch")]


def test_forged_event_with_a_bad_hash_is_caught(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    n, last_hash = head(engine, code)
    row = forged_event(engine, code, n + 1, last_hash)
    row["hash"] = "f" * 64
    with engine.db.engine.begin() as conn:
        conn.execute(insert(CaseEvent.__table__), [row])
    found = problems(engine.verify_history(code))
    assert (code, n + 1, "content_mismatch") in found and all(seq == n + 1 for _, seq, _ in found)


def test_forged_event_inserted_in_the_middle_is_caught(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    cid = case_id(engine, code)
    n, _ = head(engine, code)
    # Make room at seq 5 by renumbering the later events (highest first: seq is unique per case).
    for seq in range(n, 4, -1):
        sql(
            engine,
            "UPDATE case_events SET seq = :new WHERE case_id = :case AND seq = :old",
            new=seq + 1,
            old=seq,
            case=cid,
        )
    with engine.db.read() as session:
        prev = session.scalar(select(CaseEvent.hash).where(CaseEvent.case_id == cid, CaseEvent.seq == 4))
    with engine.db.engine.begin() as conn:
        conn.execute(insert(CaseEvent.__table__), [forged_event(engine, code, 5, str(prev))])
    found = problems(engine.verify_history(code))
    assert found[0][:2] == (code, 5)
    assert {p for _, _, p in found} >= {"event_reordered", "link_broken"}


def test_deleted_case_is_caught_by_the_daily_seal(engine: Engine, clock: FixedClock, capsys: Any) -> None:
    kept = run_case(engine, clock, "Còn lại")
    gone = run_case(engine, clock, "Bị xoá")
    n = last_seq(engine, gone)
    clock.set(vn(2026, 3, 3, 8, 0))
    seal = engine.seal_day()
    assert seal.day == "2026-03-02" and seal.case_count == 2 and seal.created
    run_case(engine, clock, "Ngày hôm sau")  # work after the seal is not affected by it
    assert engine.verify_history().ok
    cid = case_id(engine, gone)
    for table in ("case_events", "work_items", "timers"):
        sql(engine, f"DELETE FROM {table} WHERE case_id = :case", case=cid)
    sql(engine, "DELETE FROM cases WHERE id = :case", case=cid)
    report = engine.verify_history()
    assert problems(report) == [(gone, n, "case_missing")]
    assert report.digest_day == "2026-03-02"
    assert problems(engine.verify_history(gone)) == [(gone, n, "case_missing")]
    assert engine.verify_history(kept).ok
    assert run.main(["audit", "verify", "--db", engine.db.url]) == run.INTEGRITY_BROKEN
    assert gone in capsys.readouterr().out


def test_chain_rewritten_with_fresh_hashes_is_caught_by_the_seal(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    clock.set(vn(2026, 3, 3, 8, 0))
    engine.seal_day(date(2026, 3, 2))
    # The forger edits event 8 and recomputes every later hash and the case row: the chain verifies.

    def forge(row: CaseEvent) -> None:
        if row.seq == 8:
            row.payload = {**row.payload, "data": {"found": True, "register_ref": "giả mạo", "copies": 9}}

    rechain(engine, code, forge)
    found = problems(engine.verify_history())
    n = last_seq(engine, code)
    assert found == [(code, n, "sealed_head_changed")]


def test_backdated_forgery_with_updated_case_row_is_caught_by_the_seal(
    engine: Engine, clock: FixedClock
) -> None:
    code = run_case(engine, clock, steps=3)
    clock.set(vn(2026, 3, 3, 8, 0))
    engine.seal_day()
    n, last_hash = head(engine, code)
    row = forged_event(engine, code, n + 1, last_hash, at=vn(2026, 3, 2, 16, 30))
    with engine.db.engine.begin() as conn:
        conn.execute(insert(CaseEvent.__table__), [row])
        conn.execute(
            text("UPDATE cases SET last_seq = :s, last_hash = :h WHERE id = :c"),
            {"s": n + 1, "h": row["hash"], "c": case_id(engine, code)},
        )
    assert problems(engine.verify_history()) == [(code, n, "sealed_head_changed")]


def test_a_case_inserted_with_backdated_events_is_caught(engine: Engine, clock: FixedClock) -> None:
    run_case(engine, clock)
    clock.set(vn(2026, 3, 3, 8, 0))
    engine.seal_day()
    late = run_case(engine, clock, "Chèn sau")
    sql(
        engine,
        "UPDATE case_events SET at = :at WHERE case_id = :c",
        at=vn(2026, 3, 2, 9, 0),
        c=case_id(engine, late),
    )
    found = problems(engine.verify_history())
    assert (late, 1, "case_unsealed") in found


def test_seal_rows_are_themselves_chained(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    clock.set(vn(2026, 3, 5, 8, 0))
    sealed = engine.seal_finished_days()
    assert [s.day for s in sealed] == ["2026-03-04"]  # the first seal covers only yesterday
    clock.set(vn(2026, 3, 7, 8, 0))
    assert [s.day for s in engine.seal_finished_days()] == ["2026-03-05", "2026-03-06"]
    assert engine.seal_finished_days() == []
    assert engine.seal_day(date(2026, 3, 6)).created is False  # idempotent
    with pytest.raises(ValidationError, match="chưa kết thúc"):
        engine.seal_day(date(2026, 3, 7))
    assert engine.verify_history().ok
    sql(engine, "UPDATE audit_digests SET case_count = 5 WHERE day = '2026-03-05'")
    assert problems(engine.verify_history()) == [(None, None, "seal_broken")]
    sql(engine, "UPDATE audit_digests SET case_count = 1 WHERE day = '2026-03-05'")
    sql(engine, "DELETE FROM audit_digest_entries WHERE case_code = :code", code=code)
    found = problems(engine.verify_history())
    assert (None, None, "digest_mismatch") in found and (code, 1, "case_unsealed") in found


def test_orphan_events_of_a_deleted_case_row_are_reported(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock, steps=1)
    cid = case_id(engine, code)
    raw = engine.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.db.is_sqlite:  # autocommit (see engine.db): the PRAGMA applies at once
            cursor.execute("PRAGMA foreign_keys=OFF")
            param = "?"
        else:  # a superuser (an attacker with DBA rights) can switch off FK triggers for its session
            cursor.execute("SET session_replication_role = replica")
            param = "%s"
        for table in ("work_items", "timers"):
            cursor.execute(f"DELETE FROM {table} WHERE case_id = {param}", (cid,))
        cursor.execute(f"DELETE FROM cases WHERE id = {param}", (cid,))
        if engine.db.is_sqlite:
            cursor.execute("PRAGMA foreign_keys=ON")
        else:
            raw.commit()
    finally:
        raw.close()
    assert [p for _, _, p in problems(engine.verify_history())] == ["orphan_events"]


def test_the_worker_seals_finished_days(engine: Engine, clock: FixedClock) -> None:
    from engine.worker import run_worker

    gone = run_case(engine, clock, "Sẽ bị xoá")
    clock.set(vn(2026, 3, 3, 8, 0))
    run_worker(engine, once=True)
    # The finished day, then this morning's hourly checkpoint.
    with engine.db.read() as session:
        assert list(session.scalars(select(AuditDigest.day).order_by(AuditDigest.id))) == [
            "2026-03-02",
            "2026-03-03T08:00",
        ]
    assert engine.verify_history().digest_day == "2026-03-03T08:00"
    cid = case_id(engine, gone)
    for table in ("case_events", "work_items", "timers"):
        sql(engine, f"DELETE FROM {table} WHERE case_id = :case", case=cid)
    sql(engine, "DELETE FROM cases WHERE id = :case", case=cid)
    assert [p[0] for p in problems(engine.verify_history())] == [gone]


@pytest.mark.parametrize("shape", [["found", True], "found", 42, None])
def test_payload_rewritten_into_another_shape_is_a_finding_not_a_crash(
    engine: Engine, clock: FixedClock, shape: Any
) -> None:
    """A task's data rewritten as a list, string, number or null: verify and replay report it at that
    event, and the registers and reports built from events still answer (reading that row as empty)."""
    code = run_case(engine, clock)
    completed = next(e for e in engine.events(code) if e.kind == "task_completed" and e.seq > 1)
    sql(
        engine,
        f"UPDATE case_events SET payload = {json_value(engine)} WHERE case_id = :case AND seq = :seq",
        value=json.dumps({**completed.payload, "data": shape}),
        case=case_id(engine, code),
        seq=completed.seq,
    )
    assert problems(engine.verify_history(code)) == [(code, completed.seq, "content_mismatch")]
    replayed = engine.replay_case(code)
    assert not replayed.ok
    assert replayed.divergence is not None and replayed.divergence.seq == completed.seq
    day = clock.now().date()
    register = engine.dossier_register(day, day)
    assert len(register.rows) == 1
    assert engine.control_sheet_form(code).rows
    assert engine.periodic_report(2026, "q1") is not None
    assert engine.scorecard_766(day, day) is not None
