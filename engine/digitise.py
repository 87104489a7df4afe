"""Digitisation at the counter (số hóa thành phần hồ sơ): scan → searchable PDF/A → file store.

A paper component is scanned (image or PDF) and run through ``ocrmypdf`` with Debian's Vietnamese
tesseract data, which yields a PDF/A with a text layer. Both the scan and the PDF/A go to the file
store (:mod:`engine.storage`); the database keeps their SHA-256, the component code of the
procedure, who digitised it and when, and the recognised text for staff search. The case records
the event ``document_digitised``: that is what Decision 766 indicator 4.2 counts.

OCR runs as a subprocess, outside any transaction: it takes seconds, it is not thread-safe inside
one process, and a crash or timeout of the tool must not take the web worker with it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pypdfium2
from pydantic import BaseModel
from sqlalchemy import select

from .access import Action
from .cases import find_case
from .digital_models import DigitisedDocument
from .documents import STAFF_UPLOAD_ROLES, safe_filename
from .domain.vocab import EventKind
from .errors import Forbidden, NotFound, ValidationError
from .reuse import remember_digitised
from .storage import FileStore, StorageError
from .users import Actor

if TYPE_CHECKING:
    from .service import Engine

MAX_SCAN_BYTES = 20 * 1024 * 1024
RESULT_CODE = "KQ"  # the result of the dossier, digitised like a component
SEARCH_ROLES = frozenset({*STAFF_UPLOAD_ROLES, "auditor", "admin"})
_SCAN_TYPES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


class DigitisationError(ValidationError):
    """The scan could not be turned into a searchable PDF/A; nothing was stored."""

    code = "digitisation_failed"


@dataclass(frozen=True)
class OcrOutput:
    pdf: bytes  # PDF/A-2b with a text layer
    text: str
    pages: int


class Ocr(Protocol):
    def __call__(self, content: bytes, name: str, content_type: str) -> OcrOutput: ...


def scan_type(name: str, content: bytes) -> str:
    """The scan's media type from its first bytes; refuses empty, oversized and foreign files."""
    if not content:
        raise DigitisationError(f"Tệp quét '{name}' rỗng")
    if len(content) > MAX_SCAN_BYTES:
        raise DigitisationError(f"Tệp quét '{name}' vượt quá {MAX_SCAN_BYTES // (1024 * 1024)} MB")
    for magic, media in _SCAN_TYPES:
        if content.startswith(magic):
            return media
    raise DigitisationError(f"Tệp '{name}' không phải bản quét PDF hoặc ảnh (JPG, PNG, TIFF)")


