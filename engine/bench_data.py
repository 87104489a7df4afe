"""Synthetic open dossiers for the tasklist benchmark (100k cases in seconds, straight SQL inserts).

The rows imitate what the runtime leaves behind — a case in processing with one open work item —
without running workflows, because the benchmark measures the read side, not case creation.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select

from .db import Database
from .models import Case, ProcedureVersion, WorkItem

ROLE_MIX: tuple[tuple[str, float], ...] = (
    ("specialist", 0.4),
    ("head_of_department", 0.2),
    ("desk_clerk", 0.2),
    ("director", 0.1),
    ("other_department", 0.1),
)


def seed_open_cases(db: Database, n_cases: int, now: datetime, seed: int = 766, chunk: int = 5000) -> int:
    """Insert ``n_cases`` open dossiers (status 4) with one open work item each; returns how many."""
    rng = random.Random(seed)
    roles = [r for r, _ in ROLE_MIX]
    weights = [w for _, w in ROLE_MIX]
    with db.unit_of_work() as session:
        versions = list(session.execute(select(ProcedureVersion.id, ProcedureVersion.procedure_id)))
        if not versions:
            raise RuntimeError("deploy the procedure library before seeding benchmark cases")
        first_id = int(session.scalar(select(func.coalesce(func.max(Case.id), 0))) or 0) + 1
    made = 0
    while made < n_cases:
        size = min(chunk, n_cases - made)
        cases, items = [], []
        for offset in range(size):
            case_id = first_id + made + offset
            version_id, procedure_id = versions[case_id % len(versions)]
            received = now - timedelta(hours=rng.uniform(1, 240))
            due = now + timedelta(hours=rng.uniform(-48, 240))
            cases.append(
                {
                    "id": case_id,
                    "code": f"BENCH-{case_id:07d}",
                    "procedure_id": procedure_id,
                    "procedure_version_id": version_id,
                    "applicant_name": f"Người nộp {case_id}",
                    "applicant": {"name": f"Người nộp {case_id}"},
                    "channel": 1 + case_id % 2,
                    "status": 4,
                    "submitted_at": received,
                    "received_at": received,
                    "due_at": due,
                    "completed": False,
                    "sla": {"supplements": 0, "apologies": 0, "flags": []},
                    "data": {},
                    "state": "",
                    "secret_hash": None,
                    "last_seq": 0,
                    "last_hash": "",
                    "version": 1,
                }
            )
            ready = received + timedelta(hours=rng.uniform(0, 4))
            items.append(
                {
                    "case_id": case_id,
                    "task_id": f"bench-{case_id}",
                    "element_id": "bench_step",
                    "name": "Bước xử lý",
                    "role": rng.choices(roles, weights)[0],
                    "lane": None,
                    "unit": None,
                    "assignee": None,
                    "allocated_hours": 8.0,
                    "ready_at": ready,
                    "due_at": ready + timedelta(hours=rng.uniform(2, 48)),
                    "cancelled": False,
                }
            )
        with db.unit_of_work() as session:
            session.execute(insert(Case), cases)
            session.execute(insert(WorkItem), items)
        made += size
    return made
