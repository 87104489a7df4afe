"""What a citizen can do with a dossier code and its lookup secret: see it, supplement it, rate it.

Every entry point checks the secret in constant time and answers the same error for an unknown code
and a wrong secret, so the lookup cannot be used to enumerate dossiers.
"""

from __future__ import annotations

import hmac
import unicodedata
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .cases import secret_digest
from .domain.vocab import Status
from .errors import ConflictError, NotFound, ValidationError
from .models import Case, Rating

SCORES: dict[int, str] = {3: "Rất hài lòng", 2: "Hài lòng", 1: "Không hài lòng"}
WRONG_CODE_OR_SECRET = "Mã hồ sơ hoặc mã tra cứu không đúng"


class RatingView(BaseModel):
    case_code: str
    score: int
    label: str
    comment: str
    rated_at: datetime


class SatisfactionStats(BaseModel):
    """Counts behind Decision 766's satisfaction indicator (share of "not satisfied")."""

    procedure_id: str | None
    total: int
    by_score: dict[int, int]
    dissatisfied_share: float


def case_by_secret(session: Session, code: str, secret: str) -> Case:
    """The case whose code and secret match; one message for every failure."""
    code = unicodedata.normalize("NFC", code or "").strip().upper()
    case = session.scalar(select(Case).where(Case.code == code)) if code else None
    expected = case.secret_hash if case is not None and case.secret_hash else "0" * 64
    given = secret_digest(code, (secret or "").strip().upper())
    if case is None or not hmac.compare_digest(expected, given):
        raise NotFound(WRONG_CODE_OR_SECRET)
    return case


def existing_rating(session: Session, case: Case) -> RatingView | None:
    row = session.scalar(select(Rating).where(Rating.case_id == case.id))
    return _view(case, row) if row is not None else None


def rate(session: Session, case: Case, score: int, comment: str, now: datetime) -> RatingView:
    """Record the one satisfaction rating of a returned dossier."""
    if case.status != Status.RETURNED:
        raise ValidationError("Chỉ đánh giá được sau khi đã nhận kết quả")
    if score not in SCORES:
        raise ValidationError(
            "Mức đánh giá không hợp lệ",
            details={"fields": [{"field": "score", "message": "chỉ nhận 1, 2 hoặc 3"}]},
        )
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError(
            "Ý kiến quá dài (tối đa 2000 ký tự)",
            details={"fields": [{"field": "comment", "message": "quá dài"}]},
        )
    if session.scalar(select(Rating.id).where(Rating.case_id == case.id)) is not None:
        raise ConflictError("Hồ sơ này đã được đánh giá")
    row = Rating(case_id=case.id, procedure_id=case.procedure_id, score=score, comment=comment, rated_at=now)
    session.add(row)
    session.flush()
    return _view(case, row)


def satisfaction(session: Session, procedure_id: str | None = None) -> SatisfactionStats:
    stmt = select(Rating.score, func.count()).group_by(Rating.score)
    if procedure_id:
        stmt = stmt.where(Rating.procedure_id == procedure_id)
    by_score = {int(s): int(n) for s, n in session.execute(stmt)}
    total = sum(by_score.values())
    share = by_score.get(1, 0) / total if total else 0.0
    return SatisfactionStats(
        procedure_id=procedure_id, total=total, by_score=by_score, dissatisfied_share=share
    )


def _view(case: Case, row: Rating) -> RatingView:
    return RatingView(
        case_code=case.code,
        score=row.score,
        label=SCORES.get(row.score, ""),
        comment=row.comment,
        rated_at=row.rated_at,
    )