class OcrMyPdf:
    """``python -m ocrmypdf`` with Vietnamese data; each failure gets its own message."""

    def __init__(self, language: str = "vie", timeout: float = 300.0, image_dpi: int = 300) -> None:
        self.language = language
        self.timeout = timeout
        self.image_dpi = image_dpi

    def __call__(self, content: bytes, name: str, content_type: str) -> OcrOutput:
        with tempfile.TemporaryDirectory(prefix="motcua-ocr-") as folder:
            source = Path(folder) / "scan"
            target = Path(folder) / "out.pdf"
            source.write_bytes(content)
            command = [
                sys.executable,
                "-m",
                "ocrmypdf",
                "--quiet",
                "--language",
                self.language,
                "--output-type",
                "pdfa",
            ]
            if content_type != "application/pdf":
                command += ["--image-dpi", str(self.image_dpi)]
            try:
                done = subprocess.run(
                    [*command, str(source), str(target)],
                    capture_output=True,
                    timeout=self.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise DigitisationError(
                    f"Nhận dạng chữ tệp '{name}' quá {self.timeout:g} giây; hãy quét lại ít trang hơn"
                ) from exc
            if done.returncode != 0:
                raise DigitisationError(
                    _failure(done.returncode, name), details={"ocr_exit": done.returncode}
                )
            pdf = target.read_bytes()
        text, pages = pdf_text(pdf)
        return OcrOutput(pdf, text, pages)


def _failure(code: int, name: str) -> str:
    # ocrmypdf.ExitCode values
    if code == 2:
        return f"Tệp quét '{name}' bị hỏng hoặc không đọc được"
    if code == 6:
        return f"Tệp PDF '{name}' đã có lớp chữ (không phải bản quét): đính kèm như tệp thường"
    if code == 8:
        return f"Tệp PDF '{name}' có mật khẩu, không số hóa được"
    if code in (3, 9):
        return (
            "Máy chủ chưa cài đủ công cụ nhận dạng chữ tiếng Việt (tesseract-ocr-vie); "
            "báo quản trị hệ thống chạy lại 'make install'"
        )
    if code in (4, 10):
        return f"Không tạo được tệp PDF/A từ '{name}'"
    return f"Nhận dạng chữ (OCR) tệp '{name}' thất bại (mã lỗi {code})"


def pdf_text(pdf: bytes) -> tuple[str, int]:
    """The text layer of every page, pages separated by form feeds, and the page count."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        texts = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(str(textpage.get_text_range()).replace("\r\n", "\n"))
            textpage.close()
            page.close()
        return "\f".join(texts), len(texts)
    finally:
        document.close()


def search_key(text: str) -> str:
    """What search compares: NFC, case-folded, whitespace collapsed (SQLite's LIKE folds ASCII only)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


# ------------------------------------------------------------------------------ service


class DigitisedView(BaseModel):
    id: int
    case_code: str
    document_code: str
    filename: str
    sha256: str
    size: int
    pages: int
    source_sha256: str
    source_type: str
    digitised_at: datetime
    digitised_by: str
    text_excerpt: str


class ComponentStatus(BaseModel):
    document_code: str
    name: str
    required: bool
    digitised: bool
    digitised_by: str | None
    digitised_at: datetime | None


class SearchHit(BaseModel):
    case_code: str
    digitised_id: int
    document_code: str
    filename: str
    snippet: str


def _view(row: DigitisedDocument, code: str) -> DigitisedView:
    return DigitisedView(
        id=row.id,
        case_code=code,
        document_code=row.document_code,
        filename=row.filename,
        sha256=row.sha256,
        size=row.size,
        pages=row.pages,
        source_sha256=row.source_sha256,
        source_type=row.source_type,
        digitised_at=row.digitised_at,
        digitised_by=row.digitised_by,
        text_excerpt=" ".join(row.text.split())[:300],
    )


def digitise_component(
    engine: Engine,
    ref: str,
    document_code: str,
    filename: str,
    content: bytes,
    actor: Actor,
    store: FileStore,
    ocr: Ocr | None = None,
) -> DigitisedView:
    """OCR a scanned component of ``ref`` into a PDF/A, store it, mark the component digitised.

    ``document_code`` is a component code of the case's procedure, or ``KQ`` for the result.
    Any failure (bad scan, OCR, storage) raises before the database changes.
    """
    if not actor.roles & STAFF_UPLOAD_ROLES:
        raise Forbidden("Bạn không có quyền số hóa thành phần hồ sơ")
    engine.authorize_case(ref, actor, Action.CHANGE)  # only a dossier sent to the actor's unit
    name = safe_filename(filename)
    media = scan_type(name, content)
    with engine.db.read() as session:
        case = find_case(session, ref)
        if case.completed:
            raise ValidationError("Hồ sơ đã kết thúc, không số hóa thêm được")
        meta = engine.procedures.load(session, case.procedure_version_id).meta
    codes = {str(d.get("code")) for d in meta.get("documents", [])} | {RESULT_CODE}
    if document_code not in codes:
        raise ValidationError(
            f"Thành phần hồ sơ '{document_code}' không có trong thủ tục",
            details={"fields": [{"field": "document_code", "message": "không hợp lệ"}]},
        )
    output = (ocr or OcrMyPdf())(content, name, media)
    if not output.text.strip():
        raise DigitisationError(f"Không nhận dạng được chữ nào trong bản quét '{name}'; hãy quét lại rõ hơn")
    try:
        source = store.put(content)
        stored = store.put(output.pdf)
    except OSError as exc:
        raise StorageError(f"Không lưu được tệp số hóa: {exc}") from exc
    pdf_name = (name.rsplit(".", 1)[0] if "." in name else name) + ".pdf"
    with engine.db.unit_of_work() as session:
        case = find_case(session, ref)
        row = DigitisedDocument(
            case_id=case.id,
            document_code=document_code,
            filename=pdf_name[-255:],
            sha256=stored.sha256,
            size=stored.size,
            pages=output.pages,
            source_sha256=source.sha256,
            source_type=media,
            digitised_at=engine.clock.now(),
            digitised_by=actor.username,
            text=output.text,
            search_text=search_key(output.text),
        )
        session.add(row)
        session.flush()
        # The applicant's data store keeps the component for reuse in later dossiers (4.3).
        remember_digitised(session, case, row, list(meta.get("documents", [])), row.digitised_at)
        engine.cases.record(
            session,
            case,
            actor,
            EventKind.DOCUMENT_DIGITISED,
            {
                "digitised_id": row.id,
                "document_code": document_code,
                "filename": row.filename,
                "sha256": stored.sha256,
                "size": stored.size,
                "pages": output.pages,
                "source_sha256": source.sha256,
                "text_chars": len(output.text),
            },
        )
        return _view(row, case.code)


def digitised_documents(engine: Engine, ref: str) -> list[DigitisedView]:
    """The digitised files of a dossier, oldest first."""
    with engine.db.read() as session:
        case = find_case(session, ref)
        rows = session.scalars(
            select(DigitisedDocument)
            .where(DigitisedDocument.case_id == case.id)
            .order_by(DigitisedDocument.id)
        )
        return [_view(r, case.code) for r in rows]


def component_status(engine: Engine, ref: str) -> list[ComponentStatus]:
    """Each component of the procedure (and the result) with whether, by whom and when it was digitised."""
    with engine.db.read() as session:
        case = find_case(session, ref)
        meta = engine.procedures.load(session, case.procedure_version_id).meta
        rows = session.scalars(
            select(DigitisedDocument)
            .where(DigitisedDocument.case_id == case.id)
            .order_by(DigitisedDocument.id)
        )
        first: dict[str, tuple[str, datetime]] = {}
        for row in rows:
            first.setdefault(row.document_code, (row.digitised_by, row.digitised_at))
    listed = [
        (str(d.get("code")), str(d.get("name", "")), bool(d.get("required", True)))
        for d in meta.get("documents", [])
    ]
    listed.append((RESULT_CODE, "Kết quả giải quyết", False))
    return [
        ComponentStatus(
            document_code=code,
            name=label,
            required=required,
            digitised=code in first,
            digitised_by=first[code][0] if code in first else None,
            digitised_at=first[code][1] if code in first else None,
        )
        for code, label, required in listed
    ]


def read_digitised(
    engine: Engine, ref: str, digitised_id: int, store: FileStore
) -> tuple[DigitisedView, bytes]:
    """The PDF/A of a digitised component, verified against its SHA-256 by the store."""
    with engine.db.read() as session:
        case = find_case(session, ref)
        row = session.get(DigitisedDocument, digitised_id)
        if row is None or row.case_id != case.id:
            raise NotFound("Không tìm thấy tệp số hóa")
        view = _view(row, case.code)
    return view, store.get(view.sha256)


def search_digitised(engine: Engine, query: str, actor: Actor, limit: int = 50) -> list[SearchHit]:
    """Staff search over the recognised text of every digitised file (newest first)."""
    if not actor.roles & SEARCH_ROLES:
        raise Forbidden("Bạn không có quyền tìm kiếm hồ sơ số hóa")
    key = search_key(query)
    if len(key) < 2:
        raise ValidationError("Từ khóa tìm kiếm phải có ít nhất 2 ký tự")
    pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    from .models import Case

    wanted = max(1, min(limit, 200))
    hits: list[SearchHit] = []
    with engine.db.read() as session:
        # Newest first, a page at a time, keeping only dossiers the searcher may read (engine.access:
        # a unit finds what was sent to it) until the page is full or the matches run out.
        before: int | None = None
        for _ in range(20):
            stmt = (
                select(DigitisedDocument, Case.code)
                .join(Case, Case.id == DigitisedDocument.case_id)
                .where(DigitisedDocument.search_text.like(pattern, escape="\\"))
                .order_by(DigitisedDocument.id.desc())
                .limit(wanted)
            )
            if before is not None:
                stmt = stmt.where(DigitisedDocument.id < before)
            rows = session.execute(stmt).all()
            readable = engine.readable_cases(session, actor, {row.case_id for row, _ in rows})
            hits += [
                SearchHit(
                    case_code=code,
                    digitised_id=row.id,
                    document_code=row.document_code,
                    filename=row.filename,
                    snippet=_snippet(row.search_text, key),
                )
                for row, code in rows
                if row.case_id in readable
            ]
            if len(hits) >= wanted or len(rows) < wanted:
                break
            before = rows[-1][0].id
    return hits[:wanted]


def _snippet(text: str, key: str, around: int = 60) -> str:
    at = text.find(key)
    start = max(0, at - around)
    return (
        ("…" if start else "")
        + text[start : at + len(key) + around]
        + ("…" if at + len(key) + around < len(text) else "")
    )


def digitised_components_by_case(engine: Engine, first: date, last: date) -> dict[str, list[str]]:
    """Dossier code → digitised component codes (``KQ`` = the result), for dossiers received
    between two local dates: what Decision 766 indicator 4.2 needs from digitisation."""
    from .models import Case
    from .reports import local_bounds

    start, end = local_bounds(first, last)
    with engine.db.read() as session:
        rows = session.execute(
            select(Case.code, DigitisedDocument.document_code)
            .join(DigitisedDocument, DigitisedDocument.case_id == Case.id)
            .where(Case.received_at >= start, Case.received_at < end)
            .order_by(Case.code, DigitisedDocument.id)
        ).all()
    found: dict[str, list[str]] = {}
    for code, component in rows:
        codes = found.setdefault(code, [])
        if component not in codes:
            codes.append(component)
    return found
