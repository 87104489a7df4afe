"""Electronic receipt numbers stay unique when two payments of one dossier meet (the second is refused)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import ConflictError
from engine.models import Case, Payment
from engine.service import Engine

FEE = 1_000_000  # language_centre_operation's fee (bpmn/)


def _fee_case(engine: Engine) -> str:
    request = {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Sao Mai"}}
    return engine.start_case(request, engine.actor("clerk")).code


def test_cash_payments_number_their_receipts_per_dossier(engine: Engine) -> None:
    code = _fee_case(engine)
    first = engine.record_cash_payment(code, FEE, engine.actor("clerk"))
    second = engine.record_cash_payment(code, FEE, engine.actor("clerk"))
    assert (first.receipt_number, second.receipt_number) == (f"BL-{code}-1", f"BL-{code}-2")


def test_a_receipt_number_taken_meanwhile_is_a_conflict_that_changes_nothing(engine: Engine) -> None:
    """The number is counted per dossier; a payment committed between the count and the insert (here:
    a row already holding the next number) must give a 409-class refusal, not a database error."""
    code = _fee_case(engine)
    other = _fee_case(engine)
    now = engine.clock.now()
    with engine.db.unit_of_work() as session:
        other_id = session.scalar(select(Case.id).where(Case.code == other))
        session.add(
            Payment(
                case_id=other_id, transaction_id="TM-racing", nonce="cash-racing", amount=FEE, channel=0,
                paid_at=now, recorded_at=now, method="cash", receipt_number=f"BL-{code}-1",
            )
        )  # fmt: skip
    events = len(engine.events(code))

    with pytest.raises(ConflictError, match="thử lại"):
        engine.record_cash_payment(code, FEE, engine.actor("clerk"))

    assert len(engine.events(code)) == events
    assert engine.case_payments(code) == []
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
