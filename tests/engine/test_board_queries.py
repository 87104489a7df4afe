"""The SLA board's SQL counts and top-N lists agree with colouring every open dossier one by one."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, text, update

from bench.seed import real_templates, seed_open_cases
from engine import queries
from engine.cases import TERMINAL_STATUSES
from engine.models import BOARD_FLAGS, Case, flagged_predicate
from engine.service import Engine


def test_board_counts_match_a_dossier_by_dossier_colouring(engine: Engine) -> None:
    templates = real_templates(engine, ["diploma_copy"], max_steps=3)
    seed_open_cases(engine.db, templates, 400, engine.clock.now(), chunk=100)
    now, calendar, threshold = engine.clock.now(), engine.calendar, engine.settings.amber_threshold
    with engine.db.read() as session:
        calendar.refresh(session)
        board = queries.sla_board(session, now, calendar, threshold, top=7)
        cases = session.execute(
            select(
                Case.code,
                Case.procedure_id,
                Case.status,
                Case.completed,
                Case.finished_at,
                Case.received_at,
                Case.due_at,
            )
        ).all()
    expected: Counter[tuple[str, str]] = Counter()
    by_colour: dict[str, list[tuple[object, str]]] = {"red": [], "amber": []}
    for c in cases:
        if c.completed or c.finished_at or c.status in TERMINAL_STATUSES or c.status in (1, 5):
            continue
        if c.due_at is None or c.received_at is None:
            continue
        colour = queries._colour(now, c.received_at, c.due_at, calendar, threshold)
        expected[(c.procedure_id, colour)] += 1
        if colour in by_colour:
            by_colour[colour].append((c.due_at, c.code))
    counts = {p.procedure_id: p for p in board.procedures}["diploma_copy"]
    assert counts.breached == expected[("diploma_copy", "red")] > 7
    assert counts.approaching == expected[("diploma_copy", "amber")] > 7
    assert counts.on_track == expected[("diploma_copy", "green")]
    # Only the most urgent few are listed, most urgent first.
    assert [d.code for d in board.breached] == [code for _, code in sorted(by_colour["red"])[:7]]
    assert [d.code for d in board.approaching] == [code for _, code in sorted(by_colour["amber"])[:7]]
    assert sum(u.open for u in board.units) >= counts.open - counts.paused


def test_an_apology_moves_a_dossier_to_the_rescheduled_section(engine: Engine) -> None:
    templates = real_templates(engine, ["diploma_copy"], max_steps=3)
    seed_open_cases(engine.db, templates, 60, engine.clock.now(), chunk=100)
    now = engine.clock.now()
    late = engine.sla_board().breached[0]
    assert late.due_at is not None
    engine.apologise(late.code, now + timedelta(days=3), "Chờ xác minh", "Phòng QLCL", engine.actor("head"))
    board = engine.sla_board()
    counts = {p.procedure_id: p for p in board.procedures}["diploma_copy"]
    assert counts.rescheduled == 1
    assert [(d.code, d.apologies) for d in board.rescheduled] == [(late.code, 1)]
    assert late.code not in [d.code for d in board.breached]


def test_flagged_dossiers_are_found_through_their_partial_index(engine: Engine) -> None:
    """The flag predicate holds exactly for dossiers whose SLA flags contain the flag (not for a
    flag that merely starts the same way), the board lists and counts them, and the query walks the
    flag's partial index instead of every open dossier's SLA state."""
    templates = real_templates(engine, ["diploma_copy"], max_steps=3)
    seed_open_cases(engine.db, templates, 30, engine.clock.now(), chunk=100)
    with engine.db.unit_of_work() as session:
        rows = session.execute(
            select(Case.id, Case.sla)
            .where(
                Case.status.not_in((1, 5, *TERMINAL_STATUSES)),
                Case.completed.is_(False),
                Case.finished_at.is_(None),
                Case.due_at.is_not(None),
            )
            .order_by(Case.id)
        ).all()
        flags = {
            rows[0].id: ["repeat_supplement"],
            rows[1].id: ["x", "appointment_on_day_off"],
            rows[2].id: ["appointment_on_day_off_2", "repeat_supplements"],  # neither flag
        }
        for case_id, sla in rows[:3]:
            session.execute(
                update(Case).where(Case.id == case_id).values(sla={**(sla or {}), "flags": flags[case_id]})
            )
    dialect = engine.db.engine.dialect.name
    with engine.db.read() as session:
        found = {
            flag: set(session.scalars(select(Case.id).where(text(flagged_predicate(dialect, flag)))))
            for flag in BOARD_FLAGS
        }
        codes = {case_id: code for case_id, code in session.execute(select(Case.id, Case.code))}
        if dialect == "sqlite":
            plan = " ".join(
                str(r[-1])
                for r in session.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT id, procedure_id FROM cases WHERE "
                        f"{flagged_predicate(dialect, 'repeat_supplement')} AND completed IS NOT 1 "
                        "AND finished_at IS NULL ORDER BY due_at, id"
                    )
                )
            )
            assert "ix_cases_flag_repeat_supplement" in plan
    assert found == {"repeat_supplement": {rows[0].id}, "appointment_on_day_off": {rows[1].id}}
    board = engine.sla_board()
    assert [d.code for d in board.repeat_supplements] == [codes[rows[0].id]]
    assert [d.code for d in board.day_off_appointments] == [codes[rows[1].id]]
    counts = {p.procedure_id: p for p in board.procedures}["diploma_copy"]
    assert (counts.repeat_supplements, counts.day_off_appointments) == (1, 1)
