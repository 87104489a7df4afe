"""Database access: engines, units of work, migrations.

One unit of work = one transaction: the new workflow state and the events it produced commit
together or not at all. On SQLite a writing unit starts with ``BEGIN IMMEDIATE`` so two writers
queue instead of failing half-way with "database is locked"; on PostgreSQL concurrent writers are
caught by the case's version column (optimistic concurrency).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .errors import ConflictError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DEFAULT_SQLITE_PATH = Path("var") / "motcua.sqlite3"


def default_url() -> str:
    """``MOTCUA_DATABASE_URL`` or the embedded SQLite file under ``var/``."""
    url = os.environ.get("MOTCUA_DATABASE_URL")
    if url:
        return normalise_url(url)
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def normalise_url(url: str) -> str:
    """Accept libpq-style ``postgresql://`` URLs and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" below decide how transactions start (pysqlite would defer them).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: an acknowledged commit survives a power cut, not only a process crash (WAL + NORMAL
            # may lose the last transactions on power loss).
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """Statements whose results nobody reads, sent together: on PostgreSQL in one pipeline (one
    round trip instead of one per statement; the client no longer waits on the server between
    them), elsewhere one after another as usual.

    Inside, only Core statements whose row counts and rows are not needed: the ORM's flush checks
    row counts, which a pipeline answers only at its end. A statement that fails raises when the
    pipeline ends at the latest, as SQLAlchemy's own error (an ``IntegrityError`` stays one), and the
    unit of work rolls back as for any other failure.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    import psycopg

    try:
        with connection.connection.driver_connection.pipeline():  # type: ignore[union-attr]
            yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc


class Database:
    """Engines and session factories for one database URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.url.startswith("postgresql"):
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine = create_engine(self.url, **kwargs)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine: Engine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (rolled back at the end)."""
        with self._read() as session, session.begin():
            yield session
            session.rollback()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction; concurrency failures surface as :class:`ConflictError`."""
        try:
            with self._write() as session, session.begin():
                yield session
        except StaleDataError as exc:
            raise ConflictError(
                "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại và thử lại.",
                details={"reason": "stale_version"},
            ) from exc
        except IntegrityError as exc:
            if "case_events" in str(exc) or "work_items" in str(exc):
                raise ConflictError(
                    "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại và thử lại.",
                    details={"reason": "duplicate_event"},
                ) from exc
            raise
        except OperationalError as exc:
            if "database is locked" in str(exc):
                raise ConflictError("Cơ sở dữ liệu đang bận, vui lòng thử lại.") from exc
            raise

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        with self.engine.begin() as connection:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def dialect_insert(session: Session, table: Any) -> Any:
    """An INSERT of ``table`` in the session's dialect, whose ON CONFLICT clauses (upserts) SQLite
    and PostgreSQL spell alike but SQLAlchemy builds per dialect."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
