"""The report facts read model (``dossier_facts``): each dossier's ``reports.DossierFacts``, cached.

Why a cache and not a second rule: the facts are computed by the same function as ever
(``audit_store.facts_of`` → ``reports.dossier_facts``), only not per request. The register (Mẫu 06)
and the periodic report read a window's rows here and run the same pure report functions over them,
so their figures are those over the histories by construction.

Why stale-marking and a lazy refresh instead of recomputing in the write transaction: folding a
dossier's facts reads its whole history and five side tables (several statements per operation),
while the lifecycle must stay as lean as a naive loop. Every event already raises ``cases.last_seq``
in the case-row UPDATE the operation makes anyway; ``cases.facts_seq`` records the position the
facts were computed at, so ``facts_seq < last_seq`` is the set of stale dossiers,
and the write path pays no statement for it (``last_seq - facts_seq > 0`` is
an indexed expression, so finding them reads only them). The few changes outside the history (a rating, a
complaint, portal sync delivery, a user's unit) lower ``facts_seq`` with one UPDATE
(:func:`mark_stale`). A report first refreshes the stale dossiers (only those changed since the
last refresh), in one write transaction, then reads.

Two sums over the facts are kept in the same transaction as the facts they sum (see :func:`put`):
the periodic report's rollup (engine.report_rollup) and the register's rows by local submission
day (engine.register_days).

A refresh clears a mark only if neither number moved since it read them, so a change committed
meanwhile stays marked; refreshers are serialised (SQLite has one writer; PostgreSQL takes an
advisory lock) so an older computation never overwrites a newer one.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Union, cast, get_args, get_origin, get_type_hints

from sqlalchemy import Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from . import locks, register_days, report_rollup, reports
from .audit_store import facts_of
from .db import dialect_insert
from .models import Case, CaseEvent, DossierFactsRow
from .reports import DossierFacts

#: Dossiers refreshed per round (one round reads their histories with a few IN-list queries).
CHUNK = 500
# Core UPDATEs of the table: the ORM's optimistic version column of the case is not touched.
_CASES: Table = cast(Table, Case.__table__)


# ------------------------------------------------------------------------------------ (de)serialising


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decoder(hint: Any) -> Callable[[Any], Any]:
    """A JSON value back into the field's type (moments, optional moments, tuples of either)."""
    if hint is datetime:
        return datetime.fromisoformat
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        inner = _decoder(next(a for a in args if a is not type(None)))
        return lambda v: None if v is None else inner(v)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _decoder(args[0])
            return lambda v: tuple(item(x) for x in v)
        parts = [_decoder(a) for a in args]
        return lambda v: tuple(d(x) for d, x in zip(parts, v, strict=True))
    return lambda v: v


_HINTS = get_type_hints(DossierFacts)
_DECODERS = {f.name: _decoder(_HINTS[f.name]) for f in fields(DossierFacts)}


def facts_to_json(f: DossierFacts) -> dict[str, Any]:
    """Every field of the facts, JSON-ready (moments as ISO text with their offset)."""
    return {name: _encode(getattr(f, name)) for name in _DECODERS}


def facts_from_json(value: dict[str, Any]) -> DossierFacts:
    """The facts :func:`facts_to_json` stored (equal to the original)."""
    return DossierFacts(**{name: _DECODERS[name](v) for name, v in value.items() if name in _DECODERS})


# ------------------------------------------------------------------------------------ write side


def mark_stale(session: Session, case_ids: int | Any) -> None:
    """A change outside the history (rating, complaint, portal sync, a user's unit) makes these
    dossiers' facts stale: one UPDATE; ``case_ids`` is one id or a select of ids."""
    where = _CASES.c.id == case_ids if isinstance(case_ids, int) else _CASES.c.id.in_(case_ids)
    session.execute(update(_CASES).where(where).values(facts_seq=_CASES.c.facts_seq - 1))


def completed_by(username: str) -> Any:
    """The dossiers a user completed a step of (their unit is the dossiers' handling unit)."""
    return select(CaseEvent.case_id).where(CaseEvent.actor == username, CaseEvent.kind == "task_completed")


