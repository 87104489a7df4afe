"""Report facts for the seeded copies, so the report pages measure a realistic load.

The copies :mod:`bench.seed` makes have no history (no events), so the facts read model has nothing
for them and a periodic report would only count the few walked templates. Here each copy gets the
facts of a walked template of the same procedure (and channel and status when one exists), moved
to the copy's own dates (submitted, received, appointment, finished), and is written through
``engine.facts_store.put``: the same write the engine makes, so the report rollup is maintained as
in production. A bench-only shortcut: the engine itself only ever derives facts from a history.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine import facts_store
from engine.db import Database
from engine.models import Case, DossierFactsRow
from engine.reports import DossierFacts

CHUNK = 5_000


def seed_report_facts(db: Database) -> int:
    """Give every dossier without facts and without history its template's facts; returns how many."""
    with db.read() as session:
        known = {
            (f.procedure_id, f.channel, f.status): f
            for f in map(facts_store.facts_from_json, session.scalars(select(DossierFactsRow.facts)))
        }
    by_procedure = {key[0]: f for key, f in known.items()}
    made, after = 0, 0
    while True:
        with db.unit_of_work() as session:
            rows = list(
                session.execute(
                    select(
                        Case.id,
                        Case.code,
                        Case.procedure_id,
                        Case.channel,
                        Case.status,
                        Case.submitted_at,
                        Case.received_at,
                        Case.due_at,
                        Case.finished_at,
                    )
                    .outerjoin(DossierFactsRow, DossierFactsRow.case_id == Case.id)
                    .where(Case.id > after, Case.last_seq == 0, DossierFactsRow.case_id.is_(None))
                    .order_by(Case.id)
                    .limit(CHUNK)
                )
            )
            if not rows:
                return made
            facts: dict[int, DossierFacts | None] = {}
            for r in rows:
                key = (r.procedure_id, r.channel, r.status)
                template = known.get(key) or by_procedure.get(r.procedure_id)
                if template is not None:
                    facts[r.id] = _moved(template, r)
            facts_store.put(session, facts)
            made += len(facts)
            after = rows[-1].id


def _moved(f: DossierFacts, row: Any) -> DossierFacts:
    received: datetime | None = row.received_at
    due: datetime | None = row.due_at
    return replace(
        f,
        code=str(row.code),
        channel=int(row.channel),
        status=int(row.status),
        submitted_at=row.submitted_at,
        received_at=received,
        original_due_at=due,
        due_at=due,
        due_history=((received, due),) if received is not None and due is not None else (),
        handed_over_at=received if f.handed_over_at is not None else None,
        finished_at=row.finished_at,
        outcome=f.outcome if row.finished_at is not None else None,
        returned_at=None,
        refused_at=None,
        stopped_at=None,
        withdrawal_requested_at=None,
        supplements=(),
        payment_waits=(),
        receipt_supplements=(),
        apologies=(),
        mistake_apologies=(),
        receipt_decided_at=received,
    )
