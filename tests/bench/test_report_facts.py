"""The page benchmarks' seeded copies count in the reports, and the rollup and the register's
counts by day agree with counting them."""

from __future__ import annotations

from bench.report_facts import seed_report_facts
from bench.seed import real_templates, seed_open_cases
from engine import facts_store, reports
from engine.service import Engine


def test_seeded_copies_get_facts_and_the_report_counts_them_exactly(engine: Engine) -> None:
    templates = real_templates(engine, ["diploma_copy"], max_steps=3)
    assert seed_open_cases(engine.db, templates, 60, engine.clock.now(), chunk=25) == 60
    engine.refresh_report_facts()  # the walked templates' own facts, from their histories
    assert seed_report_facts(engine.db) == 60
    assert seed_report_facts(engine.db) == 0  # only dossiers without facts
    first, last = reports.period_window(2026, "q1")
    with engine.db.read() as session:
        facts = facts_store.window_facts(session, *reports.local_bounds(first, last))
    report = engine.periodic_report(2026, "q1")
    assert report == reports.periodic_report_for(facts, 2026, "q1")
    assert report.total.total >= 60  # the copies are received (or carried over) in the quarter
    assert engine.check_register_days() == []  # the register's days, kept by the same write
