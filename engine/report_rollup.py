"""The periodic report's rollup: its figures by local day and group, so a report costs the same
for 10k or 1M dossiers.

Why: counting each dossier of a quarter in Python (``reports.count_dossier``) costs ~160 µs a
dossier, 20 s for 100k. Every window is whole local days, so each dossier's contribution to every
window can be written once, as rows by day (``reports.rollup_contributions``, read off
``count_dossier`` itself), and a report sums a window's rows in SQL: rows per day and group, not
per dossier. Each field's daily rows are also summed by month (``MONTHLY``), so a range reads its
whole months from one row each and only its partial months by day: a quarter, or "carried over"
(a sum from the beginning of time), reads a few hundred rows a group whatever the history's length.

Kept in step with the facts read model (engine.facts_store): when a dossier's facts are stored,
the contributions of its previous facts are subtracted and those of the new ones added, in the
same transaction (``apply``). Both are computed by the same function from the facts, so the rows
stay the sum over the dossiers' current facts. Dossiers the rollup cannot hold exactly
(``reports.rollup_regular``) are listed in ``report_irregular`` and counted per report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Integer as SqlInteger
from sqlalchemy import Table, cast, delete, func, literal, select, union_all
from sqlalchemy.orm import Session

from . import reports
from .db import dialect_insert
from .models import DossierFactsRow, ReportGroupRow, ReportIrregularRow, ReportRollupRow
from .reports import Counts, DossierFacts

#: A field's monthly rows (day = the month's first day) hold the sum of its daily rows that month.
MONTHLY = ":m"
#: Before any dossier (the start of the prefix sums; a month's first day).
_BEGINNING = date(1, 1, 1).toordinal()
#: (procedure id, procedure name, handling unit): the report's lines.
Group = tuple[str, str, str]

assert set(Counts.__dataclass_fields__) == set(
    reports.ADDITIVE_FIELDS + reports.ONCE_FIELDS + reports.AT_START_FIELDS + reports.AT_END_FIELDS
), "every figure of the periodic report has its place in the rollup"


def group_of(f: DossierFacts) -> Group:
    """The report lines a dossier counts in (reports.periodic_report groups the same way)."""
    return f.procedure_id, f.procedure_name, f.unit or reports.DESK_UNIT


# ------------------------------------------------------------------------------------ write side


def apply(
    session: Session,
    before: Iterable[tuple[int, DossierFacts | None]],
    after: Iterable[tuple[int, DossierFacts | None]],
) -> None:
    """Replace the contributions of dossiers' previous facts (``before``, None = none stored) by
    those of their new facts (``after``, None = no facts any more): one delta per row."""
    delta: dict[tuple[Group, str, int, int], int] = defaultdict(int)
    drop: list[int] = []
    add: list[int] = []
    for sign, pairs in ((-1, before), (1, after)):
        for case_id, f in pairs:
            if f is None:
                continue
            if not reports.rollup_regular(f):
                (drop if sign < 0 else add).append(case_id)
                continue
            group = group_of(f)
            for (name, day, prev), n in reports.rollup_contributions(f).items():
                delta[(group, name, day, prev)] += sign * n
                if name not in reports.ONCE_FIELDS:  # the month's total too (see window_counts)
                    delta[(group, name + MONTHLY, _month(day), 0)] += sign * n
    if drop:
        session.execute(delete(ReportIrregularRow).where(ReportIrregularRow.case_id.in_(drop)))
    if add:
        insert = dialect_insert(session, ReportIrregularRow).on_conflict_do_nothing()
        session.execute(insert, [{"case_id": c} for c in add])
    changes = {key: n for key, n in delta.items() if n}
    if not changes:
        return
    ids = _group_ids(session, {key[0] for key in changes})
    upsert = dialect_insert(session, ReportRollupRow)
    table: Table = ReportRollupRow.__table__  # type: ignore[assignment]
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["field", "day", "prev", "group_id"], set_={"n": table.c.n + upsert.excluded.n}
        ),
        [
            {"field": name, "day": day, "prev": prev, "group_id": ids[group], "n": n}
            for (group, name, day, prev), n in sorted(changes.items(), key=lambda kv: kv[0][1:])
        ],
    )


def _month(day: int) -> int:
    """The first day of a day's month (ordinals)."""
    return date.fromordinal(day).replace(day=1).toordinal()


def _next_month(day: int) -> int:
    first = date.fromordinal(_month(day))
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    ).toordinal()


def _group_ids(session: Session, groups: set[Group]) -> dict[Group, int]:
    """The ids of these groups, created when new (groups are few: procedures × units)."""
    t = ReportGroupRow
    rows = session.execute(select(t.id, t.procedure_id, t.procedure_name, t.unit))
    ids = {(r.procedure_id, r.procedure_name, r.unit): r.id for r in rows}
    missing = sorted(groups - ids.keys())
    if missing:
        session.execute(
            dialect_insert(session, t).on_conflict_do_nothing(),
            [{"procedure_id": p, "procedure_name": n, "unit": u} for p, n, u in missing],
        )
        return _group_ids(session, groups)
    return ids