_STALE = Case.last_seq - Case.facts_seq > 0  # spelt as ix_cases_facts_stale's expression


def has_stale(session: Session) -> bool:
    """Whether any dossier's facts are stale (one index probe)."""
    return session.scalar(select(Case.id).where(_STALE).limit(1)) is not None


def serialise(session: Session, wait: bool = True) -> bool:
    """Keep other refreshes out until this transaction ends, waiting for one under way (``wait``)
    or giving up at once (False returned) when one holds the lock (PostgreSQL; SQLite has one
    writer, and a reader's transaction sees one snapshot anyway)."""
    return locks.hold(session, locks.Chore.FACTS_REFRESH, wait)


def refresh(session: Session, sums: bool = True, limit: int | None = None, wait: bool = True) -> int:
    """Recompute the stale dossiers' facts (in rounds of :data:`CHUNK`, at most ``limit`` of them
    when given); returns how many.

    ``sums`` False leaves both sums over the facts alone, the report rollup and the register's
    days (migration 0013 runs before their tables exist; their own migrations backfill them).
    ``wait`` False returns 0 at once when another refresh is under way (the worker's idle pass:
    that refresh does the work, and the worker goes back to its timers instead of queueing)."""
    if not serialise(session, wait):
        return 0
    done, after = 0, 0
    while limit is None or done < limit:
        rows = list(
            session.execute(
                select(Case.id, Case.code, Case.procedure_version_id, Case.last_seq, Case.facts_seq)
                .where(_STALE, Case.id > after)
                .order_by(Case.id)
                .limit(CHUNK if limit is None else min(CHUNK, limit - done))
            )
        )
        if not rows:
            break
        store(session, rows, sums)
        done += len(rows)
        after = rows[-1].id
    return done


def rebuild(session: Session, sums: bool = True) -> int:
    """Backfill: mark every dossier with a history stale (one set-based UPDATE) and recompute all.

    Used by migration 0013, and by the bench after its bulk copy. Dossiers without a history
    (``last_seq`` 0) have no facts and are left alone."""
    session.execute(update(_CASES).where(_CASES.c.last_seq > 0).values(facts_seq=_CASES.c.last_seq - 1))
    return refresh(session, sums)


def store(session: Session, rows: Sequence[Any], sums: bool = True) -> None:
    """Recompute and store the facts of these cases (rows with id, code, version id, last_seq and
    facts_seq as read), and clear each mark that did not move since it was read. The sums over
    the facts follow in the same transaction (see :func:`put`)."""
    found = {f.code: f for f in facts_of(session, rows)}
    put(session, {r.id: found.get(r.code) for r in rows}, sums)
    session.execute(
        update(_CASES)
        .where(
            _CASES.c.id == bindparam("b_id"),
            _CASES.c.last_seq == bindparam("b_last"),
            _CASES.c.facts_seq == bindparam("b_facts"),
        )
        .values(facts_seq=bindparam("b_last")),
        [{"b_id": r.id, "b_last": r.last_seq, "b_facts": r.facts_seq} for r in rows],
    )


def put(session: Session, facts: Mapping[int, DossierFacts | None], sums: bool = True) -> None:
    """Store these dossiers' facts (None = the dossier has none: its row goes). With ``sums``,
    the sums over the facts trade each dossier's previous row for its new one in the same
    transaction: the report rollup its contributions, the register's days its submission day."""
    t = DossierFactsRow
    if sums:
        previous = list(
            session.execute(select(t.case_id, t.submitted_at, t.facts).where(t.case_id.in_(list(facts))))
        )
        report_rollup.apply(
            session, [(p.case_id, facts_from_json(p.facts)) for p in previous], list(facts.items())
        )
        register_days.apply(
            session,
            [p.submitted_at for p in previous],
            [f.submitted_at for f in facts.values() if f is not None],
        )
    gone = [case_id for case_id, f in facts.items() if f is None]
    values = [_row(case_id, f) for case_id, f in facts.items() if f is not None]
    if gone:
        session.execute(delete(t).where(t.case_id.in_(gone)))
    if values:
        insert = dialect_insert(session, t)
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["case_id"],
                set_={c: insert.excluded[c] for c in values[0] if c != "case_id"},
            ),
            values,
        )


