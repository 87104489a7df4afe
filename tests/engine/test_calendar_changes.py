"""Which open dossiers a calendar change reads: only those with a deadline whose span crosses the day."""

from __future__ import annotations

from datetime import date

from engine.calendar_changes import affected_case_ids
from engine.clock import FixedClock
from engine.models import Case
from engine.service import Engine
from tests.support.fixtures import vn

ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}


def _online(engine: Engine, name: str) -> str:
    request = {"procedure_id": "diploma_copy", "applicant": {"name": name}, "channel": 2}
    return engine.start_case(request, engine.actor("citizen")).code


def test_only_open_dossiers_whose_deadlines_span_the_day_are_read(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 11, 25, 9, 0))  # Wednesday: receipt due 09:30 Thursday 26/11
    early = _online(engine, "Nộp thứ Tư")
    clock.set(vn(2026, 11, 27, 14, 0))  # Friday before 15:00: accepted, appointment 17:00 the same day
    done = _online(engine, "Đã tiếp nhận")
    engine.complete_task(done, "receipt_check", ACCEPT, engine.actor("clerk"))
    clock.set(vn(2026, 11, 27, 15, 0))  # Friday: receipt due 15:30 Monday 30/11
    spanning = _online(engine, "Nộp thứ Sáu")
    clock.set(vn(2026, 12, 1, 9, 0))
    later = _online(engine, "Nộp sau ngày nghỉ")  # starts after 30/11
    with engine.db.read() as session:
        ids = affected_case_ids(session, date(2026, 11, 30), "Asia/Ho_Chi_Minh")
        codes = {session.get(Case, i).code for i in ids}  # type: ignore[union-attr]
    assert codes == {spanning}
    assert not codes & {early, done, later}
    with engine.db.read() as session:
        codes = {
            session.get(Case, i).code
            for i in affected_case_ids(session, date(2026, 11, 27), "Asia/Ho_Chi_Minh")
        }  # type: ignore[union-attr]
    # 27/11: the Friday dossiers' receipt steps and the accepted one's appointment (17:00 27/11).
    assert codes == {spanning, done}
