"""The report facts read model (issue 13) gives exactly the figures of the histories.

Every period's report (every period name, every plan's window) and every day's register are
computed twice on the same database: from every dossier's history (``audit_store.load_facts``, the
path the reports took before the read model) and by the engine from ``dossier_facts``; the cached
facts themselves must equal the histories' facts. Over the hand-computed 24-dossier dataset of
test_report_dataset stored as events, and after every kind of change that feeds the facts, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from engine import audit_store, facts_store, reports
from engine.clock import FixedClock
from engine.feedback import file_feedback
from engine.models import Case, CaseEvent, DossierFactsRow, ProcedureVersion, Rating, ReportRollupRow
from engine.outbox import STATUS_SYNC
from engine.reports import DossierFacts
from engine.service import Engine
from tests.engine import test_report_dataset as hand
from tests.support.fixtures import vn

FAR = datetime(2100, 1, 1, tzinfo=UTC)
RULES = (None, *reports.CUTOFF_PRESETS.values())


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def history_facts(engine: Engine) -> dict[str, DossierFacts]:
    with engine.db.read() as session:
        return {f.code: f for f in audit_store.load_facts(session, FAR)}


def stored_facts(engine: Engine) -> dict[str, DossierFacts]:
    with engine.db.read() as session:
        rows = session.scalars(select(DossierFactsRow.facts))
        return {f.code: f for f in map(facts_store.facts_from_json, rows)}


def assert_same_as_histories(
    engine: Engine, first: date, last: date, years: tuple[int, ...] = (2026,)
) -> None:
    """Every report and register page from the read model equals the one from the histories."""
    every = history_facts(engine)
    agency = engine.settings.agency_code
    for year in years:
        for period in reports.PERIOD_MONTHS:
            for rule in RULES:
                expected = reports.periodic_report_for(every.values(), year, period, rule)
                assert engine.periodic_report(year, period, rule) == expected, (year, period, rule)
    for day in _days(first, last):
        assert engine.dossier_register(day, day) == reports.register(
            every.values(), day, day, agency=agency
        ), day
    whole = reports.register(every.values(), first, last, agency=agency)
    assert engine.dossier_register(first, last) == whole
    # The pages of the whole range, two rows each, are the register cut in order and numbered on.
    rows: list[tuple[Any, ...]] = []
    after = None
    while True:
        table, page = engine.dossier_register_page(first, last, after, size=2)
        assert page.total == len(whole.rows) and page.first_number == len(rows) + 1
        rows += table.rows
        if page.next_after is None:
            break
        after = page.next_after
    assert tuple(rows) == whole.rows
    # The cache itself: the same facts, field for field (ratings, complaints and sync included).
    assert stored_facts(engine) == every


# ------------------------------------------------------------------------------------ the 24 dossiers


def store_histories(engine: Engine, dataset: list[tuple[hand.History, dict[str, Any]]]) -> None:
    """The dataset's events as the engine stores them (one dossier each), with their ratings."""
    with engine.db.unit_of_work() as session:
        version = session.scalar(select(ProcedureVersion.id).order_by(ProcedureVersion.id).limit(1))
        for history, sources in dataset:
            start = history.events[0]
            case = Case(
                code=history.code,
                procedure_id=history.procedure,
                procedure_version_id=version,
                applicant_name=history.code,
                applicant={"name": history.code},
                channel=int(start.payload["channel"]),
                status=history.status,
                submitted_at=start.at,
                state="",
                last_seq=len(history.events),
            )
            session.add(case)
            session.flush()
            session.execute(
                insert(CaseEvent),
                [
                    {
                        "case_id": case.id,
                        "seq": e.seq,
                        "at": e.at,
                        "actor": e.actor,
                        "kind": e.kind,
                        "task_id": e.task_id,
                        "element_id": e.element_id,
                        "status_from": e.status_from,
                        "status_to": e.status_to,
                        "payload": dict(e.payload),
                        "prev_hash": "",
                        "hash": "",
                    }
                    for e in history.events
                ],
            )
            if sources.get("rating"):
                session.add(
                    Rating(
                        case_id=case.id,
                        procedure_id=history.procedure,
                        score=sources["rating"],
                        comment="",
                        rated_at=sources["rated_at"],
                    )
                )


