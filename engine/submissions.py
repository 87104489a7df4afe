"""Online submission as one unit: the dossier, its procedure-specific data and every file, or nothing.

A citizen's dossier that exists without its required components only wastes the desk's 8-hour
window, so everything is checked before the dossier is opened, all problems are reported at once
(each under the name of the input it belongs to), and the files are stored in the same transaction.

A submission may carry an idempotency key (the form's hidden field, the API's ``Idempotency-Key``):
a repeated request with the same key gets the dossier the first one created, with its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .cases import validate_form
from .documents import ALLOWED_TYPES, MAX_BYTES
from .errors import ValidationError
from .models import Case, SubmissionKey

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
START_ELEMENT = "start"


@dataclass(frozen=True)
class Upload:
    """One posted file, filed under the procedure's component code ("" for "other")."""

    document_code: str
    filename: str
    content: bytes


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationError(
            "Mã chống gửi trùng không hợp lệ (16–128 ký tự chữ, số, '-' hoặc '_')",
            details={"fields": [{"field": "idempotency_key", "message": "không hợp lệ"}]},
        )
    return key


def _pad(key: str, code: str, length: int) -> bytes:
    return hmac.new(key.encode("ascii"), f"motcua-secret:{code}".encode(), hashlib.sha256).digest()[:length]


def seal(key: str, code: str, secret: str) -> str:
    raw = secret.encode("ascii")
    return bytes(a ^ b for a, b in zip(raw, _pad(key, code, len(raw)), strict=True)).hex()


def unseal(key: str, code: str, sealed: str) -> str:
    raw = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(raw, _pad(key, code, len(raw)), strict=True)).decode("latin-1")


def earlier(session: Session, key: str) -> tuple[Case, str] | None:
    """The dossier an earlier request with ``key`` created, and its lookup secret."""
    row = session.get(SubmissionKey, key_digest(key))
    if row is None or row.case_id is None:
        return None
    case = session.get(Case, row.case_id)
    if case is None:
        return None
    return case, unseal(key, case.code, row.sealed_secret)


def claim(session: Session, key: str, now: datetime) -> SubmissionKey:
    """Insert the key first, so a concurrent request with the same key waits on it, then fails."""
    row = SubmissionKey(key_hash=key_digest(key), case_id=None, sealed_secret="", created_at=now)
    session.add(row)
    session.flush()
    return row


def record(row: SubmissionKey, key: str, case: Case, secret: str) -> None:
    row.case_id = case.id
    row.sealed_secret = seal(key, case.code, secret)


def _extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""


def document_problems(
    documents: Sequence[Mapping[str, Any]], uploads: Sequence[Upload], reused: Sequence[str] = ()
) -> list[dict[str, str]]:
    """Missing required components and files that cannot be stored, one problem per input; a
    component taken from the citizen's data store (``reused``) counts as given."""
    problems: list[dict[str, str]] = []
    given = {u.document_code for u in uploads if u.content} | set(reused)
    known = {str(d.get("code")) for d in documents}
    for doc in documents:
        code = str(doc.get("code"))
        if doc.get("required", True) and code not in given:
            problems.append(
                {
                    "field": f"doc_{code}",
                    "title": f"{code} {doc.get('name') or ''}".strip(),
                    "message": "chưa đính kèm tệp",
                }
            )
    for upload in uploads:
        field = f"doc_{upload.document_code or 'other'}"
        message = None
        if upload.document_code and upload.document_code not in known:
            message = "thành phần không có trong thủ tục"
        elif _extension(upload.filename) not in ALLOWED_TYPES:
            message = f"tệp '{upload.filename}' không đúng định dạng (PDF, JPG, PNG, DOC, DOCX, ODT)"
        elif not upload.content:
            message = f"tệp '{upload.filename}' rỗng"
        elif len(upload.content) > MAX_BYTES:
            message = f"tệp '{upload.filename}' vượt quá {MAX_BYTES // (1024 * 1024)} MB"
        if message:
            problems.append(
                {"field": field, "title": upload.document_code or "Tài liệu khác", "message": message}
            )
    return problems


def data_problems(form: Mapping[str, Any] | None, data: Mapping[str, Any]) -> list[dict[str, str]]:
    """The procedure's own submission fields (the start event's form), checked like a step's form."""
    try:
        validate_form(form, data)
    except ValidationError as exc:
        return [dict(p) for p in exc.details.get("fields", [])]
    return []


def refuse(problems: list[dict[str, str]]) -> ValidationError:
    text = "; ".join(f"{p.get('title') or p['field']}: {p['message']}" for p in problems)
    return ValidationError(f"Hồ sơ chưa đầy đủ hoặc chưa hợp lệ — {text}", details={"fields": problems})


def reuse_choices(value: Any) -> dict[str, int]:
    """``{"TP2": 17}``: which component is taken from which entry of the citizen's data store."""
    if value is None or value == {}:
        return {}
    problem = ValidationError(
        "lựa chọn sử dụng lại dữ liệu số không hợp lệ (mã thành phần → số dữ liệu)",
        details={"fields": [{"field": "reuse", "message": "không hợp lệ"}]},
    )
    if not isinstance(value, Mapping):
        raise problem
    choices: dict[str, int] = {}
    for code, item in value.items():
        try:
            choices[str(code)] = int(item)
        except (TypeError, ValueError) as exc:
            raise problem from exc
    return choices
