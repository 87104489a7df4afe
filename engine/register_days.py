"""The register's dossiers by local submission day (``register_days``), so a register page costs
the same for 10k or 1M dossiers.

Why: a register page reads its 100 rows by keyset, but its total (and the number of its first
row) counted the window's rows of ``dossier_facts``: 100k index entries for one busy day at 1M
dossiers. A register window is whole local days (``reports.local_bounds``), so the rows submitted
each day are kept as one count, and a page sums the window's days: one row a day, whatever the
number of dossiers. Only the day a page starts in is counted from the index, and only up to the
page's first row.

Kept in step with the facts read model (engine.facts_store): when dossiers' facts are stored,
each previous row's day loses one and each new row's day gains one, in the same transaction
(:func:`apply`), so the counts stay the number of rows of ``dossier_facts`` by day. Days are
local (Asia/Ho_Chi_Minh) and SQLite has no time zones, so days are computed here, in Python, by
``reports.local_day``: the rule the register's window is drawn by.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Integer as SqlInteger
from sqlalchemy import Table, cast, delete, func, select
from sqlalchemy.orm import Session

from . import reports
from .db import dialect_insert
from .models import DossierFactsRow, RegisterDayRow

#: Facts rows read per round by :func:`recount`.
CHUNK = 10_000
_TABLE: Table = RegisterDayRow.__table__  # type: ignore[assignment]


# ------------------------------------------------------------------------------------ write side


def apply(session: Session, removed: Iterable[datetime], added: Iterable[datetime]) -> None:
    """Trade the days of the facts rows replaced or deleted (``removed``: their submission times)
    for those of the rows stored (``added``): the net change of each day, in one upsert, days in
    order (so concurrent writers lock them in the same order)."""
    delta: dict[int, int] = defaultdict(int)
    for sign, moments in ((-1, removed), (1, added)):
        for moment in moments:
            delta[reports.local_day(moment)] += sign
    changes = sorted((day, n) for day, n in delta.items() if n)
    if not changes:
        return
    upsert = dialect_insert(session, RegisterDayRow)
    session.execute(
        upsert.on_conflict_do_update(index_elements=["day"], set_={"n": _TABLE.c.n + upsert.excluded.n}),
        [{"day": day, "n": n} for day, n in changes],
    )


def recount(session: Session) -> Counter[int]:
    """The rows of ``dossier_facts`` by local submission day, counted afresh (in rounds of
    :data:`CHUNK` rows, reading only their submission times)."""
    t = DossierFactsRow
    counts: Counter[int] = Counter()
    after: int | None = None
    while True:
        query = select(t.case_id, t.submitted_at).order_by(t.case_id).limit(CHUNK)
        if after is not None:
            query = query.where(t.case_id > after)
        rows = list(session.execute(query))
        if not rows:
            return counts
        counts.update(reports.local_day(r.submitted_at) for r in rows)
        after = rows[-1].case_id


def rebuild(session: Session) -> int:
    """Recount every day from the cached facts (migration 0017's backfill); returns the days."""
    counts = recount(session)
    session.execute(delete(RegisterDayRow))
    if counts:
        rows = [{"day": day, "n": n} for day, n in sorted(counts.items())]
        session.execute(dialect_insert(session, RegisterDayRow), rows)
    return len(counts)


def check(session: Session) -> list[str]:
    """Where the kept counts differ from a recount of the facts (none if sound). Days whose count
    fell to 0 may stay as rows of 0: they count as absent. Run in one transaction that no refresh
    commits into (``facts_store.serialise``), or a refresh between the two reads shows as a gap."""
    kept = {
        int(r.day): int(r.n)
        for r in session.execute(select(RegisterDayRow.day, RegisterDayRow.n).where(RegisterDayRow.n != 0))
    }
    counted = dict(recount(session))
    return [
        f"register day {date.fromordinal(day)}: kept {kept.get(day)} != recount {counted.get(day)}"
        for day in sorted(kept.keys() | counted.keys())
        if kept.get(day) != counted.get(day)
    ]


# ------------------------------------------------------------------------------------ read side


def count(session: Session, low: int, high: int) -> int:
    """The facts rows submitted on the local days [low, high) (ordinals): one row a day summed."""
    if low >= high:
        return 0
    t = RegisterDayRow
    total = session.scalar(
        select(cast(func.coalesce(func.sum(t.n), 0), SqlInteger)).where(t.day >= low, t.day < high)
    )
    return int(total or 0)