def test_the_hand_computed_dataset_reads_the_same_from_the_read_model(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    folded = hand.dataset()
    # The dataset as written by hand: its histories, not yet folded (History.facts returns them).
    monkeypatch.setattr(hand.History, "facts", lambda self, **sources: (self, sources))
    dataset: list[Any] = hand.dataset()
    store_histories(engine, dataset)
    assert_same_as_histories(engine, date(2026, 1, 1), date(2026, 7, 2), years=(2025, 2026))
    assert len(stored_facts(engine)) == 24
    # Stored and read back, the dataset's totals are those test_report_dataset worked out by hand.
    for quarter in ("q1", "q2"):
        hand_total = reports.periodic_report_for(folded, 2026, quarter).total
        assert hand.line(engine.periodic_report(2026, quarter).total) == hand.line(hand_total)


def test_a_rebuild_recomputes_every_dossier_and_leaves_none_stale(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hand.History, "facts", lambda self, **sources: (self, sources))
    store_histories(engine, hand.dataset())
    with engine.db.unit_of_work() as session:
        assert facts_store.has_stale(session)
        assert facts_store.rebuild(session) == 24
        assert not facts_store.has_stale(session)
        assert facts_store.rebuild(session) == 24  # a rebuild recomputes all, even when fresh
    assert stored_facts(engine) == history_facts(engine)


# ------------------------------------------------------------------------------------ every change

STEPS = (
    ("receipt_check", "clerk", {"decision": "accept", "checked_documents": ["TP1", "TP2"]}),
    ("verify_register", "specialist", {"found": True, "register_ref": "A", "copies": 1}),
    ("approve_copy", "head", {"approved": True}),
    ("return_result", "clerk", {"method": "electronic", "returned_to": "Người nộp"}),
)
CENTRE_ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
PAPER = ("don-rut-ho-so.pdf", b"%PDF-1.4 don rut ho so, co chu ky")
PAID = {"amount": 1000000, "payment_method": "online", "transaction_ref": "DVCQG-260210-000123"}


def test_every_kind_of_change_reaches_the_read_model(engine: Engine, clock: FixedClock) -> None:
    def same() -> None:
        assert_same_as_histories(engine, date(2026, 3, 1), date(2026, 3, 14))

    clock.set(vn(2026, 3, 2, 9, 0))
    same()  # nothing yet
    copy = engine.start_case(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": "Lê Văn Bảo", "phone": "0912345678"},
            "channel": 2,
        },
        engine.actor("citizen"),
    )
    same()  # a dossier opened: in the register at once
    for element, user, data in STEPS:
        clock.advance(timedelta(minutes=40))
        engine.complete_task(copy.code, element, data, engine.actor(user))
        same()  # every step (received, handed over, result, returned)
    clock.advance(timedelta(hours=1))
    engine.rate(copy.code, copy.secret, 1, "Chậm")
    same()  # a rating (outside the history)
    file_feedback(
        engine,
        {
            "kind": "complaint",
            "content": "Hẹn trả kết quả nhưng chưa có.",
            "name": "Lê Văn Bảo",
            "contact": "0912345678",
            "case_code": copy.code,
            "case_secret": copy.secret,
        },
    )
    same()  # a complaint about the dossier (outside the history)
    engine.deliver_outbox({STATUS_SYNC: lambda message: {}})
    same()  # portal sync delivered (outside the history)

    clock.set(vn(2026, 3, 3, 9, 0))
    late = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Phạm Thị Cúc"}, "channel": 1},
        engine.actor("clerk"),
    )
    engine.complete_task(late.code, *STEPS[0][::2], engine.actor("clerk"))
    engine.complete_task(late.code, *STEPS[1][::2], engine.actor("specialist"))
    same()
    clock.set(vn(2026, 3, 4, 9, 0))
    engine.apologise(late.code, vn(2026, 3, 6, 16, 0), "Chậm xác minh", "Phòng QLCL", engine.actor("head"))
    same()  # an apology for lateness moves the appointment
    engine.apologise(late.code, None, "Sai tên", "Một cửa", engine.actor("head"), kind="mistake")
    same()
    engine.add_calendar_override(
        date(2026, 3, 6), "off", "Thông báo số 12/TB-UBND ngày 04/03/2026", engine.actor("admin")
    )
    same()  # a day off declared: open dossiers' appointments move

    centre = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Sao Mai"}},
        engine.actor("clerk"),
    )
    engine.complete_task(centre.code, "receipt_check", CENTRE_ACCEPT, engine.actor("clerk"))
    same()  # waiting for the fee
    clock.advance(timedelta(hours=2))
    engine.complete_task(centre.code, "pay_fee", PAID, engine.actor("citizen"))
    same()  # paid

    refused = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Sai thủ tục"}, "channel": 2},
        engine.actor("citizen"),
    )
    engine.complete_task(
        refused.code, "receipt_check", {"decision": "refuse", "reason": "Sai thủ tục"}, engine.actor("clerk")
    )
    same()  # refused at the desk
    withdrawn = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Rút"}, "channel": 1}, engine.actor("clerk")
    )
    engine.complete_task(withdrawn.code, *STEPS[0][::2], engine.actor("clerk"))
    engine.request_withdrawal(withdrawn.code, "Không cần nữa", engine.actor("clerk"), PAPER)
    same()  # a withdrawal asked

    before = engine.actor("specialist").unit
    try:
        engine.change_account_unit("specialist", "Phòng Khảo thí", engine.actor("admin"))
        same()  # the unit of whoever first worked a dossier is its unit in the reports
    finally:
        engine.change_account_unit("specialist", before, engine.actor("admin"))
    same()


