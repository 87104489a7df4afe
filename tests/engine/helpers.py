"""Helpers for engine tests: deploying fixture procedures and reading raw rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from engine.db import Database
from engine.models import CaseEvent, WorkItem
from engine.service import Engine, ProcedureView
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
