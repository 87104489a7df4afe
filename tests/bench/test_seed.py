"""The page benchmarks' bulk seeding: real workflow state copied, and the engine still works after it."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.seed import real_templates, seed_open_cases
from engine.models import Case, WorkItem
from engine.service import Engine
from engine.users import SYSTEM


def test_seeded_dossiers_carry_real_state_and_new_dossiers_still_open(engine: Engine) -> None:
    templates = real_templates(engine, ["diploma_copy"], max_steps=3)
    assert all(t.case["state"] and t.items for t in templates)
    with engine.db.read() as session:
        before = session.scalar(select(func.count()).select_from(Case))
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
    # On PostgreSQL the seeded ids were explicit: without advancing the sequence this insert collides.
    case = engine.start_case({"procedure_id": "diploma_copy", "applicant": {"name": "Sau khi gieo"}}, SYSTEM)
    with engine.db.read() as session:
        new_id = session.scalar(select(Case.id).where(Case.code == case.code))
    assert new_id is not None and highest is not None and new_id > highest
    # A seeded dossier opens and its open step is listed from the copied state.
    first = engine.get_case(seeded[0].code)
    assert first.code == seeded[0].code and engine.list_tasks(first.code)
