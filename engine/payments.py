"""Fee payments (nghĩa vụ tài chính, DVCQG status 6): confirmed by the payment gateway's callback, or
paid in cash at the desk; each gets an electronic receipt (biên lai điện tử) with its own number.

The callback's signature, timestamp and nonce are checked by ``handlers.payment.verify_callback``
before anything reaches the engine; here the payment is recorded once. The nonce column is unique,
so a replayed callback (same nonce) is refused even inside the timestamp window; a gateway that
re-sends a payment with a fresh nonce gets the recorded payment back instead of a second one.

Both ways record ``fee_paid`` with the method (``online`` / ``cash``) and the receipt number;
Decision 766 indicator 3.6 counts the dossiers paid online.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .cases import CaseRuntime
from .domain.vocab import CLOSED_WITHOUT_RESULT, EventKind
from .errors import ConflictError, Forbidden, NotFound, ValidationError
from .models import Case, Payment
from .users import SYSTEM, Actor

CASH_CHANNEL = 0  # paid at the desk (not a gateway)
METHOD_LABELS = {"online": "Thanh toán trực tuyến", "cash": "Nộp tiền mặt tại Bộ phận Một cửa"}


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
    method: str = "online"
    method_label: str = ""
    receipt_number: str | None = None
    recorded_by: str | None = None
    duplicate: bool = False


def _receipt_number(session: Session, case: Case) -> str:
    """BL-<dossier code>-<n>: unique because dossier codes are, numbered per dossier."""
    count = session.scalar(select(func.count()).select_from(Payment).where(Payment.case_id == case.id))
    return f"BL-{case.code}-{int(count or 0) + 1}"


def _insert(session: Session, row: Payment) -> None:
    """Insert a payment; a concurrent one on the same dossier took its receipt number (or the same
    gateway transaction arrived twice at once): the caller is told to try again, nothing is kept."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError(
            "Hồ sơ vừa được ghi nhận một khoản thanh toán khác cùng lúc; vui lòng thử lại"
        ) from exc


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
        method="online",
        receipt_number=_receipt_number(session, case),
    )
    _insert(session, row)
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
            "method": "online",
            "receipt_number": row.receipt_number,
        },
    )
    return _view(row, case.code)


def record_cash_payment(
    runtime: CaseRuntime, session: Session, case: Case, amount: int, actor: Actor, now: datetime
) -> PaymentView:
    """The desk takes the fee in cash: a payment, its electronic receipt and ``fee_paid`` (method cash)."""
    if not actor.has_role("desk_clerk"):
        raise Forbidden("Chỉ Bộ phận Một cửa được thu tiền mặt")
    if case.completed or case.status in CLOSED_WITHOUT_RESULT:
        raise ValidationError("Hồ sơ đã kết thúc, không thu phí được nữa")
    fee = int(runtime.procedures.load(session, case.procedure_version_id).meta.get("fee") or 0)
    if fee <= 0:
        raise ValidationError("Thủ tục này không thu phí, lệ phí")
    if amount != fee:
        raise ValidationError(
            f"Số tiền {amount:,} đồng khác mức phí của thủ tục ({fee:,} đồng)".replace(",", "."),
            details={"fields": [{"field": "amount", "message": "khác mức phí"}]},
        )
    number = _receipt_number(session, case)
    row = Payment(
        case_id=case.id,
        transaction_id=f"TM-{number}",
        nonce=f"cash-{number}",
        amount=amount,
        channel=CASH_CHANNEL,
        paid_at=now,
        recorded_at=now,
        method="cash",
        recorded_by=actor.username,
        receipt_number=number,
    )
    _insert(session, row)
    runtime.record(
        session,
        case,
        actor,
        EventKind.FEE_PAID,
        {
            "transaction_id": row.transaction_id,
            "amount": amount,
            "channel": CASH_CHANNEL,
            "paid_at": now.isoformat(),
            "method": "cash",
            "receipt_number": number,
        },
    )
    return _view(row, case.code)


def receipt(session: Session, case: Case, number: str) -> PaymentView:
    """One electronic receipt of ``case`` by its number."""
    row = session.scalar(select(Payment).where(Payment.case_id == case.id, Payment.receipt_number == number))
    if row is None:
        raise NotFound(f"Không tìm thấy biên lai '{number}' của hồ sơ")
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
        method=row.method,
        method_label=METHOD_LABELS.get(row.method, row.method),
        receipt_number=row.receipt_number,
        recorded_by=row.recorded_by,
        duplicate=duplicate,
    )
