"""Tables of the digital one-stop capabilities: identity checks, digitised components, complaints.

Kept apart from :mod:`engine.models` (which imports this module at its end, so Alembic and the
tests see one metadata) because these capabilities own their tables; the case core only learns of
them through case events. No table holds file bytes: files live in :mod:`engine.storage` and rows
keep their SHA-256.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class PopulationRecord(Base):
    """The local population-data fixtures (a stand-in for the national database in demos and tests)."""

    __tablename__ = "population_records"

    cccd: Mapped[str] = mapped_column(String(12), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(300))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(10))  # nam | nu


class IdentityCheck(Base):
    """One verification of an applicant's identity at receipt, and the clerk's override if any."""

    __tablename__ = "identity_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    cccd: Mapped[str] = mapped_column(String(12))
    date_of_birth: Mapped[date] = mapped_column(Date)
    full_name: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(20))  # verified | mismatch | unavailable
    source: Mapped[str] = mapped_column(String(50))
    detail: Mapped[str] = mapped_column(String(500))
    checked_at: Mapped[datetime]
    checked_by: Mapped[str] = mapped_column(String(100))
    override_reason: Mapped[str | None] = mapped_column(Text)
    overridden_at: Mapped[datetime | None]
    overridden_by: Mapped[str | None] = mapped_column(String(100))


class DigitisedDocument(Base):
    """A paper component scanned at the counter, as a searchable PDF/A with its OCR text."""

    __tablename__ = "digitised_documents"
    __table_args__ = (Index("ix_digitised_documents_case", "case_id", "document_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    document_code: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # the PDF/A in the file store
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    source_sha256: Mapped[str] = mapped_column(String(64))  # the scan as uploaded (also stored)
    source_type: Mapped[str] = mapped_column(String(100))
    digitised_at: Mapped[datetime]
    digitised_by: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)  # NFC + casefold, so LIKE matches on every backend


class FeedbackItem(Base):
    """A phản ánh, kiến nghị: about a dossier, a procedure, or neither; possibly anonymous."""

    __tablename__ = "feedback_items"
    __table_args__ = (Index("ix_feedback_items_open", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # complaint (phản ánh) | proposal (kiến nghị)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    procedure_id: Mapped[str | None] = mapped_column(String(100))
    anonymous: Mapped[bool] = mapped_column(Boolean)
    citizen_name: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # received | assigned | answered | published
    assignee: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(100))
    publish_due_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)  # 1 dissatisfied, 2 satisfied, 3 very satisfied
    rated_at: Mapped[datetime | None]
    repeated_of: Mapped[int | None] = mapped_column(Integer)  # an earlier item on the same matter


class FeedbackEvent(Base):
    """History of one feedback item (its own log: complaints are not case events)."""

    __tablename__ = "feedback_events"
    __table_args__ = (UniqueConstraint("feedback_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class CitizenDataItem(Base):
    """An entry of a citizen's electronic data store (kho dữ liệu điện tử của cá nhân), keyed by CCCD:
    a digitised component or an electronic result of an earlier dossier, reusable until it expires.

    The entry names the file by its SHA-256 in the file store and the dossier it came from by code
    (not a foreign key: the store outlives the dossier it was taken from).
    """

    __tablename__ = "citizen_data_items"
    __table_args__ = (Index("ix_citizen_data_items_owner", "cccd", "data_code", "valid_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cccd: Mapped[str] = mapped_column(String(12))
    data_code: Mapped[str] = mapped_column(String(50))  # the component's catalogue key (dataCode)
    name: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))  # digitised | result
    source_case_code: Mapped[str] = mapped_column(String(30))
    procedure_id: Mapped[str] = mapped_column(String(100))
    document_code: Mapped[str] = mapped_column(String(50))
    stored_at: Mapped[datetime]
    valid_until: Mapped[date | None] = mapped_column(Date)  # None: no expiry
