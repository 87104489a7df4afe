""" "Hồ sơ của tôi" finds a citizen's dossiers through cases.applicant_cccd (indexed, without spaces),
and migration 0014 fills that column for dossiers opened before it, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.citizen import VerifiedCitizen
from engine.clock import FixedClock
from engine.db import Database
from engine.models import Case
from engine.service import Engine
from tests.engine.helpers import downgrade_to, revision_before
from tests.support.fixtures import (
    _create_pg_database,
    _drop_pg_database,
    _prepare,
    settings_for_tests,
    vn,
)

AN = "001090012345"


def _citizen(cccd: str) -> VerifiedCitizen:
    return VerifiedCitizen(cccd, "Nguyễn Văn An", date(1990, 5, 12), "sub-" + cccd, "https://idp.test")


def _counter(engine: Engine, id_number: str | None, name: str = "Nguyễn Văn An") -> str:
    applicant = {"name": name, "phone": "0905123456"} | ({"id_number": id_number} if id_number else {})
    view = engine.counter_intake(
        {"procedure_id": "diploma_copy", "channel": 1, "applicant": applicant}, actor=engine.actor("clerk")
    )
    return view.code


def test_my_dossiers_match_the_cccd_typed_with_spaces_and_nothing_else(engine: Engine) -> None:
    spaced = _counter(engine, "001 090 012345")
    plain = _counter(engine, AN)
    _counter(engine, "031185004321", "Trần Thị Bình")
    _counter(engine, None, "Không có CCCD")
    found = [d.code for d in engine.citizen_dossiers(_citizen(AN))]
    assert sorted(found) == sorted([spaced, plain])
    with engine.db.read() as session:
        assert session.scalar(select(Case.applicant_cccd).where(Case.code == spaced)) == AN
        nobody = select(Case.applicant_cccd).where(Case.applicant_name == "Không có CCCD")
        assert session.scalar(nobody) is None
    assert engine.citizen_dossiers(_citizen("   ")) == []  # a blank identity never matches "no CCCD"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own: the migration test moves its schema down and up again."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        _prepare(url)
        yield url
        return
    url = _create_pg_database()
    try:
        _prepare(url)
        yield url
    finally:
        _drop_pg_database(url)


def test_migration_0014_backfills_dossiers_opened_before_it(fresh_url: str) -> None:
    db = Database(fresh_url)
    engine = Engine(db, clock=FixedClock(vn(2026, 3, 2, 8, 0)), settings=settings_for_tests())
    try:
        spaced = _counter(engine, "001 090 012345")
        bare = _counter(engine, None, "Không có CCCD")
        downgrade_to(db, revision_before(db, "0014"))
        db.migrate()
        with db.read() as session:
            keys = {code: key for code, key in session.execute(select(Case.code, Case.applicant_cccd))}
            assert keys == {spaced: AN, bare: None}
        assert [d.code for d in engine.citizen_dossiers(_citizen(AN))] == [spaced]
    finally:
        db.dispose()