def test_a_change_committed_during_a_refresh_stays_stale(engine: Engine, clock: FixedClock) -> None:
    """A refresh clears a mark only if nothing moved since it read it: a rating recorded between
    the refresh's read and its write is not lost."""
    clock.set(vn(2026, 3, 2, 9, 0))
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Đua"}, "channel": 2}, engine.actor("citizen")
    ).code
    with engine.db.read() as session:
        row = session.execute(
            select(Case.id, Case.code, Case.procedure_version_id, Case.last_seq, Case.facts_seq)
        ).one()
    with engine.db.unit_of_work() as session:
        facts_store.mark_stale(session, row.id)  # a change outside the history, after the read
    with engine.db.unit_of_work() as session:
        facts_store.store(session, [row])  # the refresh's write of what it read before
        assert facts_store.has_stale(session)
    with engine.db.unit_of_work() as session:
        assert facts_store.refresh(session) == 1
        assert not facts_store.has_stale(session)
    assert code in stored_facts(engine)


def test_facts_survive_their_json_form_exactly() -> None:
    for f in hand.dataset():
        assert facts_store.facts_from_json(facts_store.facts_to_json(f)) == f


def test_the_migration_backfills_the_facts_of_existing_dossiers(engine: Engine, clock: FixedClock) -> None:
    """init-db on a database from before the read model: migration 0013 computes every dossier's
    facts from its history, so the first report finds nothing stale."""
    from tests.engine.helpers import downgrade_to, revision_before

    clock.set(vn(2026, 3, 2, 9, 0))
    for n in range(3):
        code = engine.start_case(
            {"procedure_id": "diploma_copy", "applicant": {"name": f"Cũ {n}"}, "channel": 2},
            engine.actor("citizen"),
        ).code
        for element, user, data in STEPS[: n + 1]:
            clock.advance(timedelta(minutes=30))
            engine.complete_task(code, element, data, engine.actor(user))
    try:
        # the schema before the read model (its tables dropped)
        downgrade_to(engine.db, revision_before(engine.db, "0013"))
        engine.db.migrate()  # init-db: upgrade with the backfills (0013 facts, 0015 report rollup)
        with engine.db.read() as session:
            assert not facts_store.has_stale(session)
            assert session.scalar(select(func.count()).select_from(ReportRollupRow))
        assert len(stored_facts(engine)) == 3 and stored_facts(engine) == history_facts(engine)
        every = history_facts(engine).values()
        assert engine.periodic_report(2026, "m3") == reports.periodic_report_for(every, 2026, "m3")
    finally:
        engine.db.migrate()


def test_a_limited_refresh_leaves_the_rest_stale_and_the_worker_refreshes_them_round_by_round(
    engine: Engine, clock: FixedClock
) -> None:
    """The worker's idle pass recomputes one round at a time (timers are looked at between
    rounds) and keeps going without sleeping until nothing is stale."""
    import threading

    from engine import worker

    clock.set(vn(2026, 3, 2, 9, 0))
    for n in range(5):
        engine.start_case(
            {"procedure_id": "diploma_copy", "applicant": {"name": f"Lượt {n}"}, "channel": 2},
            engine.actor("citizen"),
        )
    assert engine.refresh_report_facts(limit=2, wait=False) == 2
    with engine.db.read() as session:
        assert facts_store.has_stale(session)
    rounds: list[int] = []
    stop = threading.Event()
    original = engine.refresh_report_facts

    def counted(limit: int | None = None, wait: bool = True) -> int:
        done = original(limit=1, wait=wait)  # one dossier a round, to see the rounds
        rounds.append(done)
        if not done:
            stop.set()  # the first idle pass with nothing left ends the test's worker
        return done

    engine.refresh_report_facts = counted  # type: ignore[method-assign]
    worker.run_worker(engine, interval=30, stop=stop)  # would sleep 30 s if it slept between rounds
    assert rounds == [1, 1, 1, 0]
    with engine.db.read() as session:
        assert not facts_store.has_stale(session)


def test_an_idle_refresh_does_not_queue_behind_one_under_way(pg_engine: Engine, clock: FixedClock) -> None:
    """PostgreSQL: while a refresh holds the lock, a worker's refresh (``wait`` False) returns 0 at
    once and leaves the dossiers stale; a report's refresh (the default) would wait for it."""
    engine = pg_engine
    clock.set(vn(2026, 3, 2, 9, 0))
    engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Chờ"}, "channel": 2}, engine.actor("citizen")
    )
    with engine.db.unit_of_work() as holder:
        assert facts_store.serialise(holder, wait=False)  # a refresh under way
        assert engine.refresh_report_facts(wait=False) == 0
    assert engine.refresh_report_facts(wait=False) == 1  # the lock went with its transaction
