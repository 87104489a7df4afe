"""Electronic results (kết quả điện tử): the signed result file stored with its SHA-256.

A procedure that declares an electronic result (``resultType="electronic"``) gets its result PDF
signed by the agency (PAdES, :mod:`engine.esign`) before anything is stored; a missing or expired
certificate refuses the result and changes nothing. The bytes live in the file store, the row and
the case's hash-chained history (``result_attached``) keep the digest, so a copy shown later can be
checked against what the agency issued; the signature is verified again on every download and by
``audit verify``. Publishing the file to the portal is queued in the same transaction (outbox
handler ``result.publish``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outbox
from .cases import CaseRuntime
from .domain.vocab import CLOSED_WITHOUT_RESULT, RESULT_ISSUERS, EventKind
from .errors import Forbidden, NotFound, ValidationError
from .esign import SignatureCheck, SigningConfig, SigningError, verify_result
from .models import Case, CaseResult
from .storage import FileStore, StorageError
from .users import Actor

#: Signs a result PDF: the signed bytes and the signer's name (raises ``esign.SigningError``).
Signer = Callable[[bytes], tuple[bytes, str]]

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
    signer: str | None = None


def check_result_file(actor: Actor, case: Case, filename: str, content: bytes) -> tuple[str, str]:
    """Who may issue, whether the case can have a result, and the file's kind: (name, extension)."""
    if not actor.roles & ISSUING_ROLES and actor.username != "system":
        raise Forbidden("Bạn không có quyền đính kèm kết quả giải quyết")
    if case.status in CLOSED_WITHOUT_RESULT:
        raise ValidationError("Hồ sơ đã dừng hoặc bị từ chối: không có kết quả để đính kèm")
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "ket-qua.pdf"
    ext = name[name.rfind(".") :].lower() if "." in name else ""
    if ext not in RESULT_TYPES:
        raise ValidationError("Kết quả điện tử phải là tệp PDF hoặc XML")
    _, magic = RESULT_TYPES[ext]
    if not content or len(content) > MAX_BYTES or not content.lstrip().startswith(magic):
        raise ValidationError(f"Tệp kết quả '{name}' rỗng, quá lớn hoặc không đúng định dạng {ext}")
    return name, ext


def attach_result(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    filename: str,
    content: bytes,
    actor: Actor,
    now: datetime,
    store: FileStore,
    signer: str | None = None,
) -> ResultView:
    """Store the (already signed, when ``signer`` names who signed) result file, chain its digest
    into the history, and queue its publication."""
    name, ext = check_result_file(actor, case, filename, content)
    content_type = RESULT_TYPES[ext][0]
    digest = store.put(content).sha256
    row = CaseResult(
        case_id=case.id,
        filename=name[-255:],
        content_type=content_type,
        size=len(content),
        sha256=digest,
        content=None,
        stored_at=now,
        stored_by=actor.username,
        signer=signer[:300] if signer else None,
    )
    session.add(row)
    session.flush()
    version = runtime.procedures.load(session, case.procedure_version_id)
    payload: dict[str, object] = {
        "result_id": row.id,
        "filename": row.filename,
        "sha256": digest,
        "size": row.size,
    }
    if signer:
        payload["signed"] = True
    runtime.record(session, case, actor, EventKind.RESULT_ATTACHED, payload)
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


def result_file(session: Session, case: Case, result_id: int, store: FileStore) -> tuple[ResultView, bytes]:
    """The stored bytes, re-checked against their digest (a mismatch means tampering)."""
    row = session.get(CaseResult, result_id)
    if row is None or row.case_id != case.id:
        raise NotFound("Không tìm thấy tệp kết quả")
    try:
        content = row.content if row.content is not None else store.get(row.sha256)
    except StorageError as exc:
        raise ValidationError("Tệp kết quả không khớp mã băm SHA-256 đã lưu") from exc
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise ValidationError("Tệp kết quả không khớp mã băm SHA-256 đã lưu")
    return _view(row, case.code), content


def signature_of(
    view: ResultView, content: bytes, signing: SigningConfig, at: datetime
) -> SignatureCheck | None:
    """The signature check of a signed result (None for an unsigned one, e.g. a scanned paper result)."""
    if view.signer is None:
        return None
    try:
        return verify_result(content, signing, at)
    except SigningError as exc:  # trust roots missing or unreadable: say so, the page still opens
        return SignatureCheck(signed=True, message=exc.message)


def check_results(
    session: Session, store: FileStore, signing: SigningConfig, case_ids: list[int] | None = None
) -> list[tuple[str, int, str, str]]:
    """``audit verify`` of results: each signed result's bytes are present and its signature valid.

    Returns (case code, result id, problem, reason in Vietnamese) per problem found.
    """
    stmt = select(CaseResult, Case.code).join(Case, Case.id == CaseResult.case_id).order_by(CaseResult.id)
    if case_ids is not None:
        stmt = stmt.where(CaseResult.case_id.in_(case_ids))
    found: list[tuple[str, int, str, str]] = []
    for row, code in session.execute(stmt):
        if row.signer is None:
            continue
        try:
            content = row.content if row.content is not None else store.get(row.sha256)
        except NotFound:
            found.append(
                (code, row.id, "result_missing", f"Tệp kết quả #{row.id} không còn trong kho lưu trữ")
            )
            continue
        except StorageError:
            found.append((code, row.id, "result_altered", f"Tệp kết quả #{row.id} trong kho đã bị thay đổi"))
            continue
        try:
            check = verify_result(content, signing, row.stored_at)
        except SigningError as exc:
            check = SignatureCheck(signed=True, message=exc.message)
        if not check.valid:
            found.append((code, row.id, "result_signature_invalid", f"Kết quả #{row.id}: {check.message}"))
    return found


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
        signer=row.signer,
    )
