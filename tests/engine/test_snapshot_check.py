"""``audit verify`` also checks the tables pages read against what each case's history rebuilds:
an edited case row or a rewritten ``work_items.completed_by`` is found, though every event is intact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

import run
from engine.clock import FixedClock
from engine.service import Engine

STEPS = [
    ("receipt_check", "clerk", {"decision": "accept", "checked_documents": ["TP1", "TP2"]}),
    ("verify_register", "specialist", {"found": True, "register_ref": "Sổ gốc 2015, số 1234", "copies": 2}),
]


def run_case(engine: Engine, clock: FixedClock) -> str:
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Hà Văn Sơn"}, "channel": 1},
        engine.actor("clerk"),
    ).code
    for element, user, data in STEPS:
        clock.advance(timedelta(minutes=20))
        engine.complete_task(code, element, data, engine.actor(user))
    return code


def sql(engine: Engine, statement: str, **params: Any) -> None:
    with engine.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def problems(engine: Engine, code: str) -> set[str]:
    return {f.problem for f in engine.verify_history(code).findings}


def test_an_untouched_case_matches_its_history(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    assert problems(engine, code) == set()
    assert engine.verify_history().ok


def test_an_edited_case_row_is_found(engine: Engine, clock: FixedClock, capsys: Any) -> None:
    code = run_case(engine, clock)
    sql(engine, "UPDATE cases SET status = 9, due_at = NULL WHERE code = :code", code=code)
    found = [f for f in engine.verify_history(code).findings if f.problem == "snapshot_mismatch"]
    assert len(found) == 1 and found[0].case == code
    assert "status" in found[0].reason and "due_at" in found[0].reason
    assert run.main(["audit", "verify", "--all", "--db", engine.db.url]) != 0
    assert code in capsys.readouterr().out


def test_a_rewritten_completer_is_found(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    sql(
        engine,
        "UPDATE work_items SET completed_by = 'director' WHERE element_id = 'verify_register'",
    )
    assert problems(engine, code) == {"work_item_mismatch"}


def test_an_edited_open_step_is_found(engine: Engine, clock: FixedClock) -> None:
    code = run_case(engine, clock)
    sql(engine, "UPDATE work_items SET role = 'desk_clerk' WHERE completed_at IS NULL")
    assert problems(engine, code) == {"snapshot_mismatch"}
