"""Open dossiers in bulk for the page benchmarks: a million in minutes, with real workflow state.

A handful of real dossiers are walked through the engine (every procedure of the library, stopped
at each step a person works on); their ``cases`` rows — workflow state, data, SLA fields — and
their open work items are then copied in bulk under new ids, codes and dates. Only ``cases`` rows
get explicit ids, so on PostgreSQL the id sequence is advanced afterwards: the next dossier opened
through the engine must not collide with a seeded one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, Table, func, insert, select, text

from engine import board as engine_board
from engine import facts_store
from engine.calendar import WorkingCalendar
from engine.db import Database
from engine.models import Case, ProcedureVersion, WorkItem
from engine.service import Engine
from engine.settings import EngineSettings
from engine.sla import BusinessCalendar
from engine.text import dossier_search_key
from engine.users import SYSTEM

from .lifecycle import HappyPath

#: Every `MINE_EVERY`-th of the first `MINE_UNTIL` seeded dossiers has its open steps claimed by the
#: benchmark user ("my tasks"): 200 of them at every scale from 10,000 on, as one specialist holds
#: the same handful of dossiers however many the Sở has, so the page compares like with like.
MINE_EVERY = 50
MINE_UNTIL = 10_000
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
        "amber_at",  # the copy's own, from its dates
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
    chunk: int = 50_000,
    board: tuple[BusinessCalendar, float] | None = None,
) -> int:
    """Insert ``n_cases`` open dossiers copied from ``templates`` with spread dates; returns how many.

    Receipt and statutory deadlines are spread from 48 hours late to 10 days ahead so every colour
    of the board is populated; 2 % of the dossiers wait at the desk for receipt. Each copy's amber
    moment is computed with its row under ``board`` (a calendar and an amber threshold; default the
    engine's defaults), and the read models are rebuilt after the copy.

    Only the few values a copy sets itself (id, code, name, search key, dates) are made in Python; the
    large ones (workflow state, data, SLA state: ~11 KB a dossier) are copied inside the database by
    ``INSERT … SELECT`` from a table of the templates, so they are serialised once, not once a row
    (and PostgreSQL copies their compressed TOAST values as they are). A load that at least doubles
    ``cases`` drops the secondary indexes of ``cases`` and ``work_items`` first and builds them again
    after, as a bulk load does.
    """
    calendar, threshold = board or (WorkingCalendar(), EngineSettings().amber_threshold)
    with db.unit_of_work() as session:
        first_id = int(session.scalar(select(func.coalesce(func.max(Case.id), 0))) or 0) + 1
        existing = int(session.scalar(select(func.count()).select_from(Case)) or 0)
    made = 0
    with _bulk_load(db, templates, drop_indexes=n_cases >= max(existing, 1)) as load:
        copies = _copies(templates, n_cases, first_id, now, mine, seed, chunk, (calendar, threshold))
        for cases, items in _made_ahead(copies):
            load(cases, items)
            made += len(cases)
    advance_case_ids(db)
    # Read models derived from the copied rows are rebuilt here, once, after the copy (and after the
    # indexes are back): the SLA board's counts (and any board column a template's dates do not give
    # the copy), as the runtime would have written them with each row; the report facts (the copies
    # have no history, no events and last_seq 0, so no facts; the walked templates have theirs).
    with db.unit_of_work() as session:
        engine_board.rebuild(session, calendar, threshold, now)
    with db.unit_of_work() as session:
        facts_store.rebuild(session)
    return made


Chunk = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _copies(
    templates: list[Template],
    n_cases: int,
    first_id: int,
    now: datetime,
    mine: str | None,
    seed: int,
    chunk: int,
    board: tuple[BusinessCalendar, float],
) -> Iterator[Chunk]:
    """The per-copy values, ``chunk`` dossiers at a time: the dossier tuples (``_ROW_COLUMNS``) and
    their open steps' (``_ITEM_ROW_COLUMNS``), times as naive UTC text."""
    rng = random.Random(seed)
    processing = [t for t in templates if t.case["status"] != 1]
    at_desk = [t for t in templates if t.case["status"] == 1] or processing
    number = {id(t): n for n, t in enumerate(templates)}
    base = now.astimezone(UTC).replace(tzinfo=None)
    hour = timedelta(hours=1)
    made = 0
    while made < n_cases:
        size = min(chunk, n_cases - made)
        cases: list[tuple[Any, ...]] = []
        items: list[tuple[Any, ...]] = []
        for offset in range(size):
            case_id = first_id + made + offset
            desk = rng.random() < AT_DESK
            template = rng.choice(at_desk if desk else processing)
            submitted = base - rng.uniform(1, 240) * hour
            status = int(template.case["status"])
            received = None if status == 1 else submitted + rng.uniform(0, 4) * hour
            due = None if received is None else base + rng.uniform(-48, 240) * hour
            receipt_due = submitted + rng.uniform(4, 40) * hour if template.case["channel"] == 2 else None
            code = f"BENCH-{case_id:08d}"
            name = f"Người nộp {case_id}"
            id_number = (template.case.get("applicant") or {}).get("id_number")
            cases.append(
                (
                    case_id,
                    number[id(template)],
                    code,
                    name,
                    dossier_search_key(code, name, id_number),
                    _stamp(submitted),
                    _stamp(receipt_due),
                    _stamp(received),
                    _stamp(due),
                    _stamp(_amber(received, due, board)),
                )
            )
            ready = received or submitted
            claimed = case_id % MINE_EVERY == 0 and case_id <= MINE_UNTIL
            assignee = mine if mine is not None and claimed else None
            for n, item in enumerate(template.items):
                items.append(
                    (
                        *(item[c] for c in _ITEM_COLUMNS),
                        case_id,
                        f"bench-{case_id}-{n}",
                        assignee,
                        _stamp(ready),
                        _stamp(ready + rng.uniform(2, 48) * hour),
                        False,
                    )
                )
        yield cases, items
        made += size


def _made_ahead(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """The next chunk made in a thread while the database stores this one (both drivers release the
    GIL while the database works), so Python's share of a load overlaps the database's."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, chunks, None)
        while (current := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield current


#: What :func:`seed_open_cases` makes per copy, in the order of its tuples.
_ROW_COLUMNS = (
    "id",
    "template",
    "code",
    "applicant_name",
    "search_key",
    "submitted_at",
    "receipt_due_at",
    "received_at",
    "due_at",
    "amber_at",
)
_ITEM_ROW_COLUMNS = (*_ITEM_COLUMNS, "case_id", "task_id", "assignee", "ready_at", "due_at", "cancelled")
_TEMPLATES = "bench_templates"
_ROWS = "bench_seed_rows"


def _amber(
    received: datetime | None, due: datetime | None, board: tuple[BusinessCalendar, float]
) -> datetime | None:
    """The copy's amber moment (engine.board) from its naive UTC dates, as naive UTC."""
    if received is None or due is None:
        return None
    moment = engine_board.amber_moment(received.replace(tzinfo=UTC), due.replace(tzinfo=UTC), *board)
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _stamp(moment: datetime | None) -> str | None:
    """A naive UTC moment as SQLAlchemy stores it on SQLite (and as PostgreSQL reads it in UTC)."""
    return None if moment is None else moment.isoformat(" ", "microseconds")


@contextmanager
def _bulk_load(
    db: Database, templates: list[Template], drop_indexes: bool
) -> Iterator[Callable[[list[tuple[Any, ...]], list[tuple[Any, ...]]], None]]:
    """The templates in a table of their own, and a loader writing one chunk of copies per transaction.

    The template table has the very column types of ``cases``, so its values are stored exactly as
    the engine stores them; it is dropped at the end, with the secondary indexes rebuilt if dropped.
    """
    table = Table(
        _TEMPLATES,
        MetaData(),
        Column("n", Integer, primary_key=True),
        *(Column(c, Case.__table__.c[c].type) for c in _CASE_COLUMNS),
    )
    table.drop(db.engine, checkfirst=True)
    table.create(db.engine)
    with db.unit_of_work() as session:
        session.execute(insert(table), [{"n": n, **t.case} for n, t in enumerate(templates)])
    postgres = db.engine.dialect.name == "postgresql"
    own = [c for c in _ROW_COLUMNS if c != "template"]
    columns = ", ".join((*own, "last_seq", "last_hash", "version", "completed", *_CASE_COLUMNS))
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        restore = [] if postgres else _sqlite_bulk_settings(raw)
        with connection.begin():
            dropped = _drop_secondary_indexes(connection) if drop_indexes else []

        def load(cases: list[tuple[Any, ...]], items: list[tuple[Any, ...]]) -> None:
            with connection.begin():
                if postgres:
                    _load_postgresql(raw, cases, items, own, columns)
                else:
                    _load_sqlite(raw, cases, items, own, columns)

        try:
            yield load
        finally:
            with connection.begin():
                if postgres and dropped:
                    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")  # sorts in memory
                for statement in dropped:
                    connection.exec_driver_sql(statement)
            for statement in restore:
                raw.execute(statement)
            table.drop(db.engine)
            if postgres:
                # What autovacuum does after a bulk load (PostgreSQL 13+ vacuums a table that only
                # grew, too): the planner sees the new rows, and the visibility map lets counts be
                # answered from an index alone.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
                    vacuum.exec_driver_sql("VACUUM ANALYZE cases")
                    vacuum.exec_driver_sql("VACUUM ANALYZE work_items")


#: SQLite settings for the loading connection: no fsync per chunk (a scratch database being filled;
#: the WAL still keeps the file consistent), and a page cache and memory map large enough that the
#: index builds sort in memory and scan the table without a read call per page.
_SQLITE_BULK = {"synchronous": "OFF", "cache_size": "-1000000", "mmap_size": str(64 << 30)}


def _sqlite_bulk_settings(raw: Any) -> list[str]:
    """Apply :data:`_SQLITE_BULK` to the connection; returns the statements that restore it (the
    connection goes back to the engine's pool)."""
    restore = []
    for name, value in _SQLITE_BULK.items():
        before = raw.execute(f"PRAGMA {name}").fetchone()[0]
        raw.execute(f"PRAGMA {name}={value}")
        restore.append(f"PRAGMA {name}={before}")
    return restore


def _load_postgresql(
    raw: Any,
    cases: list[tuple[Any, ...]],
    items: list[tuple[Any, ...]],
    own: list[str],
    columns: str,
) -> None:
    """COPY the small per-copy values into a temporary table, then one INSERT … SELECT per chunk."""
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")  # the times are naive UTC text
        cursor.execute(
            f"CREATE TEMP TABLE {_ROWS} (id integer, template integer, code text, applicant_name text, "
            "search_key text, submitted_at timestamptz, receipt_due_at timestamptz, "
            "received_at timestamptz, due_at timestamptz, amber_at timestamptz) ON COMMIT DROP"
        )
        with cursor.copy(f"COPY {_ROWS} ({', '.join(_ROW_COLUMNS)}) FROM STDIN") as copy:
            for row in cases:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO cases ({columns}) SELECT {', '.join('r.' + c for c in own)}, 0, '', 1, false, "
            f"{', '.join('t.' + c for c in _CASE_COLUMNS)} "
            f"FROM {_ROWS} r JOIN {_TEMPLATES} t ON t.n = r.template ORDER BY r.id"
        )
        with cursor.copy(f"COPY work_items ({', '.join(_ITEM_ROW_COLUMNS)}) FROM STDIN") as copy:
            for row in items:
                copy.write_row(row)


def _load_sqlite(
    raw: Any,
    cases: list[tuple[Any, ...]],
    items: list[tuple[Any, ...]],
    own: list[str],
    columns: str,
) -> None:
    """One INSERT … SELECT from the template per copy, run as executemany; then the open steps."""
    template = _ROW_COLUMNS.index("template")
    cursor = raw.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO cases ({columns}) SELECT {', '.join('?' for _ in own)}, 0, '', 1, 0, "
            f"{', '.join('t.' + c for c in _CASE_COLUMNS)} FROM {_TEMPLATES} t WHERE t.n = ?",
            ((*row[:template], *row[template + 1 :], row[template]) for row in cases),
        )
        cursor.executemany(
            f"INSERT INTO work_items ({', '.join(_ITEM_ROW_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _ITEM_ROW_COLUMNS)})",
            items,
        )
    finally:
        cursor.close()


_BULK_TABLES = ("cases", "work_items")


def _drop_secondary_indexes(connection: Connection) -> list[str]:
    """Drop the indexes of the bulk-loaded tables that back no constraint; returns their DDL."""
    if connection.dialect.name == "postgresql":
        found = connection.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE t.relname = ANY(:tables) AND t.relnamespace = current_schema()::regnamespace "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            ),
            {"tables": list(_BULK_TABLES)},
        ).all()
    else:
        found = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({', '.join(repr(t) for t in _BULK_TABLES)})"
            )
        ).all()
    for name, _ in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return [ddl for _, ddl in found]


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
