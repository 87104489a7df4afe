"""Helpers for engine tests: deploying fixture procedures and reading raw rows."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.lifecycle import ALL_ROLES, sample_data
from engine.clock import FixedClock
from engine.db import Database, alembic_config
from engine.demo_data import one_page_pdf
from engine.models import CaseEvent, Timer, WorkItem
from engine.service import CaseView, Engine, ProcedureView
from engine.users import Actor

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DESIGNER = Actor("designer", "Thiết kế", frozenset({"designer"}))


def deploy_fixture(
    engine: Engine, name: str = "timer_demo", *, replace: tuple[str, str] | None = None
) -> ProcedureView:
    """Deploy tests/fixtures/NAME.bpmn, optionally with one textual change (a new version)."""
    text = (FIXTURES / f"{name}.bpmn").read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return engine.deploy(f"{name}.bpmn", text.encode("utf-8"), {}, DESIGNER)


def event_count(db: Database, case_id: int) -> int:
    with db.read() as session:
        return int(
            session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
            or 0
        )


def open_items(db: Database, case_id: int) -> list[str]:
    with db.read() as session:
        rows = session.scalars(
            select(WorkItem.element_id).where(WorkItem.case_id == case_id, WorkItem.completed_at.is_(None))
        )
        return list(rows)


def drive_to_end(engine: Engine, clock: FixedClock, code: str, *, max_rounds: int = 60) -> CaseView:
    """Complete every open task with simple valid data and let due timers fire, until the case ends
    or nothing is left to do (the caller asserts on the returned view)."""
    for _ in range(max_rounds):
        view = engine.get_case(code)
        if view.completed:
            return view
        if view.tasks:
            task = view.tasks[0]
            engine.complete_task(code, task.task_id, sample_data(task.form), ALL_ROLES)
            continue
        with engine.db.read() as session:
            due = session.scalar(
                select(func.min(Timer.due_at)).where(
                    Timer.case_id == view.id, Timer.fired_at.is_(None), Timer.kind == "bpmn"
                )
            )
        if due is None:
            return view
        clock.set(max(clock.now(), due.replace(tzinfo=due.tzinfo or UTC)) + timedelta(seconds=1))
        engine.fire_due_timers()
    return engine.get_case(code)


def result_pdf(text: str = "Ban sao van bang so 0975") -> bytes:
    """A small valid one-page PDF (a result the agency signs), its text stream left readable."""
    return one_page_pdf(text, compress_streams=False)


def revision_before(db: Database, revision: str) -> str:
    """The migration ``revision`` follows (its down revision)."""
    from alembic.script import ScriptDirectory

    previous = ScriptDirectory.from_config(alembic_config(db.url)).get_revision(revision).down_revision
    assert isinstance(previous, str)
    return previous


def downgrade_to(db: Database, target: str) -> None:
    """Take the schema back to ``target`` (later revisions' tables and columns gone), so a test's
    ``db.migrate()`` — what init-db runs — upgrades again through their backfills. The pool is
    emptied: no connection keeps SQLite's cached schema from before the downgrade."""
    from alembic import command

    with db.engine.begin() as connection:
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, target)
    db.dispose()
