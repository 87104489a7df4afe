"""A periodic report reads only the dossiers that can count in its window (issue 13): those with an
event in or after it, or with a history that never ended; the figures equal those over every
dossier's history, for every period, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from engine import audit_store, reports
from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import vn

STEPS = (
    ("receipt_check", "clerk", {"decision": "accept", "checked_documents": ["TP1", "TP2"]}),
    ("verify_register", "specialist", {"found": True, "register_ref": "A", "copies": 1}),
    ("approve_copy", "head", {"approved": True}),
    ("return_result", "clerk", {"method": "electronic", "returned_to": "Người nộp"}),
)


def _dossier(engine: Engine, clock: FixedClock, name: str, steps: int) -> str:
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": name}, "channel": 2}, engine.actor("citizen")
    ).code
    for element, user, data in STEPS[:steps]:
        clock.advance(timedelta(minutes=30))
        engine.complete_task(code, element, data, engine.actor(user))
    return code


def test_the_report_leaves_out_only_dossiers_settled_before_its_window(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(vn(2026, 1, 12, 9, 0))
    settled_in_january = _dossier(engine, clock, "Xong tháng Một", 4)
    received_in_january = _dossier(engine, clock, "Còn mở từ tháng Một", 1)  # carried over later
    waiting_at_desk = _dossier(engine, clock, "Chờ tiếp nhận", 0)
    clock.set(vn(2026, 2, 16, 9, 0))
    settled_in_february = _dossier(engine, clock, "Xong tháng Hai", 4)
    refused = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Bị từ chối"}, "channel": 2},
        engine.actor("citizen"),
    ).code
    clock.advance(timedelta(minutes=30))
    engine.complete_task(
        refused, "receipt_check", {"decision": "refuse", "reason": "Sai thủ tục"}, engine.actor("clerk")
    )
    clock.set(vn(2026, 3, 9, 9, 0))
    # Settled in January, but a mistake apologised for in March: an event in March's window.
    engine.apologise(
        settled_in_january, None, "Sai sót thông tin", "Phòng QLCL", engine.actor("head"),
        kind="mistake",
    )  # fmt: skip
    clock.set(vn(2026, 4, 6, 9, 0))
    for period in ("m1", "m2", "m3", "m4", "q1", "q2", "h1", "year"):
        first, last = reports.period_window(2026, period)
        start, end = reports.local_bounds(first, last)
        with engine.db.read() as session:
            every = audit_store.load_facts(session, end)
            read = audit_store.load_facts(session, end, active_since=start)
        expected = reports.periodic_report_for(every, 2026, period)
        assert engine.periodic_report(2026, period) == expected, period
        assert {f.code for f in read} <= {f.code for f in every}
        if period == "m4":
            # April: the two dossiers never settled (one received, one still at the desk).
            assert {f.code for f in read} == {received_in_january, waiting_at_desk}
        if period == "m3":
            assert settled_in_january in {f.code for f in read}  # its apology falls in March
            assert settled_in_february not in {f.code for f in read} and refused not in {f.code for f in read}
