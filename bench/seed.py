"""Open dossiers in bulk for the page benchmarks: a million in minutes, with real workflow state.

A handful of real dossiers are walked through the engine (every procedure of the library, stopped
at each step a person works on); their ``cases`` rows — workflow state, data, SLA fields — and
their open work items are then copied in bulk under new ids, codes and dates. Only ``cases`` rows
get explicit ids, so on PostgreSQL the id sequence is advanced afterwards: the next dossier opened
through the engine must not collide with a seeded one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from engine import facts_store
from engine.db import Database
from engine.models import Case, ProcedureVersion, WorkItem
from engine.service import Engine
from engine.text import dossier_search_key
from engine.users import SYSTEM

from .lifecycle import HappyPath

#: Every `every`-th seeded dossier's open step is claimed by the benchmark user ("my tasks").
MINE_EVERY = 2_000
#: Share of seeded dossiers waiting at the desk for receipt (status 1: the desk queue).
AT_DESK = 0.02


@dataclass(frozen=True)
class Template:
    """One real dossier's row and open steps, copied under new ids by :func:`seed_open_cases`."""

    code: str  # the real dossier it was taken from (which has events: the case page bench reads it)
    case: dict[str, Any]
    items: list[dict[str, Any]]


#: Columns a copy sets itself; every other column of ``cases`` (state, data, SLA, procedure, the
#: history format…) is copied from the template as it is.
_OWN_COLUMNS = frozenset(
    {
        "id",
        "code",
        "applicant_name",
        "search_key",
        "submitted_at",
        "receipt_due_at",
        "received_at",
        "due_at",
        "finished_at",
        "returned_at",
        "completed",
        "outcome",
        "secret_hash",
        "last_seq",
        "last_hash",
        "version",
        "facts_seq",
    }
)
_CASE_COLUMNS = tuple(c.key for c in Case.__table__.columns if c.key not in _OWN_COLUMNS)
_ITEM_COLUMNS = ("element_id", "name", "role", "lane", "unit", "allocated_hours")


def real_templates(engine: Engine, procedures: list[str] | None = None, max_steps: int = 6) -> list[Template]:
    """Walk one dossier per procedure (and channel) through the engine, snapshotting each open step."""
    with engine.db.read() as session:
        known = sorted(set(session.scalars(select(ProcedureVersion.procedure_id))))
    wanted = procedures or known
    templates: list[Template] = []
    happy = HappyPath()
    for procedure_id in wanted:
        for channel in (1, 2):
            try:
                case = engine.start_case(
                    {"procedure_id": procedure_id, "applicant": {"name": "Mẫu đo"}, "channel": channel},
                    SYSTEM,
                )
            except Exception:  # a procedure whose start form needs more than the bench knows
                continue
            for _ in range(max_steps):
                templates.append(_snapshot(engine, case.code))
                tasks = engine.list_tasks(case.code)
                if not tasks:
                    break
                try:
                    happy.complete(engine, case.code, tasks[0])
                except Exception:  # a step whose form the sample data cannot satisfy: stop this walk
                    break
    usable = [t for t in templates if t.items and t.case["status"] not in (3, 8, 10)]
    if not usable:
        raise RuntimeError("no procedure of the library could be walked to an open step")
    return usable


def _snapshot(engine: Engine, code: str) -> Template:
    with engine.db.read() as session:
        case = session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        items = session.scalars(
            select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.completed_at.is_(None))
        ).all()
        return Template(
            code,
            {c: getattr(case, c) for c in _CASE_COLUMNS},
            [{c: getattr(i, c) for c in _ITEM_COLUMNS} for i in items],
        )


def seed_open_cases(
    db: Database,
    templates: list[Template],
    n_cases: int,
    now: datetime,
    mine: str | None = None,
    seed: int = 766,
    chunk: int = 5_000,
) -> int:
    """Insert ``n_cases`` open dossiers copied from ``templates`` with spread dates; returns how many.

    Receipt and statutory deadlines are spread from 48 hours late to 10 days ahead so every colour
    of the board is populated; 2 % of the dossiers wait at the desk for receipt.
    """
    rng = random.Random(seed)
    with db.unit_of_work() as session:
        first_id = int(session.scalar(select(func.coalesce(func.max(Case.id), 0))) or 0) + 1
    processing = [t for t in templates if t.case["status"] != 1]
    at_desk = [t for t in templates if t.case["status"] == 1] or processing
    made = 0
    while made < n_cases:
        size = min(chunk, n_cases - made)
        cases, items = [], []
        for offset in range(size):
            case_id = first_id + made + offset
            desk = rng.random() < AT_DESK
            template = rng.choice(at_desk if desk else processing)
            submitted = now - timedelta(hours=rng.uniform(1, 240))
            status = int(template.case["status"])
            received = None if status == 1 else submitted + timedelta(hours=rng.uniform(0, 4))
            due = None if received is None else now + timedelta(hours=rng.uniform(-48, 240))
            cases.append(
                {
                    **template.case,
                    "id": case_id,
                    "code": f"BENCH-{case_id:08d}",
                    "applicant_name": f"Người nộp {case_id}",
                    "search_key": dossier_search_key(
                        f"BENCH-{case_id:08d}",
                        f"Người nộp {case_id}",
                        (template.case.get("applicant") or {}).get("id_number"),
                    ),
                    "submitted_at": submitted,
                    "receipt_due_at": submitted + timedelta(hours=rng.uniform(4, 40))
                    if template.case["channel"] == 2
                    else None,
                    "received_at": received,
                    "due_at": due,
                    "completed": False,
                    "secret_hash": None,
                    "last_seq": 0,
                    "last_hash": "",
                    "version": 1,
                    "facts_seq": 0,
                }
            )
            ready = received or submitted
            for n, item in enumerate(template.items):
                items.append(
                    {
                        **item,
                        "case_id": case_id,
                        "task_id": f"bench-{case_id}-{n}",
                        "assignee": mine if mine is not None and case_id % MINE_EVERY == 0 else None,
                        "ready_at": ready,
                        "due_at": ready + timedelta(hours=rng.uniform(2, 48)),
                        "cancelled": False,
                    }
                )
        with db.unit_of_work() as session:
            session.execute(insert(Case), cases)
            session.execute(insert(WorkItem), items)
        made += size
    advance_case_ids(db)
    with db.unit_of_work() as session:
        # The report facts read model after the bulk copy (engine.facts_store): the copies have no
        # history (no events, last_seq 0) and so no facts; the walked templates have theirs.
        facts_store.rebuild(session)
    return made


def advance_case_ids(db: Database) -> None:
    """After rows with explicit ids, move PostgreSQL's ``cases`` id sequence past the largest id.

    SQLite picks max(rowid) + 1 by itself; PostgreSQL's serial would hand out ids already taken.
    """
    if db.engine.dialect.name != "postgresql":
        return
    with db.unit_of_work() as session:
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                "(SELECT coalesce(max(id), 1) FROM cases), (SELECT count(*) > 0 FROM cases))"
            )
        )
