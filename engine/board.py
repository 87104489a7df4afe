"""The SLA board's read model: counts kept as deltas, written with the case row.

Why: counting open dossiers per procedure, status group and unit, and colouring every running one,
costs time proportional to the open dossiers (820 ms at 100k). Here each dossier carries its board
inputs on its row (``board_group``, ``board_lanes``, ``amber_at``, derived in the same write as the
state) and every change of them appends +1/-1 rows to ``board_counts`` in the same transaction, so
the board sums a table whose size depends on procedures, units and hours, not on dossiers.

Time: whether a dossier is late (``due_at < now``) or amber (``amber_at <= now``) depends on now, so
those counts are kept per *hour* of the moment (``bucket``): the board sums the hours before the
current one and counts the dossiers of the current hour itself through an index range (a few). A
dossier's amber moment is the exact moment :func:`engine.sla.colour` turns amber, so the colours
agree with a dossier-by-dossier colouring with any clock, a fixed one included, with no worker run.

Contention: rows are only ever inserted by the write path (PostgreSQL writers never wait on a
counter row, none is lost); :func:`compact` folds them (past hours into one ``EPOCH`` row per key)
in one statement per database, run by the worker once an hour. :func:`rebuild` recomputes it all
from the cases and their open steps (migrations 0012 and 0016, ``init-db`` when the settings it
was built with changed, ``audit board --repair``, the bench's bulk seeding), and :func:`recount`
is the reference the tests and :func:`check` compare with.

The same deltas keep how many open dossiers each status holds (kind ``STATUS``), so the desk
queue's section totals are sums of a few rows too.

The amber moment depends on the amber threshold and the working calendar: a calendar change
recomputes it for the dossiers whose clock spans the day (:func:`recompute_amber`); a new threshold or
new desk hours take effect at the next ``init-db``, which rebuilds when :func:`fingerprint` of
them differs from the last build's.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from . import locks, sla
from .domain.vocab import TERMINAL
from .models import Base, BoardCount, Case, ReadModelBuild, WorkItem

# Board groups (cases.board_group; None = not on the board).
RUNNING = 1  # received, the statutory clock runs: green, amber or red
DESK = 2  # awaiting receipt (status 1): the 8-working-hour receipt rule
PAUSED = 3  # waiting for the citizen's supplementation (status 5)
PAYING = 4  # waiting for a fee (status 6) with the clock paused (or never started)
IDLE = 5  # open, not received and not at the desk: counted on track

# Kinds of count rows.
OPEN = 0  # one per dossier on the board
DUE = 1  # running: bucket = hour of due_at
AMBER = 2  # running: bucket = hour of amber_at
RECEIPT = 3  # at the desk with a receipt deadline: bucket = its hour
#: An open (not completed) dossier in a status, whatever its board group: ``board_group`` holds the
#: status, lanes "" and bucket EPOCH. The desk queue's section totals (dossiers awaiting receipt,
#: awaiting return) read these instead of counting 85k index entries at 1M dossiers.
STATUS = 4
#: The fold mark: one row (bucket EPOCH) whose ``n`` is the hour (since EPOCH) before which hours
#: were folded. A board asked about an earlier moment (a clock set back, in tests) cannot split
#: the folded rows, so it recounts from the dossiers instead.
FOLDED = -1

#: The bucket of totals and of folded past hours; also the amber moment of a dossier amber from the start.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LANE_SEPARATOR = "\x1f"
_HOUR = timedelta(hours=1)
_TERMINAL = frozenset(int(s) for s in TERMINAL)

Key = tuple[str, int, str, int, datetime]
#: The case row's board columns (written with the row; engine.cases writes them in its batches too).
COLUMNS = ("board_group", "board_lanes", "amber_at")


def bucket(moment: datetime) -> datetime:
    """The UTC hour a moment falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def lanes_of(lanes: Iterable[str | None]) -> str:
    """The lanes (units) of a dossier's open steps, as stored in ``cases.board_lanes``."""
    return LANE_SEPARATOR.join(sorted({lane for lane in lanes if lane}))


