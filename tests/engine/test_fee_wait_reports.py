"""A fee wait (status 6) is its own state in every report: never a supplementation (issue 12.4).

Real engine on SQLite and PostgreSQL, the library's fee-bearing procedure
(language_centre_operation: the citizen pays right after acceptance, status 6 pauses the clock).
"""

from __future__ import annotations

from datetime import date

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import vn

ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
PAID = {"amount": 1000000, "payment_method": "online", "transaction_ref": "DVCQG-260210-000123"}


def accepted(engine: Engine, name: str) -> str:
    code = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": name}}, engine.actor("clerk")
    ).code
    engine.complete_task(code, "receipt_check", ACCEPT, engine.actor("clerk"))
    return code


def test_a_fee_wait_is_never_a_supplementation(engine: Engine, clock: FixedClock) -> None:
    clock.set(vn(2026, 2, 10, 9, 0))
    # Paid: accepted 10/02 09:00 → appointment 10/03 09:00 (15 working days across Tết); paid the
    # same day at 15:20, then left open past its appointment.
    paid = accepted(engine, "Trung tâm Hoa Sen")
    assert engine.get_case(paid).status == 6
    clock.set(vn(2026, 2, 10, 15, 20))
    engine.complete_task(paid, "pay_fee", PAID, engine.actor("citizen"))
    assert engine.get_case(paid).status == 4
    # Unpaid: accepted 02/03 09:00 and still waiting for the fee at the end of March.
    clock.set(vn(2026, 3, 2, 9, 0))
    unpaid = accepted(engine, "Trung tâm Sao Mai")

    clock.set(vn(2026, 3, 20, 10, 0))
    board = engine.sla_board()
    row = next(p for p in board.procedures if p.procedure_id == "language_centre_operation")
    # The paid one is past its (extended) appointment; the unpaid one waits for the fee, clock paused.
    assert (row.open, row.breached, row.paused, row.waiting_payment) == (2, 1, 0, 1)
    assert [d.code for d in board.breached] == [paid]

    report = engine.periodic_report(2026, "q1")
    lines = report.by_procedure["language_centre_operation"]
    assert (lines.supplemented_dossiers, lines.supplement_requests, lines.waiting_supplement) == (0, 0, 0)
    assert (lines.waiting_payment, lines.in_progress_overdue, lines.in_progress_on_time) == (1, 1, 0)
    table = report.table()
    waiting_column = table.headers.index("Đang chờ thực hiện nghĩa vụ tài chính")
    assert table.rows[-1][waiting_column] == 1

    register = engine.dossier_register(date(2026, 2, 1), date(2026, 3, 31))
    notes = {r[1]: r[-1] for r in register.rows}
    assert "bổ sung" not in notes[paid] and "bổ sung" not in notes[unpaid]
    assert notes[paid] == "Đã thực hiện nghĩa vụ tài chính"
    assert notes[unpaid] == "Chờ thực hiện nghĩa vụ tài chính"

    card = engine.scorecard_766(date(2026, 1, 1), date(2026, 3, 31))
    on_time = card.indicator("2.1")
    # The paid dossier is open at 31/03 past its appointment: late. The unpaid one is measured at
    # its fee request (its clock is paused), well before its appointment: on time.
    assert (on_time.numerator, on_time.denominator) == (1, 2)
    assert on_time.detail["late"] == [paid]
