"""The page benchmarks' bulk seeding: real workflow state copied, and the engine still works after it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, text

from bench.pages import seed_apart
from bench.seed import real_templates, seed_open_cases
from engine.models import Case, WorkItem
from engine.service import Engine
from engine.text import dossier_search_key
from engine.users import SYSTEM


def test_seeded_dossiers_carry_real_state_and_new_dossiers_still_open(engine: Engine) -> None:
    templates = real_templates(engine, ["diploma_copy"], max_steps=3)
    assert all(t.case["state"] and t.items for t in templates)
    with engine.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Case))
    indexes = _indexes(engine)
    assert seed_open_cases(engine.db, templates, 120, engine.clock.now(), mine="specialist1", chunk=50) == 120
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == (before or 0) + 120
        seeded = session.execute(select(Case.code, Case.state).where(Case.code.like("BENCH-%"))).all()
        assert len(seeded) == 120 and all(state for _, state in seeded)
        assert (
            session.scalar(select(func.count()).select_from(WorkItem).where(WorkItem.task_id.like("bench-%")))
            >= 120
        )
        highest = session.scalar(select(func.max(Case.id)))
        # The large values are the templates' own, stored as the engine stores them.
        copies = session.scalars(select(Case).where(Case.code.like("BENCH-%"))).all()
        by_state = {t.case["state"]: t for t in templates}
        for copy in copies:
            template = by_state[copy.state]
            assert (copy.data, copy.sla, copy.applicant, copy.status) == (
                template.case["data"],
                template.case["sla"],
                template.case["applicant"],
                template.case["status"],
            )
            id_number = (template.case["applicant"] or {}).get("id_number")
            assert copy.search_key == dossier_search_key(copy.code, copy.applicant_name, id_number)
            assert copy.last_seq == 0 and copy.version == 1 and not copy.completed
            assert copy.submitted_at.tzinfo is not None and copy.submitted_at < engine.clock.now()
        # The load dropped the secondary indexes (it doubled the table) and built them again.
        if engine.db.is_sqlite:
            stored = session.execute(text("SELECT submitted_at FROM cases ORDER BY id")).scalars().all()
            assert len({len(str(v)) for v in stored}) == 1  # the seeded times are written like the engine's
    assert _indexes(engine) == indexes
    # On PostgreSQL the seeded ids were explicit: without advancing the sequence this insert collides.
    case = engine.start_case({"procedure_id": "diploma_copy", "applicant": {"name": "Sau khi gieo"}}, SYSTEM)
    with engine.db.read() as session:
        new_id = session.scalar(select(Case.id).where(Case.code == case.code))
    assert new_id is not None and highest is not None and new_id > highest
    # A seeded dossier opens and its open step is listed from the copied state.
    first = engine.get_case(seeded[0].code)
    assert first.code == seeded[0].code and engine.list_tasks(first.code)


def _indexes(engine: Engine) -> dict[str, list[str]]:
    found = inspect(engine.db.engine)
    return {t: sorted(str(i["name"]) for i in found.get_indexes(t)) for t in ("cases", "work_items")}


def test_seeding_apart_writes_the_copies_and_their_read_models(engine: Engine) -> None:
    """The page bench seeds in a process of its own (its memory is not the web process's)."""
    templates = real_templates(engine, ["diploma_copy"], max_steps=3)
    with engine.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Case)) or 0
    assert seed_apart(engine.db.url, templates, 40) == 40
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == before + 40
    assert engine.check_board() == []  # the child rebuilt the board's counts with the copies
    with pytest.raises(RuntimeError, match="seeding failed"):
        seed_apart("sqlite:////nonexistent-directory/no.sqlite3", templates, 1)