def group_of(
    status: int,
    completed: bool,
    finished_at: datetime | None,
    received_at: datetime | None,
    due_at: datetime | None,
    fee_paused: bool,
) -> int | None:
    """Where the board counts a dossier (the one place the board's groups are defined).

    Open = not completed, not finished, not terminal, and either awaiting receipt or given an
    appointment. A dossier waiting for a fee with its clock paused is neither running nor a
    supplementation; where the procedure counts the fee wait, its clock runs and it is judged as usual.
    """
    if completed or finished_at is not None or status in _TERMINAL:
        return None
    if status == 1:
        return DESK
    if due_at is None:
        return None
    if status == 5:
        return PAUSED
    if received_at is not None and not (status == 6 and fee_paused):
        return RUNNING
    if status == 6:
        return PAYING
    return IDLE


def entries(
    procedure_id: str,
    group: int | None,
    lanes: str | None,
    due_at: datetime | None,
    amber_at: datetime | None,
    receipt_due_at: datetime | None,
) -> list[Key]:
    """The count rows one dossier contributes (lanes matter for running dossiers only)."""
    if group is None:
        return []
    lane_key = (lanes or "") if group == RUNNING else ""
    found: list[Key] = [(procedure_id, group, lane_key, OPEN, EPOCH)]
    if group == RUNNING:
        assert due_at is not None  # a running dossier has an appointment (group_of)
        found.append((procedure_id, group, lane_key, DUE, bucket(due_at)))
        found.append((procedure_id, group, lane_key, AMBER, bucket(amber_at or EPOCH)))
    elif group == DESK and receipt_due_at is not None:
        found.append((procedure_id, group, lane_key, RECEIPT, bucket(receipt_due_at)))
    return found


def status_entries(procedure_id: str, status: int, completed: bool) -> list[Key]:
    """The status count row one dossier contributes (none once completed)."""
    return [] if completed else [(procedure_id, status, "", STATUS, EPOCH)]


def stored_entries(case: Case) -> list[Key]:
    """The count rows of a stored case row (its board columns, status and completion)."""
    return [
        *entries(
            case.procedure_id,
            case.board_group,
            case.board_lanes,
            case.due_at,
            case.amber_at,
            case.receipt_due_at,
        ),
        *status_entries(case.procedure_id, case.status, case.completed),
    ]


def amber_moment(
    received_at: datetime | None, due_at: datetime | None, calendar: sla.BusinessCalendar, threshold: float
) -> datetime | None:
    """``cases.amber_at``: when the dossier turns amber (EPOCH: from the start); None without a clock."""
    if received_at is None or due_at is None:
        return None
    return sla.amber_from(received_at, due_at, calendar, threshold) or EPOCH


def derive(
    case: Case,
    lanes: str | None,
    fee_paused: bool,
    calendar: sla.BusinessCalendar,
    threshold: float,
    *,
    moved: bool,
) -> None:
    """Set a case row's board columns from its (new) columns; ``moved``: received_at or due_at
    changed, so the amber moment is computed again. Unchanged columns are not touched."""
    group = group_of(case.status, case.completed, case.finished_at, case.received_at, case.due_at, fee_paused)
    if case.board_group != group:
        case.board_group = group
    if case.board_lanes != lanes:
        case.board_lanes = lanes
    if moved or (case.amber_at is None and case.received_at is not None and case.due_at is not None):
        amber = amber_moment(case.received_at, case.due_at, calendar, threshold)
        if case.amber_at != amber:
            case.amber_at = amber


def deltas(before: Iterable[Key], after: Iterable[Key]) -> list[dict[str, Any]]:
    """The ``board_counts`` rows that move a dossier from ``before`` to ``after`` (none if equal)."""
    change: Counter[Key] = Counter(after)
    change.subtract(before)
    return [_row(key, n) for key, n in sorted(change.items()) if n]


def _row(key: Key, n: int) -> dict[str, Any]:
    procedure_id, group, lanes, kind, hour = key
    return {
        "procedure_id": procedure_id,
        "board_group": group,
        "lanes": lanes,
        "kind": kind,
        "bucket": hour,
        "n": n,
    }


