"""The SLA board's read model (engine.board) equals a recount of the dossiers after every kind of
change, and the board it feeds equals a dossier-by-dossier colouring at any moment, on SQLite and
PostgreSQL."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from engine import board, queries, sla
from engine.calendar import WorkingCalendar
from engine.cases import TERMINAL_STATUSES
from engine.clock import FixedClock
from engine.models import BoardCount, Case, WorkItem
from engine.service import Engine
from engine.users import CITIZEN
from tests.support.fixtures import vn

ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
CENTRE_ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
PAID = {"amount": 1000000, "payment_method": "online", "transaction_ref": "DVCQG-260302-000123"}
SUPPLEMENT = {"decision": "supplement", "missing_documents": ["TP2"], "reason": "Thiếu bản sao CCCD"}
PAPER = ("don-rut-ho-so.pdf", b"%PDF-1.4 don rut ho so, co chu ky")


# ------------------------------------------------------------------------------- the amber moment


def test_the_amber_moment_is_where_the_colour_turns_amber_to_the_microsecond() -> None:
    """For every start, deadline and threshold, ``now`` is amber exactly from ``amber_from`` on
    (up to the deadline): checked at the moment itself, a microsecond before, and at random moments."""
    calendar = WorkingCalendar()
    rng = random.Random(13)
    base = vn(2026, 2, 2, 7, 0).astimezone(UTC)
    for _ in range(400):
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        if rng.random() < 0.5:  # deadlines at a window's edge, as the calendar prints them
            due = calendar.add_working_hours(start, rng.choice([0, 0.5, 2, 7.5, 8, 16, 37.5]))
        else:
            due = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        threshold = rng.choice([0.0, 0.1, 0.2, 0.25, 1 / 3, 0.5, 1.0])
        amber = sla.amber_from(start, due, calendar, threshold)
        moments = [start + (due - start) * rng.random() for _ in range(5)] + [due]
        if amber is not None:
            moments += [amber, amber - timedelta(microseconds=1), amber + timedelta(microseconds=1)]
        for now in moments:
            if now > due:
                continue
            expected = sla.colour(now, start, due, calendar, threshold) == "amber"
            assert expected == (amber is None or now >= amber), (start, due, threshold, now, amber)


# ------------------------------------------------------------------------------- the reference


def _reference(
    engine: Engine, now: datetime
) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """The board's count columns and unit counts as the board computed them before the read model:
    every open dossier coloured one by one (without the recent late receipts, which are listed)."""
    calendar, threshold = engine.calendar, engine.settings.amber_threshold
    with engine.db.read() as session:
        calendar.refresh(session)
        cases = session.execute(
            select(
                Case.id,
                Case.procedure_id,
                Case.status,
                Case.completed,
                Case.finished_at,
                Case.received_at,
                Case.due_at,
                Case.receipt_due_at,
                Case.sla,
            )
        ).all()
        lanes: dict[int, set[str]] = {}
        for case_id, lane in session.execute(
            select(WorkItem.case_id, WorkItem.lane).where(
                WorkItem.completed_at.is_(None), WorkItem.lane.is_not(None)
            )
        ):
            lanes.setdefault(case_id, set()).add(lane)
    procedures: dict[str, Counter[str]] = {}
    units: dict[str, Counter[str]] = {}
    for c in cases:
        if c.completed or c.finished_at or c.status in TERMINAL_STATUSES:
            continue
        if c.due_at is None and c.status != 1:
            continue
        entry = procedures.setdefault(c.procedure_id, Counter())
        if c.status == 1:
            entry["receipt_pending"] += 1
            entry["receipt_breached"] += int(c.receipt_due_at is not None and c.receipt_due_at < now)
            continue
        entry["open"] += 1
        paying = c.status == 6 and (c.sla or {}).get("paused_at") is not None
        if c.status == 5:
            entry["paused"] += 1
        elif c.received_at is not None and not paying:
            colour = queries._colour(now, c.received_at, c.due_at, calendar, threshold)
            name = {"red": "breached", "amber": "approaching"}.get(colour, "on_track")
            entry[name] += 1
            for lane in lanes.get(c.id) or {"—"}:
                unit = units.setdefault(lane, Counter())
                unit["open"] += 1
                unit[name] += 1
        elif c.status == 6:
            entry["waiting_payment"] += 1
        else:
            entry["on_track"] += 1
    fields = ("open", "breached", "approaching", "on_track", "paused", "waiting_payment", "receipt_pending")
    return (
        {p: tuple(c[f] for f in fields) for p, c in procedures.items()},
        {u: (c["open"], c["breached"], c["approaching"]) for u, c in units.items()},
    )


def _shown(b: queries.Board) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    fields = ("open", "breached", "approaching", "on_track", "paused", "waiting_payment", "receipt_pending")
    return (
        {
            p.procedure_id: tuple(getattr(p, f) for f in fields)
            for p in b.procedures
            if any(getattr(p, f) for f in fields)
        },
        {u.unit: (u.open, u.breached, u.approaching) for u in b.units},
    )


def _moments(engine: Engine, now: datetime) -> list[datetime]:
    """Now, the next hours, and every running dossier's amber moment and deadline (and a
    microsecond either side): where a colour changes."""
    with engine.db.read() as session:
        rows = session.execute(
            select(Case.amber_at, Case.due_at).where(Case.board_group == board.RUNNING)
        ).all()
    found = {now, now + timedelta(minutes=20), now + timedelta(hours=3), now + timedelta(days=2)}
    tick = timedelta(microseconds=1)
    for amber, due in rows:
        for moment in (amber, due):
            if moment is not None and moment > board.EPOCH:
                found |= {moment - tick, moment, moment + tick}
    return sorted(found)


def assert_consistent(engine: Engine, clock: FixedClock) -> None:
    """The read model is what a recount gives, and the board equals the dossier-by-dossier
    colouring now and at every moment a colour changes; the lists are the most urgent ones."""
    now = clock.now()
    threshold = engine.settings.amber_threshold
    assert engine.check_board() == []
    with engine.db.read() as session:
        in_status = dict(
            session.execute(
                select(Case.status, func.count()).where(Case.completed.is_(False)).group_by(Case.status)
            ).all()
        )
    for status in (1, 9):  # the desk's section totals, from the kept status counts
        assert engine.desk_page(status).total == in_status.get(status, 0), status
    for moment in _moments(engine, now):
        clock.set(moment)
        shown = engine.sla_board()
        assert _shown(shown) == _reference(engine, moment), moment
        with engine.db.read() as session:
            running = session.execute(
                select(Case.code, Case.received_at, Case.due_at).where(Case.board_group == board.RUNNING)
            ).all()
        amber = sorted(
            (r.due_at, r.code)
            for r in running
            if queries._colour(moment, r.received_at, r.due_at, engine.calendar, threshold) == "amber"
        )
        assert [d.code for d in shown.approaching] == [code for _, code in amber][: queries.BOARD_TOP]
        late = sorted((r.due_at, r.code) for r in running if r.due_at < moment)
        assert [d.code for d in shown.breached] == [code for _, code in late][: queries.BOARD_TOP]
    clock.set(now)


# ------------------------------------------------------------------------------- every change


def _online(engine: Engine, name: str, procedure: str = "diploma_copy") -> str:
    return engine.start_case(
        {"procedure_id": procedure, "applicant": {"name": name}, "channel": 2}, CITIZEN
    ).code


def test_the_read_model_follows_every_kind_of_change(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 8, 0))
    a, b, c, d, e = (_online(engine, name) for name in ("An", "Bình", "Chi", "Dũng", "Em"))
    assert_consistent(engine, clock)  # started: at the desk

    clock.set(vn(2026, 3, 2, 9, 0))
    for code in (a, b, d, e):
        engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    assert_consistent(engine, clock)  # accepted: running, in the specialists' lane

    clock.set(vn(2026, 3, 2, 14, 0))
    engine.complete_work_item(
        b,
        "verify_register",
        {"found": True, "register_ref": "Sổ gốc 2015, số 1", "copies": 1},
        engine.actor("specialist"),
    )
    engine.complete_work_item(c, "receipt_check", SUPPLEMENT, engine.actor("clerk"))
    assert_consistent(engine, clock)  # another lane; a supplementation request at the desk

    # A fee wait (clock paused), then paid (running again).
    unpaid = _online(engine, "Trung tâm Sao Mai", "language_centre_operation")
    paid = _online(engine, "Trung tâm Hoa Sen", "language_centre_operation")
    for code in (unpaid, paid):
        engine.complete_work_item(code, "receipt_check", CENTRE_ACCEPT, engine.actor("clerk"))
    assert_consistent(engine, clock)
    clock.set(vn(2026, 3, 2, 15, 20))
    engine.complete_work_item(paid, "pay_fee", PAID, engine.actor("citizen"))
    assert_consistent(engine, clock)

    # Withdrawal asked (status 7), then confirmed (status 8: off the board).
    engine.request_withdrawal(d, "Đã nhận bản sao ở nơi khác", engine.actor("clerk"), PAPER)
    assert_consistent(engine, clock)
    engine.confirm_withdrawal(d, engine.actor("head"))
    assert_consistent(engine, clock)

    # Finished: approved, then returned.
    engine.complete_work_item(b, "approve_copy", {"approved": True}, engine.actor("head"))
    assert_consistent(engine, clock)
    engine.complete_work_item(
        b, "return_result", {"method": "in_person", "returned_to": "Bình"}, engine.actor("clerk")
    )
    assert_consistent(engine, clock)

    # SLA timers fire in a batch once the deadlines pass (no board input changes: nothing moves).
    clock.set(vn(2026, 3, 4, 10, 0))
    assert engine.fire_due_timers(limit=1000, batch=64).fired > 0
    assert_consistent(engine, clock)

    # An apology gives a late dossier a new appointment.
    engine.apologise(a, clock.now() + timedelta(days=2), "Chờ xác minh", "Phòng QLCL", engine.actor("head"))
    assert_consistent(engine, clock)

    # A new day off inside running dossiers' clocks: their amber moments move, appointments stay.
    with engine.db.read() as session:
        before = dict(
            session.execute(select(Case.code, Case.amber_at).where(Case.board_group == board.RUNNING)).all()
        )
    engine.add_calendar_override(
        date(2026, 3, 5), "off", "Thông báo số 12/TB-UBND ngày 01/03/2026", engine.actor("admin")
    )
    with engine.db.read() as session:
        after = dict(
            session.execute(select(Case.code, Case.amber_at).where(Case.board_group == board.RUNNING)).all()
        )
    assert before != after
    assert_consistent(engine, clock)

    # Folding the deltas changes nothing the board shows, and leaves fewer rows.
    with engine.db.read() as session:
        rows = int(session.scalar(select(func.count()).select_from(BoardCount)) or 0)
    assert engine.compact_board() < rows
    assert_consistent(engine, clock)


def test_a_rebuild_restores_the_read_model_from_the_dossiers(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 8, 0))
    codes = [_online(engine, f"Người {n}") for n in range(4)]
    for code in codes[:3]:
        engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    with engine.db.unit_of_work() as session:
        session.execute(update(Case).values(board_group=None, board_lanes=None, amber_at=None))
        session.execute(BoardCount.__table__.delete())
    problems = engine.check_board()
    # every dossier's columns, and the status counts (the board's are empty, and so is its recount)
    assert len([p for p in problems if p.startswith("case ")]) == 4
    assert sorted(p for p in problems if not p.startswith("case ")) == [
        "open in status ('diploma_copy', 1): kept 0 != recount 1",
        "open in status ('diploma_copy', 4): kept 0 != recount 3",
    ]
    with engine.db.unit_of_work() as session:
        changed = board.rebuild(session, engine.calendar, engine.settings.amber_threshold, clock.now())
    assert changed == 4
    assert_consistent(engine, clock)
    clock.set(vn(2026, 3, 3, 16, 0))  # past the folded hours: still right
    assert_consistent(engine, clock)


def test_the_check_finds_a_count_out_of_step(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 8, 0))
    code = _online(engine, "Lạc")
    engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    assert engine.check_board() == []
    with engine.db.unit_of_work() as session:
        board.write(session, [board._row(("diploma_copy", board.RUNNING, "", board.OPEN, board.EPOCH), 1)])
    assert any("counts" in p for p in engine.check_board())


def test_the_check_finds_a_status_count_out_of_step(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 8, 0))
    _online(engine, "Lạc")
    assert engine.check_board() == [] and engine.desk_page(1).total == 1
    with engine.db.unit_of_work() as session:
        board.write(session, [board._row(("diploma_copy", 9, "", board.STATUS, board.EPOCH), 1)])
    assert engine.desk_page(9).total == 1  # the desk reads the kept count ...
    # ... and the audit sees it out of step
    assert any("open in status ('diploma_copy', 9)" in p for p in engine.check_board())


def test_a_desk_search_counts_its_own_matches(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 3, 2, 8, 0))
    for name in ("Nguyễn An", "Trần Bình", "Nguyễn Chi"):
        _online(engine, name)
    assert engine.desk_page(1).total == 3
    assert engine.desk_page(1, search="nguyen").total == 2


def test_migration_0016_backfills_the_status_counts(engine: Engine, clock: FixedClock, db_url: str) -> None:
    """Dossiers stored before revision 0016 get their status counts from its backfill: taken back
    to 0015 (the status rows gone), then upgraded again."""
    from tests.engine.helpers import downgrade_to

    clock.set(vn(2026, 3, 2, 8, 0))
    codes = [_online(engine, f"Cũ {n}") for n in range(3)]
    engine.complete_work_item(codes[0], "receipt_check", ACCEPT, engine.actor("clerk"))
    try:
        downgrade_to(engine.db, "0015")
        with engine.db.read() as session:
            assert board.status_totals(session) == {}
    finally:
        engine.db.migrate()
    assert engine.check_board() == []
    assert engine.desk_page(1).total == 2
    assert_consistent(engine, clock)


def test_migration_0012_backfills_the_read_model_of_stored_dossiers(
    engine: Engine, clock: FixedClock, db_url: str
) -> None:
    """Dossiers stored before revision 0012 get their board columns and counts from its backfill:
    the model is taken back to 0011 (columns and counts gone), then upgraded again."""
    from tests.engine.helpers import downgrade_to

    clock.set(vn(2026, 3, 2, 8, 0))
    codes = [_online(engine, f"Cũ {n}") for n in range(3)]
    for code in codes[:2]:
        engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    expected = _shown(engine.sla_board())
    try:
        downgrade_to(engine.db, "0011")
    finally:
        engine.db.migrate()
    assert engine.check_board() == []
    assert _shown(engine.sla_board()) == expected
    assert_consistent(engine, clock)


def test_recent_late_receipts_walk_their_partial_index(engine: Engine) -> None:
    if engine.db.engine.dialect.name != "sqlite":
        return  # PostgreSQL chooses by its statistics; the SQLite planner by the spelling
    from sqlalchemy import text

    from engine.models import LATE_RECEIPT

    with engine.db.read() as session:
        plan = " ".join(
            str(r[-1])
            for r in session.execute(
                text(
                    f"EXPLAIN QUERY PLAN SELECT id FROM cases WHERE {LATE_RECEIPT} "
                    "AND receipt_due_at >= '2026-01-01' AND receipt_due_at < '2026-02-01' "
                    "ORDER BY receipt_due_at, id"
                )
            )
        )
    assert "ix_cases_late_receipt" in plan


def test_audit_board_reports_the_read_model_sound_or_not(
    engine: Engine, clock: FixedClock, capsys: Any
) -> None:
    import json

    import run

    clock.set(vn(2026, 3, 2, 8, 0))
    code = _online(engine, "Kiểm")
    engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))

    def audit_board(*extra: str) -> tuple[int, Any]:
        status = run.main(
            ["audit", "board", "--json", "--db", engine.db.url, "--now", "2026-03-02T10:00:00+07:00", *extra]
        )
        return status, json.loads(capsys.readouterr().out)

    assert audit_board() == (0, {"ok": True, "problems": [], "repaired": []})
    with engine.db.unit_of_work() as session:
        session.execute(update(Case).where(Case.code == code).values(board_lanes=None))
    status, report = audit_board()
    assert status != 0 and not report["ok"] and len(report["problems"]) >= 1
    assert audit_board() == (status, report)  # a check changes nothing
    status, repaired = audit_board("--repair")
    assert status == 0 and repaired == {"ok": True, "problems": [], "repaired": report["problems"]}
    assert audit_board() == (0, {"ok": True, "problems": [], "repaired": []})


def test_the_board_sums_its_rows_unless_asked_about_a_folded_hour(
    engine: Engine, clock: FixedClock, monkeypatch: Any
) -> None:
    """After a fold (even two racing ones, each leaving its mark) the board sums its rows for a
    moment after the fold, and recounts from the dossiers for a moment before it."""
    clock.set(vn(2026, 3, 2, 8, 0))
    code = _online(engine, "Gấp")
    engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    clock.set(vn(2026, 3, 2, 15, 30))
    engine.compact_board()
    with engine.db.unit_of_work() as session:  # a second compactor's mark, an hour older
        board.write(session, [board._mark(board.bucket(clock.now()) - timedelta(hours=1))])
    expected = _reference(engine, clock.now())
    recounts: list[datetime] = []
    recount = board.recount

    def counted(session: Any, now: datetime) -> Any:
        recounts.append(now)
        return recount(session, now)

    monkeypatch.setattr(board, "recount", counted)
    assert _shown(engine.sla_board()) == expected and recounts == []
    clock.set(vn(2026, 3, 2, 9, 15))  # before the fold: its hours cannot be split any more
    assert _shown(engine.sla_board()) == _reference(engine, clock.now()) and len(recounts) == 1


def test_init_db_rebuilds_the_board_only_when_its_settings_change(
    engine: Engine, clock: FixedClock, monkeypatch: Any
) -> None:
    """A release runs init-db: the board is rebuilt the first time, and again only after the
    amber threshold (or the desk hours, the board's rules) changed; then it is sound again."""
    import dataclasses

    clock.set(vn(2026, 3, 2, 8, 0))
    code = _online(engine, "Phát hành")
    engine.complete_work_item(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    rebuilds: list[float] = []
    rebuild = board.rebuild

    def counted(session: Any, calendar: Any, threshold: float, now: datetime | None = None) -> int:
        rebuilds.append(threshold)
        return rebuild(session, calendar, threshold, now)

    monkeypatch.setattr(board, "rebuild", counted)
    engine.init_db(load_library=False, seed_users=False)
    engine.init_db(load_library=False, seed_users=False)
    assert rebuilds == [0.2]  # the first build is recorded; the second release changes nothing
    engine.settings = dataclasses.replace(engine.settings, amber_threshold=0.5)
    assert any("board columns" in p for p in engine.check_board())  # amber moments of 0.2
    engine.init_db(load_library=False, seed_users=False)
    assert rebuilds == [0.2, 0.5]
    assert_consistent(engine, clock)
    engine.settings = dataclasses.replace(
        engine.settings, calendar=dataclasses.replace(engine.settings.calendar, weekend=(6,))
    )
    engine.init_db(load_library=False, seed_users=False)
    assert rebuilds == [0.2, 0.5, 0.5]  # new desk days
