"""Fee payments confirmed by the payment gateway's callback (nghĩa vụ tài chính, DVCQG status 6).

The callback's signature, timestamp and nonce are checked by ``handlers.payment.verify_callback``
before anything reaches the engine; here the payment is recorded once. The nonce column is unique,
so a replayed callback (same nonce) is refused even inside the timestamp window; a gateway that
re-sends a payment with a fresh nonce gets the recorded payment back instead of a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .cases import CaseRuntime
from .domain.vocab import EventKind
from .errors import ConflictError, ValidationError
from .models import Case, Payment
from .users import SYSTEM


@dataclass(frozen=True)
class PaymentConfirmation:
    """A verified gateway callback: which dossier, which transaction, how much, when."""

    case_code: str
    transaction_id: str
    nonce: str
    amount: int
    paid_at: datetime
    channel: int = 2  # 1 paid on the national portal, 2 on the provincial gateway


class PaymentView(BaseModel):
    id: int
    case_code: str
    transaction_id: str
    amount: int
    channel: int
    paid_at: datetime
    recorded_at: datetime
    duplicate: bool = False


def record_payment(
    runtime: CaseRuntime, session: Session, case: Case, paid: PaymentConfirmation, now: datetime
) -> PaymentView:
    """Record a confirmed payment and a ``fee_paid`` event; refuse replays, absorb gateway retries."""
    if paid.amount <= 0:
        raise ValidationError("Số tiền thanh toán không hợp lệ")
    if paid.channel not in (1, 2):
        raise ValidationError("Kênh thanh toán không hợp lệ (1 Cổng DVCQG, 2 cổng tỉnh)")
    seen = session.scalars(
        select(Payment).where(or_(Payment.nonce == paid.nonce, Payment.transaction_id == paid.transaction_id))
    ).all()
    if any(p.nonce == paid.nonce for p in seen):
        raise ConflictError("Thông báo thanh toán đã được xử lý (phát lại bị từ chối)")
    if seen:
        earlier = seen[0]
        if earlier.case_id != case.id or earlier.amount != paid.amount:
            raise ConflictError("Mã giao dịch đã được dùng cho một khoản thanh toán khác")
        return _view(earlier, case.code, duplicate=True)
    row = Payment(
        case_id=case.id,
        transaction_id=paid.transaction_id,
        nonce=paid.nonce,
        amount=paid.amount,
        channel=paid.channel,
        paid_at=paid.paid_at,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    runtime.record(
        session,
        case,
        SYSTEM,
        EventKind.FEE_PAID,
        {
            "transaction_id": paid.transaction_id,
            "amount": paid.amount,
            "channel": paid.channel,
            "paid_at": paid.paid_at.isoformat(),
        },
    )
    return _view(row, case.code)


def payments_of(session: Session, case: Case) -> list[PaymentView]:
    rows = session.scalars(select(Payment).where(Payment.case_id == case.id).order_by(Payment.id))
    return [_view(r, case.code) for r in rows]


def _view(row: Payment, code: str, *, duplicate: bool = False) -> PaymentView:
    return PaymentView(
        id=row.id,
        case_code=code,
        transaction_id=row.transaction_id,
        amount=row.amount,
        channel=row.channel,
        paid_at=row.paid_at,
        recorded_at=row.recorded_at,
        duplicate=duplicate,
    )