def write(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append count deltas: one statement, none when nothing moved. Inline (no ids read back): the
    write path may run it inside a PostgreSQL pipeline, where a statement returns no rows."""
    if rows:
        session.execute(_INSERT_COUNTS, rows)


_INSERT_COUNTS = insert(Base.metadata.tables[BoardCount.__tablename__]).inline()


# ------------------------------------------------------------------------------------------ builds

#: Bumped when the rules above change what a rebuild writes (the migration that changes them
#: rebuilds too), so the next ``init-db`` rebuilds whatever its settings.
RULES = 2
_BUILD = "sla_board"


def fingerprint(threshold: float, *calendar: object) -> str:
    """What the read model depends on besides the dossiers: these rules, the amber threshold and
    the working calendar's definition (desk hours, weekend, built-in holidays and their source)."""
    text_form = repr((RULES, threshold, *calendar))
    return hashlib.sha256(text_form.encode()).hexdigest()


def needs_rebuild(session: Session, wanted: str) -> bool:
    """Whether the read model was built with other settings (or never recorded)."""
    built = session.scalar(select(ReadModelBuild.fingerprint).where(ReadModelBuild.name == _BUILD))
    return built != wanted


def record_build(session: Session, built: str, now: datetime) -> None:
    """Remember what the read model was just rebuilt with."""
    row = session.get(ReadModelBuild, _BUILD)
    if row is None:
        session.add(ReadModelBuild(name=_BUILD, fingerprint=built, built_at=now))
    else:
        row.fingerprint, row.built_at = built, now


# ------------------------------------------------------------------------------------------ reading


@dataclass
class Tally:
    """What the board needs of one (procedure, group, lanes): how many, how many past their
    deadline, how many past their amber moment, how many past their receipt deadline."""

    total: int = 0
    late: int = 0
    amber: int = 0
    receipt_late: int = 0


def tallies(session: Session, now: datetime) -> dict[tuple[str, int, str], Tally]:
    """The board's counts at ``now``: the sums of the hours before the current one, plus the
    dossiers whose moment falls in the current hour up to now (index ranges over a few rows)."""
    hour = bucket(now)
    found: dict[tuple[str, int, str], Tally] = {}
    # The fold mark (the newest, should two compactions have raced), by its key in the index.
    folded_before = session.scalar(
        select(func.max(BoardCount.n)).where(
            BoardCount.bucket == EPOCH,
            BoardCount.procedure_id == "",
            BoardCount.board_group == 0,
            BoardCount.lanes == "",
            BoardCount.kind == FOLDED,
        )
    )
    if folded_before is not None and folded_before > _hours(hour):
        return recount(session, now)

    def tally(procedure_id: str, group: int, lanes: str) -> Tally:
        return found.setdefault((procedure_id, group, lanes), Tally())

    for procedure_id, group, lanes, kind, n in session.execute(
        select(
            BoardCount.procedure_id,
            BoardCount.board_group,
            BoardCount.lanes,
            BoardCount.kind,
            func.sum(BoardCount.n),
        )
        .where(BoardCount.bucket < hour, BoardCount.kind != STATUS)
        .group_by(BoardCount.procedure_id, BoardCount.board_group, BoardCount.lanes, BoardCount.kind)
    ):
        n = int(n or 0)
        if kind in (FOLDED, STATUS):
            continue
        entry = tally(procedure_id, group, lanes)
        if kind == OPEN:
            entry.total += n
        elif kind == DUE:
            entry.late += n
        elif kind == AMBER:
            entry.amber += n
        else:
            entry.receipt_late += n
    running = Case.board_group == RUNNING
    for column, attribute, upto in (
        (Case.due_at, "late", Case.due_at < now),
        (Case.amber_at, "amber", Case.amber_at <= now),
    ):
        for procedure_id, case_lanes, n in session.execute(
            select(Case.procedure_id, Case.board_lanes, func.count())
            .where(running, column >= hour, upto)
            .group_by(Case.procedure_id, Case.board_lanes)
        ):
            entry = tally(procedure_id, RUNNING, case_lanes or "")
            setattr(entry, attribute, getattr(entry, attribute) + int(n))
    for procedure_id, n in session.execute(
        select(Case.procedure_id, func.count())
        # by (status, receipt_due_at): the desk's own index, the current hour only
        .where(
            Case.status == 1, Case.receipt_due_at >= hour, Case.receipt_due_at < now, Case.board_group == DESK
        )
        .group_by(Case.procedure_id)
    ):
        tally(procedure_id, DESK, "").receipt_late += int(n)
    return {key: t for key, t in found.items() if t.total or t.late or t.amber or t.receipt_late}


def recount(session: Session, now: datetime) -> dict[tuple[str, int, str], Tally]:
    """:func:`tallies` counted from the case rows alone (every open one): the reference."""
    found: dict[tuple[str, int, str], Tally] = {}
    for row in session.execute(
        select(
            Case.procedure_id,
            Case.board_group,
            Case.board_lanes,
            Case.due_at,
            Case.amber_at,
            Case.receipt_due_at,
        ).where(Case.board_group.is_not(None))
    ):
        lanes = (row.board_lanes or "") if row.board_group == RUNNING else ""
        entry = found.setdefault((row.procedure_id, row.board_group, lanes), Tally())
        entry.total += 1
        if row.board_group == RUNNING:
            entry.late += int(row.due_at < now)
            entry.amber += int((row.amber_at or EPOCH) <= now)
        elif row.board_group == DESK and row.receipt_due_at is not None:
            entry.receipt_late += int(row.receipt_due_at < now)
    return found


def open_in_status(session: Session, status: int) -> int:
    """How many open (not completed) dossiers are in ``status``: a sum of its count rows (a few
    per procedure), whatever the number of dossiers. Statuses do not depend on the time, so no
    fold can hide any of them."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(BoardCount.n), 0)).where(
                BoardCount.kind == STATUS, BoardCount.board_group == status
            )
        )
        or 0
    )


def status_totals(session: Session) -> dict[tuple[str, int], int]:
    """The kept open dossiers per (procedure, status) (zeros left out)."""
    found = session.execute(
        select(BoardCount.procedure_id, BoardCount.board_group, func.sum(BoardCount.n))
        .where(BoardCount.kind == STATUS)
        .group_by(BoardCount.procedure_id, BoardCount.board_group)
    )
    return {(p, s): int(n) for p, s, n in found if n}


def status_recount(session: Session) -> dict[tuple[str, int], int]:
    """:func:`status_totals` counted from the case rows: the reference."""
    found = session.execute(
        select(Case.procedure_id, Case.status, func.count())
        .where(Case.completed.is_(False))
        .group_by(Case.procedure_id, Case.status)
    )
    return {(p, s): int(n) for p, s, n in found}


@dataclass(frozen=True)
class Derived:
    """A case's board columns as they should be, from its row and its open steps."""

    board_group: int | None
    board_lanes: str | None
    amber_at: datetime | None


def derived_columns(
    session: Session, calendar: sla.BusinessCalendar, threshold: float
) -> Iterable[tuple[Any, Derived]]:
    """Each open-or-listed case row (in id order, read in chunks) with its board columns computed
    afresh: what :func:`rebuild` writes and :func:`check` compares with."""
    last = 0
    scope = or_(Case.completed.is_(False), Case.board_group.is_not(None))
    # Only a fee wait needs the SLA state (is its clock paused?): the others' is not decoded.
    fee_state = sql_case((Case.status == 6, Case.sla), else_=None).label("fee_state")
    while True:
        rows = session.execute(
            select(
                Case.id,
                Case.procedure_id,
                Case.status,
                Case.completed,
                Case.finished_at,
                Case.received_at,
                Case.due_at,
                Case.receipt_due_at,
                fee_state,
                Case.board_group,
                Case.board_lanes,
                Case.amber_at,
            )
            .where(scope, Case.id > last)
            .order_by(Case.id)
            .limit(5000)
        ).all()
        if not rows:
            return
        lanes: dict[int, set[str]] = {}
        for case_id, lane in session.execute(
            select(WorkItem.case_id, WorkItem.lane).where(
                WorkItem.case_id.between(rows[0].id, rows[-1].id),
                WorkItem.completed_at.is_(None),
                WorkItem.lane.is_not(None),
            )
        ):
            lanes.setdefault(case_id, set()).add(str(lane))
        for row in rows:
            paused = row.status == 6 and (row.fee_state or {}).get("paused_at") is not None
            group = group_of(row.status, row.completed, row.finished_at, row.received_at, row.due_at, paused)
            yield (
                row,
                Derived(
                    group,
                    lanes_of(lanes.get(row.id, ())) or None,
                    amber_moment(row.received_at, row.due_at, calendar, threshold),
                ),
            )
        last = rows[-1].id


def rebuild(
    session: Session, calendar: sla.BusinessCalendar, threshold: float, now: datetime | None = None
) -> int:
    """Recompute every case's board columns and all the counts from the cases and their open steps;
    returns how many case rows changed. Hours before ``now``'s are folded (none without ``now``).

    Run by migrations 0012 and 0016, ``init-db`` (when a new threshold or new desk hours must
    apply), ``audit board --repair`` and after bulk copies of case rows (bench/seed.py). Case rows
    are read in chunks of 5,000 and only changed ones are written (without a version bump: nothing
    of the dossier itself changes).
    """
    table = Base.metadata.tables[Case.__tablename__]
    if session.get_bind().dialect.name == "postgresql":
        # Writers that move a dossier on the board append to board_counts: they wait until the
        # rebuild commits (and it waits for those already under way), so no delta is both read
        # into a case's new count and deleted, or lost. SQLite has one writer at a time anyway.
        session.execute(text("LOCK TABLE board_counts IN EXCLUSIVE MODE"))
    counts: Counter[Key] = Counter()
    changed: list[dict[str, Any]] = []
    horizon = bucket(now) if now is not None else EPOCH
    for row, new in derived_columns(session, calendar, threshold):
        if (row.board_group, row.board_lanes, row.amber_at) != (
            new.board_group,
            new.board_lanes,
            new.amber_at,
        ):
            changed.append({"case_key": row.id, **new.__dict__})
        for key in (
            *entries(
                row.procedure_id,
                new.board_group,
                new.board_lanes,
                row.due_at,
                new.amber_at,
                row.receipt_due_at,
            ),
            *status_entries(row.procedure_id, row.status, row.completed),
        ):
            counts[_fold(key, horizon)] += 1
        if len(changed) >= 5000:
            _write_columns(session, table, changed)
            changed = []
    _write_columns(session, table, changed)
    session.execute(delete(BoardCount))
    write(session, [_row(key, n) for key, n in sorted(counts.items()) if n] + [_mark(horizon)])
    return len(changed)


def _write_columns(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Write board columns of case rows; the row version moves on, so an operation that read the
    row before (and would count it from the old columns) fails its version check and is retried."""
    if rows:
        session.execute(
            update(table)
            .where(table.c.id == _bind("case_key"))
            .values(
                version=table.c.version + 1,
                board_group=_bind("board_group"),
                board_lanes=_bind("board_lanes"),
                amber_at=_bind("amber_at"),
            ),
            rows,
        )


def _bind(name: str) -> Any:
    return bindparam(name)


def _hours(hour: datetime) -> int:
    return (hour - EPOCH) // _HOUR


def _mark(horizon: datetime) -> dict[str, Any]:
    return _row(("", 0, "", FOLDED, EPOCH), _hours(horizon))


def _fold(key: Key, horizon: datetime) -> Key:
    return key if key[4] >= horizon else (*key[:4], EPOCH)


def compact(session: Session, now: datetime) -> int:
    """Fold the delta rows: one row per key and hour, the hours before ``now``'s into ``EPOCH``
    (and the fold mark moved on); returns the rows left. Safe beside concurrent writers: on
    PostgreSQL each statement deletes the rows it sees and inserts their sums (rows committed
    meanwhile are neither deleted nor summed); SQLite has one writer at a time. Two compactions
    would both be correct but do the work twice: the second raises :class:`~engine.errors.Busy`.
    """
    locks.take(session, locks.Chore.BOARD_COMPACT, "gộp số đếm của bảng SLA")
    horizon = bucket(now)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "WITH gone AS (DELETE FROM board_counts WHERE kind <> :folded RETURNING "
                "procedure_id, board_group, lanes, kind, "
                "CASE WHEN bucket < :horizon THEN :epoch ELSE bucket END AS bucket, n) "
                "INSERT INTO board_counts (procedure_id, board_group, lanes, kind, bucket, n) "
                "SELECT procedure_id, board_group, lanes, kind, bucket, sum(n) FROM gone "
                "GROUP BY procedure_id, board_group, lanes, kind, bucket HAVING sum(n) <> 0"
            ),
            {"horizon": horizon, "epoch": EPOCH, "folded": FOLDED},
        )
        session.execute(
            text(
                "WITH gone AS (DELETE FROM board_counts WHERE kind = :folded RETURNING n) "
                "INSERT INTO board_counts (procedure_id, board_group, lanes, kind, bucket, n) "
                "SELECT '', 0, '', :folded, :epoch, greatest(coalesce(max(n), 0), :hours) FROM gone"
            ),
            {"epoch": EPOCH, "folded": FOLDED, "hours": _hours(horizon)},
        )
    else:
        sums: Counter[Key] = Counter()
        mark = _hours(horizon)
        for procedure_id, group, lanes, kind, hour, n in session.execute(
            select(
                BoardCount.procedure_id,
                BoardCount.board_group,
                BoardCount.lanes,
                BoardCount.kind,
                BoardCount.bucket,
                BoardCount.n,
            )
        ):
            if kind == FOLDED:
                mark = max(mark, n)
            else:
                sums[_fold((procedure_id, group, lanes, kind, hour), horizon)] += n
        session.execute(delete(BoardCount))
        rows = [_row(key, n) for key, n in sorted(sums.items()) if n]
        write(session, [*rows, _row(("", 0, "", FOLDED, EPOCH), mark)])
    return int(session.scalar(select(func.count()).select_from(BoardCount)) or 0)


def recompute_amber(
    session: Session, calendar: sla.BusinessCalendar, threshold: float, start: datetime, end: datetime
) -> int:
    """After a calendar change of the day [start, end): the amber moments of the dossiers whose
    clock spans it (received before it ends, due after it starts), and their count rows; returns
    how many moved. The day changes their allocated and remaining working time even when their
    printed appointment stays."""
    table = Base.metadata.tables[Case.__tablename__]
    changed: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    spanning = and_(
        Case.due_at >= start, or_(Case.received_at < end, Case.amber_at < end), Case.received_at.is_not(None)
    )
    for row in session.execute(
        select(
            Case.id,
            Case.procedure_id,
            Case.board_group,
            Case.board_lanes,
            Case.due_at,
            Case.received_at,
            Case.receipt_due_at,
            Case.amber_at,
        )
        .where(Case.board_group.is_not(None), spanning)
        .with_for_update()  # PostgreSQL: no operation moves these rows between the read and the write
    ):
        amber = amber_moment(row.received_at, row.due_at, calendar, threshold)
        if amber == row.amber_at:
            continue
        changed.append(
            {
                "case_key": row.id,
                "board_group": row.board_group,
                "board_lanes": row.board_lanes,
                "amber_at": amber,
            }
        )
        rows += deltas(
            entries(
                row.procedure_id,
                row.board_group,
                row.board_lanes,
                row.due_at,
                row.amber_at,
                row.receipt_due_at,
            ),
            entries(
                row.procedure_id, row.board_group, row.board_lanes, row.due_at, amber, row.receipt_due_at
            ),
        )
    _write_columns(session, table, changed)
    write(session, rows)
    return len(changed)


def check(session: Session, calendar: sla.BusinessCalendar, threshold: float, now: datetime) -> list[str]:
    """Problems of the read model (none when sound): case rows whose board columns differ from what
    their row and open steps give, and counts that differ from a recount of the rows."""
    problems = [
        f"case {row.id}: board columns {(row.board_group, row.board_lanes, row.amber_at)} != "
        f"{(new.board_group, new.board_lanes, new.amber_at)}"
        for row, new in derived_columns(session, calendar, threshold)
        if (row.board_group, row.board_lanes, row.amber_at)
        != (new.board_group, new.board_lanes, new.amber_at)
    ]
    kept, counted = tallies(session, now), recount(session, now)
    for key in sorted(set(kept) | set(counted)):
        if kept.get(key, Tally()) != counted.get(key, Tally()):
            problems.append(f"counts {key}: kept {kept.get(key)} != recount {counted.get(key)}")
    in_status, recounted = status_totals(session), status_recount(session)
    for pair in sorted(set(in_status) | set(recounted)):
        if in_status.get(pair, 0) != recounted.get(pair, 0):
            problems.append(
                f"open in status {pair}: kept {in_status.get(pair, 0)} != recount {recounted.get(pair, 0)}"
            )
    return problems


def split_lanes(lanes: str) -> list[str]:
    """The units of a running dossier's key (``—`` when no open step names one)."""
    return lanes.split(LANE_SEPARATOR) if lanes else ["—"]
