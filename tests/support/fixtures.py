"""Shared fixtures: every engine test runs on SQLite AND PostgreSQL, with real parts.

Each backend gets one database per test session (migrated, library deployed, test users created);
each test starts from empty case tables. PostgreSQL is required: when it does not answer, the tests
fail loudly instead of being skipped.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import delete, func, select, update

from engine.calendar import WorkingCalendar
from engine.clock import FixedClock
from engine.db import Database
from engine.demo_pki import make_pki
from engine.esign import SigningConfig
from engine.models import (
    Base,
    ProcedureVersion,
)
from engine.service import Engine
from engine.settings import EngineSettings
from engine.users import ROLES, create_user

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("MOTCUA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_PASSWORD = "matkhau-thu-nghiem"
LIBRARY_ACTOR = "system"
TEST_UNIT = "Phòng thử nghiệm"
#: The library's real units (bpmn/ lanes) and the accounts of two units, for the unit-isolation tests.
LIBRARY_DIR = ROOT.parent / "bpmn"

# username -> roles; one account per role plus a clerk who is also a specialist.
TEST_USERS: dict[str, list[str]] = {
    "clerk": ["desk_clerk"],
    "specialist": ["specialist"],
    "head": ["head_of_department"],
    "director": ["director"],
    "partner": ["other_department"],
    "designer": ["designer"],
    "auditor": ["auditor"],
    "admin": ["admin"],
}


def vn(*parts: int) -> datetime:
    """A local (Asia/Ho_Chi_Minh) moment: vn(2026, 2, 16, 9, 0)."""
    return datetime(*parts, tzinfo=VN)  # type: ignore[misc]


def _create_pg_database() -> str:
    name = f"motcua_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required for the test suite and did not answer at {PG_URL}: {exc}. "
            "Set MOTCUA_TEST_DATABASE_URL or start PostgreSQL.",
            pytrace=False,
        )
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@functools.cache
@functools.cache
def one_unit_library() -> Path:
    """A copy of the library whose every lane is routed to ``TEST_UNIT``: the shared test database's
    accounts (all of that unit) can then work every step, as most tests need. Unit isolation is
    tested on the real library (tests/web/test_access_matrix.py). One copy per process: the test
    engines read their shared sub-processes from it too, so a designer deploy keeps the same units."""
    target = Path(tempfile.mkdtemp(prefix="motcua-library-"))
    shutil.copytree(LIBRARY_DIR, target, dirs_exist_ok=True)
    for path in target.rglob("*.bpmn"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r'(<motcua:assignment unit=")[^"]*"', rf'\g<1>{TEST_UNIT}"', text), "utf-8")
    return target


def _prepare(url: str, library: Path | None = None) -> None:
    db = Database(url)
    settings = EngineSettings(library_dir=library or one_unit_library())
    engine = Engine(db, clock=FixedClock(vn(2026, 1, 5, 8, 0)), settings=settings)
    engine.init_db(load_library=True, seed_users=False)
    with db.unit_of_work() as session:
        for username, roles in TEST_USERS.items():
            create_user(session, username, f"Người dùng {username}", roles, TEST_PASSWORD, unit=TEST_UNIT)
    db.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'motcua.sqlite3'}"
    _prepare(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = _create_pg_database()
    try:
        _prepare(url)
        yield url
    finally:
        _drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


def clean(db: Database) -> None:
    """Empty every table but users and the library, then make the library versions latest again."""
    kept = {"users", "procedure_versions"}
    with db.unit_of_work() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in kept:
                session.execute(table.delete())
        session.execute(delete(ProcedureVersion).where(ProcedureVersion.deployed_by != LIBRARY_ACTOR))
        newest = (
            select(ProcedureVersion.procedure_id, func.max(ProcedureVersion.version).label("version"))
            .group_by(ProcedureVersion.procedure_id)
            .subquery()
        )
        session.execute(update(ProcedureVersion).values(is_latest=False))
        session.execute(
            update(ProcedureVersion)
            .where(
                ProcedureVersion.procedure_id == newest.c.procedure_id,
                ProcedureVersion.version == newest.c.version,
            )
            .values(is_latest=True)
        )


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> SigningConfig:
    """A test CA and agency certificate (valid around the tests' fixed clocks), made once."""
    return make_pki(tmp_path_factory.mktemp("pki"), vn(2026, 3, 2, 8, 0), valid_days=1800)


@pytest.fixture(autouse=True)
def _outside_seal_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_pki: SigningConfig) -> None:
    """Each test anchors its seals in its own outside log and signing key (never the checkout's var/),
    keeps files in its own store and signs results with the test CA's certificate."""
    monkeypatch.setenv("MOTCUA_SEAL_LOG", str(tmp_path / "audit-seals.jsonl"))
    monkeypatch.setenv("MOTCUA_SEAL_KEY_FILE", str(tmp_path / "seal-signing-key.pem"))
    monkeypatch.setenv("MOTCUA_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("MOTCUA_SIGNING_CERT", str(test_pki.cert_path))
    monkeypatch.setenv("MOTCUA_SIGNING_KEY", str(test_pki.key_path))
    monkeypatch.setenv("MOTCUA_SIGNING_CHAIN", os.pathsep.join(str(p) for p in test_pki.chain_paths))


@pytest.fixture
def clock() -> FixedClock:
    # Monday 2 March 2026, 08:00 local: an ordinary working morning.
    return FixedClock(vn(2026, 3, 2, 8, 0))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    clean(database)
    yield database
    database.dispose()


@pytest.fixture
def engine(db: Database, clock: FixedClock) -> Engine:
    return Engine(db, clock=clock, calendar=WorkingCalendar(), settings=settings_for_tests())


@pytest.fixture
def pg_engine(postgres_url: str, clock: FixedClock) -> Iterator[Engine]:
    """The test engine on PostgreSQL alone, for what only PostgreSQL has (locks between sessions,
    several worker processes): SQLite runs one write transaction at a time, so a run there would
    check nothing and still count as passed."""
    database = Database(postgres_url)
    clean(database)
    yield Engine(database, clock=clock, calendar=WorkingCalendar(), settings=settings_for_tests())
    clean(database)
    database.dispose()


def settings_for_tests() -> EngineSettings:
    """The settings of the test engines: the library they deploy from is the one the database holds."""
    return EngineSettings(library_dir=one_unit_library())


assert set(TEST_USERS) and all(r in ROLES for roles in TEST_USERS.values() for r in roles)
