"""The periodic report's rollup gives exactly the figures of ``reports.count_dossier``.

Two levels. Pure: each dossier's rollup contributions, summed the way the database sums them,
equal ``count_dossier`` for every window (every period name, every plan's cut-off rule, several
years, and random whole-day windows), over the 24 hand-computed dossiers and generated facts whose
moments fall on and around local midnights. Stored: on SQLite and PostgreSQL, the report read from
the rollup tables equals ``reports.periodic_report`` over every dossier's facts, after each round of
changes (new facts, changed facts, units, removed facts, irregular dossiers). The engine-level
checks over real histories and every kind of change are in test_facts_read_model (its reports
are now read from the rollup).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import facts_store, report_rollup, reports
from engine.db import Database
from engine.models import Case, ProcedureVersion
from engine.reports import Counts, DossierFacts, RollupKey
from engine.service import Engine
from engine.sla import LOCAL_TZ
from tests.engine import test_report_dataset as hand

RULES = (None, *reports.CUTOFF_PRESETS.values())
PROCEDURES = {"p1": "Cấp bản sao", "p2": "", "p3": "Thành lập trung tâm"}
UNITS = (None, "Phòng A", "Phòng B")


def summed(contributions: dict[RollupKey, int], s: int, e: int) -> Counts:
    """The window [s, e)'s figures as engine.report_rollup.window_counts sums them in SQL."""
    c = Counts()
    for (name, day, prev), n in contributions.items():
        if name in reports.ADDITIVE_FIELDS:
            counted = s <= day < e
        elif name in reports.ONCE_FIELDS:
            counted = prev < s <= day < e
        elif name in reports.AT_START_FIELDS:
            counted = day <= s
        else:
            counted = day <= e
        if counted:
            setattr(c, name, getattr(c, name) + n)
    return c


def windows(years: tuple[int, ...], rng: random.Random, extra: int) -> Iterator[tuple[date, date]]:
    """Every named period under every rule in these years, then ``extra`` random whole-day windows."""
    for year in years:
        for period in reports.PERIOD_MONTHS:
            for rule in RULES:
                yield reports.period_window(year, period, rule)
    for _ in range(extra):
        first = date(years[0], 1, 1) + timedelta(days=rng.randrange(0, 365 * len(years)))
        yield first, first + timedelta(days=rng.choice((0, 0, 1, 6, 30, 90, 180, 400)))


def moment(rng: random.Random, day: date) -> datetime:
    """A moment on a local day: often exactly at midnight or just before the next (the edges)."""
    pick = rng.random()
    if pick < 0.3:
        at = datetime.combine(day, time(0, 0), LOCAL_TZ)
    elif pick < 0.4:
        at = datetime.combine(day + timedelta(days=1), time(0, 0), LOCAL_TZ) - timedelta(microseconds=1)
    else:
        at = datetime.combine(day, time(0, 0), LOCAL_TZ) + timedelta(seconds=rng.randrange(86400))
    return at.astimezone(UTC)