def rebuild(session: Session) -> None:
    """Recompute the whole rollup from the cached facts (migration 0015's backfill)."""
    session.execute(delete(ReportRollupRow))
    session.execute(delete(ReportIrregularRow))
    after = 0
    while True:
        rows = list(
            session.execute(
                select(DossierFactsRow.case_id, DossierFactsRow.facts)
                .where(DossierFactsRow.case_id > after)
                .order_by(DossierFactsRow.case_id)
                .limit(2000)
            )
        )
        if not rows:
            return
        from .facts_store import facts_from_json  # facts_store writes through this module

        apply(session, (), [(r.case_id, facts_from_json(r.facts)) for r in rows])
        after = rows[-1].case_id


# ------------------------------------------------------------------------------------ read side


def window_counts(session: Session, first: date, last: date) -> dict[Group, Counts]:
    """Each group's figures for the window [first, last] (whole local days), from the rollup:
    four range sums, whatever the number of dossiers."""
    s, e = reports.rollup_window(first, last)
    t = ReportRollupRow

    def summed(fields: Sequence[str], *where: Any) -> Any:
        return (
            select(t.group_id, t.field, cast(func.sum(t.n), SqlInteger).label("n"))
            .where(t.field.in_(fields), *where)
            .group_by(t.group_id, t.field)
        )

    def days(fields: Sequence[str], low: int, high: int) -> list[Any]:
        """The sum over day in [low, high): whole months from the monthly rows, the rest by day,
        so a range reads at most ~62 days and one row a month per group and field."""
        first = _month(low) if _month(low) == low else _next_month(low)
        last = _month(high)
        if first >= last:
            return [summed(fields, t.day >= low, t.day < high)]
        return [
            summed(fields, t.day >= low, t.day < first),
            summed([name + MONTHLY for name in fields], t.day >= first, t.day < last),
            summed(fields, t.day >= last, t.day < high),
        ]

    query = union_all(
        *days(reports.ADDITIVE_FIELDS, s, e),
        summed(reports.ONCE_FIELDS, t.day >= s, t.day < e, t.prev < literal(s)),
        *days(reports.AT_START_FIELDS, _BEGINNING, s + 1),
        *days(reports.AT_END_FIELDS, _BEGINNING, e + 1),
    )
    groups = {
        r.id: (r.procedure_id, r.procedure_name, r.unit)
        for r in session.execute(
            select(
                ReportGroupRow.id,
                ReportGroupRow.procedure_id,
                ReportGroupRow.procedure_name,
                ReportGroupRow.unit,
            )
        )
    }
    counts: dict[Group, Counts] = {}
    for row in session.execute(query):
        if row.n:
            c = counts.setdefault(groups[row.group_id], Counts())
            name = row.field.removesuffix(MONTHLY)
            setattr(c, name, getattr(c, name) + int(row.n))
    return counts


def irregular_facts(session: Session) -> list[DossierFacts]:
    """The facts of the dossiers counted per report (reports.rollup_regular): usually none."""
    from .facts_store import facts_from_json

    # Their ids first (a join let SQLite scan dossier_facts and probe this small table per row).
    ids = list(session.scalars(select(ReportIrregularRow.case_id)))
    if not ids:
        return []
    query = (
        select(DossierFactsRow.facts)
        .where(DossierFactsRow.case_id.in_(ids))
        .order_by(DossierFactsRow.case_id)
    )
    return [facts_from_json(value) for value in session.scalars(query)]


def periodic_report(session: Session, first: date, last: date, label: str) -> reports.PeriodicReport | None:
    """The periodic report of [first, last] from the rollup, equal to ``reports.periodic_report``
    over every dossier's facts; None when a procedure appears under two names in the window (the
    report names it after its latest dossier, which sums cannot tell: the caller counts instead)."""
    start, end = reports.local_bounds(first, last)
    lines = list(window_counts(session, first, last).items())
    for f in irregular_facts(session):
        c = reports.count_dossier(f, start, end)
        if c != Counts():
            lines.append((group_of(f), c))
    names: dict[str, str] = {}
    by_procedure: dict[str, Counts] = {}
    by_unit: dict[str, Counts] = {}
    total = Counts()
    for (procedure_id, procedure_name, unit), c in sorted(lines, key=lambda line: line[0]):
        if c == Counts():
            continue
        name = procedure_name or procedure_id
        if names.setdefault(procedure_id, name) != name:
            return None
        by_procedure.setdefault(procedure_id, Counts()).add(c)
        by_unit.setdefault(unit, Counts()).add(c)
        total.add(c)
    return reports.PeriodicReport(first, last, label, by_procedure, by_unit, total, names)
