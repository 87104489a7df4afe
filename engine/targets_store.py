"""The 766 director's view targets kept in the database: plan 004's defaults, edited per year.

Rows are never updated or deleted: a later row for the same (year, line) supersedes the earlier
one, so the table is its own history (who changed which target, when, on what basis).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ValidationError
from .index766_targets import DEFAULT_TARGETS, parse_target
from .models import ScorecardTargetRow


def add_target(
    session: Session, year: int, code: str, percent: str, note: str, actor: str, now: datetime
) -> ScorecardTargetRow:
    """Append a target for one line and year; ``percent`` as typed ("99,4")."""
    if not 2000 <= year <= 2100:
        raise ValidationError(f"Năm của chỉ tiêu phải trong khoảng 2000–2100 (nhận được {year})")
    share = parse_target(code, percent)
    if not note.strip():
        raise ValidationError("Phải ghi căn cứ của chỉ tiêu (kế hoạch, văn bản giao chỉ tiêu)")
    row = ScorecardTargetRow(
        year=year, code=code, target=share, note=note.strip()[:500], created_at=now, created_by=actor
    )
    session.add(row)
    session.flush()
    return row


def history(session: Session, year: int | None = None) -> list[ScorecardTargetRow]:
    """Every target row (of a year), oldest first."""
    query = select(ScorecardTargetRow).order_by(ScorecardTargetRow.id)
    if year is not None:
        query = query.where(ScorecardTargetRow.year == year)
    return list(session.scalars(query))


def targets_for(session: Session, year: int) -> dict[str, float]:
    """The targets in force for a year: plan 004's defaults, each overridden by its latest row."""
    found = dict(DEFAULT_TARGETS)
    for row in history(session, year):
        found[row.code] = row.target
    return found