def generated(rng: random.Random, code: str) -> DossierFacts:
    """Facts of a made-up dossier: a chain of moments a few days apart from autumn 2025 to 2027,
    with supplementations, fee waits, apologies, appointments (some in the far future); a few end
    before they are received (irregular)."""
    day = date(2025, 10, 1) + timedelta(days=rng.randrange(0, 600))

    def later(gap: int = 12) -> datetime:
        nonlocal day
        day += timedelta(days=rng.randrange(0, gap))
        return moment(rng, day)

    def maybe(p: float) -> datetime | None:
        return later() if rng.random() < p else None

    submitted = moment(rng, day)
    received = maybe(0.9)
    waits: list[tuple[datetime, datetime | None]] = []
    for _ in range(rng.choice((0, 0, 1, 2, 3))):
        waits.append((later(), maybe(0.8)))
    pays = [(later(), maybe(0.7)) for _ in range(rng.choice((0, 0, 1)))]
    dues = [(later(3), later(30)) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
    if dues and rng.random() < 0.2:
        dues.append((dues[-1][0], datetime(2031, 1, 1, tzinfo=UTC)))
    procedure = rng.choice(sorted(PROCEDURES))
    ended = {name: maybe(p) for name, p in (("finished_at", 0.5), ("returned_at", 0.3), ("stopped_at", 0.05))}
    refused = maybe(0.08)
    if refused is not None and received is not None and rng.random() < 0.5:
        refused = received - timedelta(days=rng.randrange(0, 3))  # ended before received: irregular
    return DossierFacts(
        code=code,
        procedure_id=procedure,
        procedure_name=PROCEDURES[procedure],
        applicant={},
        channel=rng.choice((1, 2, 2, 3, 4)),
        submitted_at=submitted,
        received_at=received,
        refused_at=refused,
        withdrawal_requested_at=maybe(0.05),
        outcome=rng.choice(("early", "on_time", "late", None)),
        supplements=tuple(waits),
        payment_waits=tuple(pays),
        receipt_supplements=tuple(later(2) for _ in range(rng.choice((0, 0, 1, 2)))),
        apologies=tuple(later() for _ in range(rng.choice((0, 0, 1, 2)))),
        mistake_apologies=tuple(later() for _ in range(rng.choice((0, 0, 1)))),
        due_history=tuple(dues),
        fee_wait_counts=rng.random() < 0.3,
        unit=rng.choice(UNITS),
        **ended,
    )


# ------------------------------------------------------------------------------------ pure


def test_contributions_sum_to_count_dossier_in_every_window() -> None:
    rng = random.Random(13)
    dataset = hand.dataset() + [generated(rng, f"G{n}") for n in range(300)]
    irregular = [f for f in dataset if not reports.rollup_regular(f)]
    assert irregular  # the generator makes some, so the other branch is exercised below
    frames = [
        (first, last, *reports.local_bounds(first, last))
        for first, last in windows((2025, 2026, 2027), rng, 300)
    ]
    for f in dataset:
        if not reports.rollup_regular(f):
            continue
        contributions = reports.rollup_contributions(f)
        for first, last, start, end in frames:
            s, e = reports.rollup_window(first, last)
            assert summed(contributions, s, e) == reports.count_dossier(f, start, end), (f, first, last)


def test_an_irregular_dossier_would_be_miscounted_so_it_is_kept_out() -> None:
    """Why irregular dossiers are counted per report: for one received a day after it was refused,
    a window holding both days counts it received, while neither day alone does."""
    day = date(2026, 3, 10)
    refused = datetime.combine(day, time(9, 0), LOCAL_TZ).astimezone(UTC)
    f = DossierFacts(
        code="X",
        procedure_id="p1",
        procedure_name="",
        applicant={},
        channel=1,
        submitted_at=refused,
        refused_at=refused,
        received_at=refused + timedelta(days=1),
    )
    assert not reports.rollup_regular(f)
    first, last = day, day + timedelta(days=1)
    s, e = reports.rollup_window(first, last)
    assert summed(reports.rollup_contributions(f), s, e) != reports.count_dossier(
        f, *reports.local_bounds(first, last)
    )


# ------------------------------------------------------------------------------------ stored


def same_reports(db: Database, facts: dict[int, DossierFacts], rng: random.Random) -> None:
    every = list(facts.values())
    with db.read() as session:
        for first, last in windows((2025, 2026), rng, 40):
            expected = reports.periodic_report(every, first, last, "kỳ")
            assert report_rollup.periodic_report(session, first, last, "kỳ") == expected, (first, last)


def _bare_cases(session: Session, prefix: str, n: int) -> list[Case]:
    """``n`` case rows with nothing but what the facts tables refer to (their ids), flushed."""
    version = session.scalar(select(ProcedureVersion.id).order_by(ProcedureVersion.id).limit(1))
    cases = [
        Case(
            code=f"{prefix}{i}",
            procedure_id="p1",
            procedure_version_id=version,
            applicant_name="",
            applicant={},
            channel=1,
            status=1,
            submitted_at=datetime(2026, 1, 1, tzinfo=UTC),
            state="",
        )
        for i in range(n)
    ]
    session.add_all(cases)
    session.flush()
    return cases


def test_the_stored_rollup_equals_count_dossier_after_every_round_of_changes(db: Database) -> None:
    rng = random.Random(2026)
    with db.unit_of_work() as session:
        cases = _bare_cases(session, "R", 120)
        ids = [c.id for c in cases]
    facts: dict[int, DossierFacts] = {}

    def change(chosen: dict[int, DossierFacts | None]) -> None:
        with db.unit_of_work() as session:
            facts_store.put(session, chosen)
        for case_id, f in chosen.items():
            if f is None:
                facts.pop(case_id, None)
            else:
                facts[case_id] = f

    change({case_id: generated(rng, f"R{n}") for n, case_id in enumerate(ids[:100])})
    same_reports(db, facts, rng)  # first facts of 100 dossiers
    change({case_id: generated(rng, f"R{case_id}") for case_id in rng.sample(ids, 50)})
    same_reports(db, facts, rng)  # new facts for some (a new event), facts for the rest
    moved = rng.sample(sorted(facts), 20)
    change({case_id: _with(facts[case_id], unit="Phòng C") for case_id in moved})
    same_reports(db, facts, rng)  # a user's unit changed
    change(dict.fromkeys(rng.sample(sorted(facts), 10)))
    same_reports(db, facts, rng)  # facts gone
    regular = [case_id for case_id, f in facts.items() if reports.rollup_regular(f)]
    change({case_id: _irregular(facts[case_id]) for case_id in regular[:5]})
    assert sum(not reports.rollup_regular(f) for f in facts.values()) >= 5
    same_reports(db, facts, rng)  # irregular dossiers, counted per report


def _with(f: DossierFacts, **changes: object) -> DossierFacts:
    values = {name: getattr(f, name) for name in f.__dataclass_fields__}
    values.update(changes)
    return DossierFacts(**values)  # type: ignore[arg-type]


def _irregular(f: DossierFacts) -> DossierFacts:
    received = f.submitted_at + timedelta(days=2)
    return _with(f, received_at=received, refused_at=f.submitted_at, finished_at=None, returned_at=None)


def test_a_procedure_renamed_within_the_window_is_counted_per_dossier(engine: Engine) -> None:
    """The report names a procedure after its latest dossier, which sums cannot tell: the rollup
    answers None and the engine counts the window's dossiers instead."""
    with engine.db.unit_of_work() as session:
        cases = _bare_cases(session, "N", 2)
        at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
        old = DossierFacts("N0", "p1", "Tên cũ", {}, 1, at, received_at=at)
        new = _with(old, code="N1", procedure_name="Tên mới", submitted_at=at + timedelta(days=30))
        facts_store.put(session, {cases[0].id: old, cases[1].id: new})
    with engine.db.read() as session:
        assert report_rollup.periodic_report(session, date(2026, 1, 1), date(2026, 12, 31), "kỳ") is None
    report = engine.periodic_report(2026, "year")
    assert report == reports.periodic_report_for([old, new], 2026, "year")
    assert report.procedure_names == {"p1": "Tên mới"} and report.total.received_in_person == 2
