"""The register's counts by local submission day (issue 13): a register page's total and the
number of its first row read them instead of counting the window's dossiers.

The kept counts must equal a recount of ``dossier_facts`` by local day after every kind of write
the facts receive (new dossiers either side of a local midnight, refreshes, facts whose day moves,
facts deleted), and every page's total and first number must equal the counts the page made before
(written here as they were), for windows and cursors of every kind. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from engine import facts_store, register_days, reports
from engine.clock import FixedClock
from engine.models import DossierFactsRow, RegisterDayRow
from engine.service import Engine
from tests.support.fixtures import vn

RECEIVE = ("receipt_check", "clerk", {"decision": "accept", "checked_documents": ["TP1", "TP2"]})
#: Either side of local midnight between 2 and 3 March 2026 (UTC+7): 23:59:59 and 00:00:00.
LAST_SECOND = datetime(2026, 3, 2, 16, 59, 59, tzinfo=UTC)
MIDNIGHT = datetime(2026, 3, 2, 17, 0, 0, tzinfo=UTC)


def start(engine: Engine, clock: FixedClock, at: datetime, name: str) -> str:
    clock.set(at)
    return engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": name}, "channel": 2}, engine.actor("citizen")
    ).code


def kept(engine: Engine) -> dict[int, int]:
    with engine.db.read() as session:
        rows = session.execute(select(RegisterDayRow.day, RegisterDayRow.n).where(RegisterDayRow.n != 0))
        return {r.day: r.n for r in rows}


def counted(engine: Engine) -> dict[int, int]:
    """The facts rows of each local day, each day counted by its own window (the old count)."""
    with engine.db.read() as session:
        moments = list(session.scalars(select(DossierFactsRow.submitted_at)))
        days = {reports.local_day(m) for m in moments}
        out = {}
        for day in days:
            first = date.fromordinal(day)
            out[day] = old_counts(session, first, first, None)[0]
        return out


def assert_kept_counts_sound(engine: Engine) -> None:
    assert kept(engine) == counted(engine)
    assert engine.check_register_days() == []


def old_counts(
    session: Session, first: date, last: date, after: tuple[datetime, str] | None
) -> tuple[int, int]:
    """(total, first number) as the register page counted them before: from the index."""
    t = DossierFactsRow
    start_, end = reports.local_bounds(first, last)
    window = and_(t.submitted_at >= start_, t.submitted_at < end)
    total = session.scalar(select(func.count()).select_from(t).where(window))
    before = 0
    if after is not None:
        moment, code = after
        later = or_(t.submitted_at > moment, and_(t.submitted_at == moment, t.code > code))
        before = int(session.scalar(select(func.count()).select_from(t).where(window, ~later)) or 0)
    return int(total or 0), before + 1


def by_code(engine: Engine) -> dict[str, tuple[int, reports.DossierFacts]]:
    with engine.db.read() as session:
        rows = session.execute(select(DossierFactsRow.case_id, DossierFactsRow.facts))
        return {f.code: (r.case_id, f) for r in rows for f in [facts_store.facts_from_json(r.facts)]}


def test_the_kept_counts_follow_every_write_of_the_facts(engine: Engine, clock: FixedClock) -> None:
    assert_kept_counts_sound(engine)  # nothing yet
    late = start(engine, clock, LAST_SECOND, "Nộp 23:59:59")
    early = start(engine, clock, MIDNIGHT, "Nộp 00:00:00")
    same = start(engine, clock, MIDNIGHT, "Cùng thời điểm")
    engine.refresh_report_facts()
    march_2, march_3 = date(2026, 3, 2).toordinal(), date(2026, 3, 3).toordinal()
    assert kept(engine) == {march_2: 1, march_3: 2}
    assert_kept_counts_sound(engine)

    # A refresh that changes facts (receipt) but not the day: the counts stay.
    clock.set(vn(2026, 3, 3, 9, 0))
    engine.complete_task(early, *RECEIVE[::2], engine.actor(RECEIVE[1]))
    assert engine.refresh_report_facts() == 1
    assert kept(engine) == {march_2: 1, march_3: 2}
    assert_kept_counts_sound(engine)

    # Facts whose day moves (the bench's shortcut writes such facts through put): one day loses
    # the row, another gains it; a second row onto a day already counted, in the same write.
    facts = by_code(engine)
    moved = {
        facts[late][0]: replace(facts[late][1], submitted_at=MIDNIGHT + timedelta(days=2)),
        facts[same][0]: replace(facts[same][1], submitted_at=LAST_SECOND),
    }
    with engine.db.unit_of_work() as session:
        facts_store.put(session, moved)
    assert kept(engine) == {march_2: 1, march_3: 1, march_2 + 3: 1}
    assert_kept_counts_sound(engine)

    # Facts deleted (None): their day loses them; putting the same facts again changes nothing.
    with engine.db.unit_of_work() as session:
        facts_store.put(session, {facts[early][0]: None, facts[late][0]: None})
    assert kept(engine) == {march_2: 1}
    assert_kept_counts_sound(engine)
    with engine.db.unit_of_work() as session:
        facts_store.put(session, {facts[same][0]: moved[facts[same][0]]})
    assert kept(engine) == {march_2: 1}

    # A rebuild of the facts (every dossier recomputed from its history) puts every day back.
    with engine.db.unit_of_work() as session:
        facts_store.rebuild(session)
    assert kept(engine) == {march_2: 1, march_3: 2}
    assert_kept_counts_sound(engine)


def test_a_page_s_total_and_first_number_are_the_counts_of_its_window(
    engine: Engine, clock: FixedClock
) -> None:
    for n, at in enumerate(
        (
            vn(2026, 3, 1, 0, 0),
            vn(2026, 3, 1, 10, 0),
            LAST_SECOND,
            LAST_SECOND,
            MIDNIGHT,
            MIDNIGHT,
            MIDNIGHT,
            vn(2026, 3, 3, 12, 0),
            vn(2026, 3, 5, 23, 59),
            vn(2026, 3, 31, 23, 59, 59),
            vn(2026, 4, 1, 0, 0),
        )
    ):
        start(engine, clock, at, f"Người nộp {n}")
    engine.refresh_report_facts()
    assert_kept_counts_sound(engine)
    with engine.db.read() as session:
        rows = [tuple(r) for r in session.execute(select(DossierFactsRow.submitted_at, DossierFactsRow.code))]
    edges = [
        (datetime(1, 1, 2, tzinfo=UTC), ""),
        (MIDNIGHT - timedelta(microseconds=1), "~"),
        (MIDNIGHT, ""),
        (MIDNIGHT, "~"),
        (vn(2026, 3, 4, 0, 0), ""),
        (vn(2026, 4, 1, 0, 0), ""),
        (datetime(9999, 12, 30, tzinfo=UTC), ""),
    ]
    cursors: list[tuple[datetime, str] | None] = [None, *rows, *edges]
    windows = [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 3, 2), date(2026, 3, 2)),
        (date(2026, 3, 3), date(2026, 3, 3)),
        (date(2026, 3, 2), date(2026, 3, 3)),
        (date(2026, 3, 4), date(2026, 3, 4)),  # no dossier that day
        (date(2026, 3, 1), date(2026, 4, 1)),
        (date(2026, 5, 1), date(2026, 5, 31)),  # none at all
    ]
    with engine.db.read() as session:
        for first, last in windows:
            for after in cursors:
                page = facts_store.register_page(session, first, last, after, 3)
                assert (page.total, page.first_number) == old_counts(session, first, last, after), (
                    first,
                    last,
                    after,
                )
    # Through the service too, page after page: numbered on, the same total on each.
    after = None
    number = 1
    while True:
        table, page = engine.dossier_register_page(date(2026, 3, 1), date(2026, 4, 1), after, size=2)
        assert (page.total, page.first_number) == (11, number)
        number += len(table.rows)
        if page.next_after is None:
            break
        after = page.next_after
    assert number == 12


def test_the_migration_backfills_the_counts_of_existing_dossiers(engine: Engine, clock: FixedClock) -> None:
    """init-db on a database from before the counts: migration 0017 counts the facts by day."""
    from sqlalchemy import inspect

    from tests.engine.helpers import downgrade_to, revision_before

    for at in (LAST_SECOND, MIDNIGHT, MIDNIGHT, vn(2026, 3, 9, 8, 0)):
        start(engine, clock, at, "Cũ")
    engine.refresh_report_facts()
    try:
        downgrade_to(engine.db, revision_before(engine.db, "0017"))
        assert "register_days" not in inspect(engine.db.engine).get_table_names()
        engine.db.migrate()  # init-db: upgrade, with the backfill
        march_2 = date(2026, 3, 2).toordinal()
        assert kept(engine) == {march_2: 1, march_2 + 1: 2, march_2 + 7: 1}
        assert_kept_counts_sound(engine)
    finally:
        engine.db.migrate()


def test_audit_register_days_reports_the_counts_sound_or_not(
    engine: Engine, clock: FixedClock, capsys: Any
) -> None:
    import run

    start(engine, clock, MIDNIGHT, "Kiểm")
    engine.refresh_report_facts()

    def audit(*extra: str) -> tuple[int, Any]:
        status = run.main(["audit", "register-days", "--json", "--db", engine.db.url, *extra])
        return status, json.loads(capsys.readouterr().out)

    sound = {"ok": True, "problems": [], "repaired": []}
    assert audit() == (0, sound)
    with engine.db.unit_of_work() as session:
        session.execute(update(RegisterDayRow).values(n=RegisterDayRow.n + 1))
    status, report = audit()
    problems = ["register day 2026-03-03: kept 2 != recount 1"]
    assert status != 0 and report == {"ok": False, "problems": problems, "repaired": []}
    assert audit("--repair") == (0, {"ok": True, "problems": [], "repaired": problems})
    assert audit() == (0, sound)
    with engine.db.unit_of_work() as session:
        assert register_days.rebuild(session) == 1  # the engine's own rebuild, as the migration runs it
    assert audit() == (0, sound)
