"""What a citizen can do with a dossier code and its lookup secret: see it, supplement it, rate it.

Every entry point checks the secret in constant time and answers the same error for an unknown code
and a wrong secret, so the lookup cannot be used to enumerate dossiers. A citizen signed in through
the identity provider (:mod:`engine.oidc`) proves instead who they are: their verified CCCD opens the
dossiers whose applicant CCCD is theirs, with the same single error for everything else.
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import facts_store
from .cases import secret_digest
from .domain.vocab import Status, label
from .errors import ConflictError, NotFound, ValidationError
from .models import Case, ProcedureVersion, Rating, WorkItem
from .text import cccd_key

SCORES: dict[int, str] = {3: "Rất hài lòng", 2: "Hài lòng", 1: "Không hài lòng"}
WRONG_CODE_OR_SECRET = "Mã hồ sơ hoặc mã tra cứu không đúng"
#: A signed-in citizen asked for a dossier that is not theirs (or does not exist): one answer for both.
NOT_YOURS = "Không tìm thấy hồ sơ này trong danh sách hồ sơ của ông/bà"
#: The most dossiers one citizen's list shows (newest first).
MY_DOSSIERS_LIMIT = 200


@dataclass(frozen=True)
class VerifiedCitizen:
    """A person the identity provider vouched for (a verified ID token): their CCCD links them to
    the dossiers whose applicant CCCD is the same."""

    cccd: str
    full_name: str
    birthdate: date | None
    subject: str
    issuer: str


#: What a citizen shows to open a dossier: its lookup secret, or who they are.
CitizenProof = str | VerifiedCitizen


class CitizenDossier(BaseModel):
    """One line of "Hồ sơ của tôi"."""

    code: str
    procedure_id: str
    procedure_name: str
    status: int
    status_label: str
    submitted_at: datetime
    received_at: datetime | None
    due_at: datetime | None
    returned_at: datetime | None
    completed: bool
    waiting_for_citizen: bool  # a supplementation request is open: the citizen has something to do


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


def case_by_secret(session: Session, code: str, secret: CitizenProof) -> Case:
    """The case whose code and secret match (or whose applicant is the signed-in citizen); one
    message for every failure."""
    code = unicodedata.normalize("NFC", code or "").strip().upper()
    case = session.scalar(select(Case).where(Case.code == code)) if code else None
    if isinstance(secret, VerifiedCitizen):
        if case is None or not hmac.compare_digest(_applicant_cccd(case), secret.cccd):
            raise NotFound(NOT_YOURS)
        return case
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
    facts_store.mark_stale(session, case.id)  # the rating is a report fact outside the history
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


def _applicant_cccd(case: Case) -> str:
    # Kept without spaces when the dossier opened (engine.text.cccd_key), as dossiers_of matches it.
    return case.applicant_cccd or ""


def dossiers_of(session: Session, citizen: VerifiedCitizen) -> list[CitizenDossier]:
    """The dossiers whose applicant CCCD is the signed-in citizen's, newest first."""
    cccd = cccd_key(citizen.cccd)
    if cccd is None:  # never "every dossier without a CCCD"
        return []
    rows = session.execute(
        select(Case, ProcedureVersion.name)
        .join(ProcedureVersion, ProcedureVersion.id == Case.procedure_version_id)
        # Kept without spaces when the dossier opened (cases.applicant_cccd), as case_by_secret compares.
        .where(Case.applicant_cccd == cccd)
        .order_by(Case.submitted_at.desc(), Case.id.desc())
        .limit(MY_DOSSIERS_LIMIT)
    ).all()
    ids = [case.id for case, _ in rows]
    waiting = (
        set(
            session.scalars(
                select(WorkItem.case_id).where(
                    WorkItem.case_id.in_(ids), WorkItem.role == "citizen", WorkItem.completed_at.is_(None)
                )
            )
        )
        if ids
        else set()
    )
    return [
        CitizenDossier(
            code=case.code,
            procedure_id=case.procedure_id,
            procedure_name=name,
            status=case.status,
            status_label=label(case.status),
            submitted_at=case.submitted_at,
            received_at=case.received_at,
            due_at=case.due_at,
            returned_at=case.returned_at,
            completed=case.completed,
            waiting_for_citizen=case.id in waiting,
        )
        for case, name in rows
    ]
