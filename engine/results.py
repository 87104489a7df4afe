"""Electronic results (kết quả điện tử): the signed result file stored with its SHA-256.

The digest goes into the case's hash-chained history (``result_attached``), so a copy shown later
can be checked against what the agency issued; publishing the file to the portal is a side effect
queued in the same transaction (outbox handler ``result.publish``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outbox
from .cases import CaseRuntime
from .domain.vocab import CLOSED_WITHOUT_RESULT, RESULT_ISSUERS, EventKind
from .errors import Forbidden, NotFound, ValidationError
from .models import Case, CaseResult
from .users import Actor

MAX_BYTES = 20 * 1024 * 1024
#: Result files are issued documents: signed PDF (or XML for data results), nothing executable.
RESULT_TYPES = {".pdf": ("application/pdf", b"%PDF"), ".xml": ("application/xml", b"<")}
ISSUING_ROLES = RESULT_ISSUERS


class ResultView(BaseModel):
    id: int
    case_code: str
    filename: str
    content_type: str
    size: int
    sha256: str
    stored_at: datetime
    stored_by: str


def attach_result(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    filename: str,
    content: bytes,
    actor: Actor,
    now: datetime,
) -> ResultView:
    """Store the result file, chain its digest into the history, and queue its publication."""
    if not actor.roles & ISSUING_ROLES and actor.username != "system":
        raise Forbidden("Bạn không có quyền đính kèm kết quả giải quyết")
    if case.status in CLOSED_WITHOUT_RESULT:
        raise ValidationError("Hồ sơ đã dừng hoặc bị từ chối: không có kết quả để đính kèm")
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "ket-qua.pdf"
    ext = name[name.rfind(".") :].lower() if "." in name else ""
    if ext not in RESULT_TYPES:
        raise ValidationError("Kết quả điện tử phải là tệp PDF hoặc XML")
    content_type, magic = RESULT_TYPES[ext]
    if not content or len(content) > MAX_BYTES or not content.lstrip().startswith(magic):
        raise ValidationError(f"Tệp kết quả '{name}' rỗng, quá lớn hoặc không đúng định dạng {ext}")
    digest = hashlib.sha256(content).hexdigest()
    row = CaseResult(
        case_id=case.id,
        filename=name[-255:],
        content_type=content_type,
        size=len(content),
        sha256=digest,
        content=content,
        stored_at=now,
        stored_by=actor.username,
    )
    session.add(row)
    session.flush()
    version = runtime.procedures.load(session, case.procedure_version_id)
    runtime.record(
        session,
        case,
        actor,
        EventKind.RESULT_ATTACHED,
        {"result_id": row.id, "filename": row.filename, "sha256": digest, "size": row.size},
    )
    outbox.add(
        session,
        case.id,
        outbox.NewMessage(
            outbox.RESULT_PUBLISH,
            f"{case.code}/{case.last_seq}/{digest[:16]}/{outbox.RESULT_PUBLISH}",
            {
                "case_code": case.code,
                "result_id": row.id,
                "filename": row.filename,
                "content_type": content_type,
                "sha256": digest,
                "procedure_code": str(version.meta.get("code", "")),
            },
        ),
        now,
    )
    session.flush()
    return _view(row, case.code)


def results_of(session: Session, case: Case) -> list[ResultView]:
    rows = session.scalars(select(CaseResult).where(CaseResult.case_id == case.id).order_by(CaseResult.id))
    return [_view(r, case.code) for r in rows]


def result_file(session: Session, case: Case, result_id: int) -> tuple[ResultView, bytes]:
    """The stored bytes, re-checked against their digest (a mismatch means tampering)."""
    row = session.get(CaseResult, result_id)
    if row is None or row.case_id != case.id:
        raise NotFound("Không tìm thấy tệp kết quả")
    if hashlib.sha256(row.content).hexdigest() != row.sha256:
        raise ValidationError("Tệp kết quả không khớp mã băm SHA-256 đã lưu")
    return _view(row, case.code), row.content


def _view(row: CaseResult, code: str) -> ResultView:
    return ResultView(
        id=row.id,
        case_code=code,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        stored_at=row.stored_at,
        stored_by=row.stored_by,
    )