def _row(case_id: int, f: DossierFacts) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "code": f.code,
        "submitted_at": f.submitted_at,
        "received_at": f.received_at,
        "ended_at": f.ended_at,
        "latest_at": reports.latest_moment(f),
        "facts": facts_to_json(f),
    }


# ------------------------------------------------------------------------------------ read side


def _decoded(rows: Iterable[Any]) -> list[DossierFacts]:
    return [facts_from_json(value) for value in rows]


def window_facts(session: Session, start: datetime, end: datetime) -> list[DossierFacts]:
    """The dossiers that can count in a periodic report's window [start, end) (a superset that
    ``reports.count_dossier`` filters exactly; see ``reports.latest_moment``): a moment in the
    window, or received before its end and not ended. Dossiers that ended before the window, and
    those submitted after it, are not read."""
    t = DossierFactsRow
    # Two index ranges; their ids are united (PostgreSQL's json has no equality for a UNION of rows).
    moved = select(t.case_id).where(t.latest_at >= start, t.submitted_at < end)
    open_ = select(t.case_id).where(t.ended_at.is_(None), t.received_at < end)
    query = select(t.facts).where(t.case_id.in_(moved.union(open_))).order_by(t.case_id)
    return _decoded(session.scalars(query))


@dataclass(frozen=True)
class RegisterPage:
    """A page of the register: its facts in register order, the STT of its first row, the total
    in the window and the cursor of the next page (None on the last)."""

    facts: list[DossierFacts]
    first_number: int
    total: int
    next_after: tuple[datetime, str] | None


def register_facts(session: Session, start: datetime, end: datetime) -> list[DossierFacts]:
    """Every dossier submitted in [start, end), in register order (the exports)."""
    t = DossierFactsRow
    query = (
        select(t.facts).where(t.submitted_at >= start, t.submitted_at < end).order_by(t.submitted_at, t.code)
    )
    return _decoded(session.scalars(query))


def register_page(
    session: Session, first: date, last: date, after: tuple[datetime, str] | None, size: int
) -> RegisterPage:
    """One page of the register of the local days [first, last] after the keyset cursor ``after``
    (submission time, code): the rows read are the page's; the total sums the window's days
    (engine.register_days), and the rows before the cursor are the whole days before its day
    plus its own day's rows up to it (one day's index range)."""
    t = DossierFactsRow
    start, end = reports.local_bounds(first, last)
    low, high = reports.rollup_window(first, last)
    window = and_(t.submitted_at >= start, t.submitted_at < end)
    total = register_days.count(session, low, high)
    query = select(t.facts).where(window)
    before = 0
    if after is not None:
        moment, code = after
        later = or_(t.submitted_at > moment, and_(t.submitted_at == moment, t.code > code))
        query = query.where(later)
        before = _rows_up_to(session, moment, code, start, end, low, total)
    facts = _decoded(session.scalars(query.order_by(t.submitted_at, t.code).limit(size + 1)))
    more = len(facts) > size
    facts = facts[:size]
    cursor = reports.register_order(facts[-1]) if more and facts else None
    return RegisterPage(facts, before + 1, total, cursor)


def _rows_up_to(
    session: Session, moment: datetime, code: str, start: datetime, end: datetime, low: int, total: int
) -> int:
    """The rows of the window [start, end) (its first day ``low``, ``total`` rows) up to the
    cursor (moment, code) included: those of the whole days before the cursor's day, summed,
    and those of its day up to it, counted."""
    if moment < start:  # a cursor before the window (any cursor: it comes from the address)
        return 0
    if moment >= end:
        return total
    day = reports.local_day(moment)
    midnight = reports.local_bounds(date.fromordinal(day), date.fromordinal(day))[0]
    t = DossierFactsRow
    # The range [midnight, moment] bounds the index walk; the OR only trims the cursor's moment.
    up_to = or_(t.submitted_at < moment, and_(t.submitted_at == moment, t.code <= code))
    own = session.scalar(
        select(func.count()).select_from(t).where(t.submitted_at >= midnight, t.submitted_at <= moment, up_to)
    )
    return register_days.count(session, low, day) + int(own or 0)
