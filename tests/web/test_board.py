"""The SLA board: breached / approaching per procedure, receipt breaches, apology status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.clock import FixedClock
from engine.service import Engine
from tests.web.conftest import ACCEPT, submit_online


def test_board_counts_breaches_approaching_and_receipt_breaches(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    unreceived = submit_online(engine, "Chưa tiếp nhận")  # 08:00 Monday: receipt due Tuesday 08:30
    late = submit_online(engine, "Hồ sơ trễ")
    engine.complete_work_item(late.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    clock.advance(timedelta(hours=7))
    close = submit_online(engine, "Hồ sơ sắp hạn")  # 15:00 Monday: after the cut-off
    engine.complete_work_item(close.code, "receipt_check", ACCEPT, engine.actor("clerk"))
    # Tuesday 15:45: the first is past its same-day appointment (17:00 Monday); the second, accepted
    # after 15:00, is due at 17:00 Tuesday: 1 h 15 min left of 9.5 working hours (amber, ≤ 20 %);
    # the third has waited more than 8 working hours at the desk.
    clock.set(clock.now() + timedelta(days=1, minutes=45))
    board = engine.sla_board()
    counts = {p.procedure_id: p for p in board.procedures}["diploma_copy"]
    assert (counts.breached, counts.approaching, counts.receipt_breached) == (1, 1, 1)
    assert [d.code for d in board.breached] == [late.code]
    assert [d.code for d in board.approaching] == [close.code]
    assert [d.code for d in board.receipt_breaches] == [unreceived.code]
    units = {u.unit: u for u in board.units}
    assert units["Chuyên viên"].open == 2 and units["Chuyên viên"].breached == 1
    assert units["Chuyên viên"].approaching == 1
    page = as_user("director").get("/board/").get_data(as_text=True)
    assert 'id="board-units"' in page
    assert "Chưa có phiếu xin lỗi" in page and late.code in page and unreceived.code in page
    engine.apologise(
        late.code, clock.now() + timedelta(days=2), "Chờ xác minh", "Phòng QLCL", engine.actor("head")
    )
    page = as_user("auditor").get("/board/").get_data(as_text=True)
    rescheduled = page.split('id="board-rescheduled"')[1].split("</table>")[0]
    assert late.code in rescheduled and "Đã xin lỗi (1)" in rescheduled
    assert engine.sla_board().procedures[0].rescheduled == 1
    api = as_user("clerk").get("/api/board").get_json()
    assert api["receipt_breaches"][0]["code"] == unreceived.code
