"""Dossier documents: uploads stored with their SHA-256, recorded in the case's event chain.

The bytes live in the file store (:mod:`engine.storage`); the row keeps the digest, which also goes
into the hash-chained history, so a file produced later (for an inspection or a dispute) can be
checked against what the desk received. Rows written before the file store still carry their
bytes in ``content``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .cases import CaseRuntime
from .domain.vocab import CITIZEN_UPLOAD, DOCUMENT_STAFF, EventKind
from .errors import Forbidden, NotFound, ValidationError
from .models import Case, DossierDocument
from .storage import FileStore
from .users import Actor

MAX_BYTES = 10 * 1024 * 1024
# Scans and office files only: anything else is not a dossier component and may be active content.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    ".pdf": ("application/pdf",),
    ".jpg": ("image/jpeg",),
    ".jpeg": ("image/jpeg",),
    ".png": ("image/png",),
    ".doc": ("application/msword",),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    ".odt": ("application/vnd.oasis.opendocument.text",),
}
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".docx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",),
}
CITIZEN_UPLOAD_STATUSES = CITIZEN_UPLOAD
STAFF_UPLOAD_ROLES = DOCUMENT_STAFF


class DocumentView(BaseModel):
    id: int
    document_code: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


def document_view(row: DossierDocument) -> DocumentView:
    return DocumentView(
        id=row.id,
        document_code=row.document_code,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        uploaded_at=row.uploaded_at,
        uploaded_by=row.uploaded_by,
    )


def safe_filename(name: str) -> str:
    """A display-safe base name: no directories, no control characters, at most 200 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".") or "tep-dinh-kem"
    return base[-200:]


def _extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""


def add_document(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    documents: list[Mapping[str, Any]],
    document_code: str,
    filename: str,
    content: bytes,
    actor: Actor,
    now: datetime,
    store: FileStore,
) -> DocumentView:
    """Store one uploaded file of ``case`` after checking who uploads, its kind, size and type."""
    if actor.has_role("citizen") and not actor.roles & STAFF_UPLOAD_ROLES:
        if case.status not in CITIZEN_UPLOAD_STATUSES:
            raise Forbidden("Công dân chỉ nộp tệp khi nộp hồ sơ hoặc khi được yêu cầu bổ sung")
    elif not actor.roles & STAFF_UPLOAD_ROLES:
        raise Forbidden("Bạn không có quyền đính kèm tệp vào hồ sơ")
    if case.completed:
        raise ValidationError("Hồ sơ đã kết thúc, không thể đính kèm thêm tệp")
    codes = {str(d.get("code")) for d in documents}
    if document_code and document_code not in codes:
        raise ValidationError(
            f"Thành phần hồ sơ '{document_code}' không có trong thủ tục",
            details={"fields": [{"field": "document_code", "message": "không hợp lệ"}]},
        )
    name = safe_filename(filename)
    ext = _extension(name)
    if ext not in ALLOWED_TYPES:
        raise ValidationError(
            f"Tệp '{name}' không đúng định dạng cho phép (PDF, JPG, PNG, DOC, DOCX, ODT)",
            details={"fields": [{"field": "file", "message": "định dạng không cho phép"}]},
        )
    if not content:
        raise ValidationError(
            f"Tệp '{name}' rỗng", details={"fields": [{"field": "file", "message": "tệp rỗng"}]}
        )
    if len(content) > MAX_BYTES:
        raise ValidationError(
            f"Tệp '{name}' vượt quá {MAX_BYTES // (1024 * 1024)} MB",
            details={"fields": [{"field": "file", "message": "tệp quá lớn"}]},
        )
    if not any(content.startswith(m) for m in _MAGIC[ext]):
        raise ValidationError(
            f"Nội dung tệp '{name}' không khớp với phần mở rộng {ext}",
            details={"fields": [{"field": "file", "message": "nội dung không khớp định dạng"}]},
        )
    digest = store.put(content).sha256
    row = attach_stored(
        runtime,
        session,
        case,
        actor,
        now,
        EventKind.DOCUMENT_ADDED,
        StoredFile(name, ALLOWED_TYPES[ext][0], len(content), digest),
        document_code,
    )
    return document_view(row)


@dataclass(frozen=True)
class StoredFile:
    """A file already in the store, described as a dossier's component row records it."""

    filename: str
    content_type: str
    size: int
    sha256: str


def attach_stored(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    actor: Actor,
    now: datetime,
    kind: EventKind,
    file: StoredFile,
    document_code: str,
    extra: Mapping[str, Any] | None = None,
) -> DossierDocument:
    """Add a stored file to the dossier and record the event that says so, in the caller's unit of work.

    An upload and a reuse from the citizen data store differ in their checks and their event kind,
    never in the row or the chained payload's common part: one builder keeps them from drifting.
    """
    row = DossierDocument(
        case_id=case.id,
        document_code=document_code,
        filename=file.filename,
        content_type=file.content_type,
        size=file.size,
        sha256=file.sha256,
        content=None,
        uploaded_at=now,
        uploaded_by=actor.username,
    )
    session.add(row)
    session.flush()
    payload = {
        "document_id": row.id,
        "document_code": document_code,
        "filename": file.filename,
        "sha256": file.sha256,
        "size": file.size,
    }
    runtime.record(session, case, actor, kind, {**payload, **(extra or {})})
    return row


def list_documents(session: Session, case: Case) -> list[DocumentView]:
    rows = session.scalars(
        select(DossierDocument).where(DossierDocument.case_id == case.id).order_by(DossierDocument.id)
    )
    return [document_view(r) for r in rows]


def document_bytes(row: DossierDocument, store: FileStore) -> bytes:
    """The row's bytes: kept in the row (before the file store) or in the store, checked by it."""
    return row.content if row.content is not None else store.get(row.sha256)


def read_document(
    session: Session, case: Case, document_id: int, store: FileStore
) -> tuple[DocumentView, bytes]:
    """One document of ``case`` with its bytes."""
    row = session.get(DossierDocument, document_id)
    if row is None or row.case_id != case.id:
        raise NotFound("Không tìm thấy tệp đính kèm")
    return document_view(row), document_bytes(row, store)
