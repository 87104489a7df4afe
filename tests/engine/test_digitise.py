"""Counter digitisation with the real ocrmypdf + tesseract-ocr-vie, on a page drawn here."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select

from engine.digital_models import DigitisedDocument
from engine.digitise import (
    DigitisationError,
    OcrMyPdf,
    component_status,
    digitise_component,
    digitised_documents,
    read_digitised,
    search_digitised,
)
from engine.errors import Forbidden, ValidationError
from engine.service import Engine
from engine.storage import DiskFileStore
from engine.users import Actor
from tests.engine.helpers import event_count

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
APPLICANT = {"name": "Nguyễn Văn An"}


def scanned_page(lines: list[str]) -> bytes:
    """A white A4-wide page at 300 dpi with black Vietnamese text, as a scanner would give it."""
    image = Image.new("L", (2480, 300 + 150 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 64)
    for i, line in enumerate(lines):
        draw.text((150, 150 + 150 * i), line, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


@pytest.fixture(scope="module")
def page() -> bytes:
    return scanned_page(["GIẤY CHỨNG NHẬN TỐT NGHIỆP", "Họ và tên: Nguyễn Văn An", "Trường THPT Chu Văn An"])


@pytest.fixture
def store(tmp_path: Path) -> DiskFileStore:
    return DiskFileStore(tmp_path / "files")


def _case(engine: Engine) -> str:
    return engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": APPLICANT}, engine.actor("clerk")
    ).code


def _stored_files(store: DiskFileStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()] if store.root.exists() else []


def test_scan_becomes_searchable_pdfa(engine: Engine, store: DiskFileStore, page: bytes) -> None:
    code = _case(engine)
    view = digitise_component(engine, code, "TP2", "cccd-mat-truoc.png", page, engine.actor("clerk"), store)
    assert (view.document_code, view.filename, view.pages, view.source_type) == (
        "TP2",
        "cccd-mat-truoc.pdf",
        1,
        "image/png",
    )
    meta, pdf = read_digitised(engine, code, view.id, store)
    assert pdf.startswith(b"%PDF") and b"pdfaid:part" in pdf
    assert store.get(view.source_sha256) == page
    assert len(_stored_files(store)) == 2
    event = engine.events(code)[-1]
    assert event.kind == "document_digitised"
    assert event.payload == {
        "digitised_id": view.id,
        "document_code": "TP2",
        "filename": "cccd-mat-truoc.pdf",
        "sha256": meta.sha256,
        "size": len(pdf),
        "pages": 1,
        "source_sha256": view.source_sha256,
        "text_chars": event.payload["text_chars"],
    }
    assert event.payload["text_chars"] > 20
    status = {s.document_code: s for s in component_status(engine, code)}
    assert status["TP2"].digitised and status["TP2"].digitised_by == "clerk"
    assert status["TP2"].digitised_at == engine.clock.now()
    assert not status["TP1"].digitised and not status["KQ"].digitised
    # Search is case-insensitive for Vietnamese letters on both databases.
    hits = search_digitised(engine, "chứng nhận tốt nghiệp", engine.actor("specialist"))
    assert [(h.case_code, h.document_code) for h in hits] == [(code, "TP2")]
    assert "chứng nhận tốt nghiệp" in hits[0].snippet
    assert search_digitised(engine, "Nguyễn Văn An", engine.actor("auditor"))[0].digitised_id == view.id
    assert search_digitised(engine, "giấy khai sinh", engine.actor("clerk")) == []
    # a specialist of a unit the dossier was never sent to finds nothing of it (engine.access)
    elsewhere = Actor("gdtx", "Chuyên viên GDTX", frozenset({"specialist"}), "Phòng Giáo dục thường xuyên")
    assert search_digitised(engine, "chứng nhận tốt nghiệp", elsewhere) == []
    assert search_digitised(engine, "100%", engine.actor("clerk")) == []
    assert [d.id for d in digitised_documents(engine, code)] == [view.id]


def _nothing_changed(engine: Engine, code: str, before: int, store: DiskFileStore) -> None:
    assert event_count(engine.db, engine.get_case(code).id) == before
    assert _stored_files(store) == []
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(DigitisedDocument)) == 0


def test_bad_scans_store_nothing(engine: Engine, store: DiskFileStore) -> None:
    code = _case(engine)
    before = event_count(engine.db, engine.get_case(code).id)
    clerk = engine.actor("clerk")
    with pytest.raises(DigitisationError, match="không phải bản quét PDF hoặc ảnh"):
        digitise_component(engine, code, "TP1", "don.txt", b"Don de nghi", clerk, store)
    with pytest.raises(DigitisationError, match="bị hỏng hoặc không đọc được"):
        digitise_component(engine, code, "TP1", "don.pdf", b"%PDF-1.4\nnot really a pdf", clerk, store)
    with pytest.raises(DigitisationError, match="bị hỏng hoặc không đọc được"):
        digitise_component(engine, code, "TP1", "anh.png", b"\x89PNG\r\n\x1a\ntruncated", clerk, store)
    with pytest.raises(DigitisationError, match="rỗng"):
        digitise_component(engine, code, "TP1", "trong.pdf", b"", clerk, store)
    _nothing_changed(engine, code, before, store)


def test_ocr_failure_and_blank_page_store_nothing(engine: Engine, store: DiskFileStore, page: bytes) -> None:
    code = _case(engine)
    before = event_count(engine.db, engine.get_case(code).id)
    clerk = engine.actor("clerk")
    with pytest.raises(DigitisationError, match="chưa cài đủ công cụ nhận dạng chữ"):
        digitise_component(engine, code, "TP1", "don.png", page, clerk, store, OcrMyPdf(language="zzz"))
    with pytest.raises(DigitisationError, match="Không nhận dạng được chữ nào"):
        digitise_component(engine, code, "TP1", "trang-trang.png", scanned_page([]), clerk, store)
    _nothing_changed(engine, code, before, store)


def test_component_code_roles_and_search_input(engine: Engine, store: DiskFileStore, page: bytes) -> None:
    code = _case(engine)
    with pytest.raises(ValidationError, match="'TP9' không có trong thủ tục"):
        digitise_component(engine, code, "TP9", "x.png", page, engine.actor("clerk"), store)
    with pytest.raises(Forbidden):
        digitise_component(engine, code, "TP1", "x.png", page, engine.actor("auditor"), store)
    with pytest.raises(Forbidden):
        search_digitised(engine, "chứng nhận", engine.actor("designer"))
    with pytest.raises(ValidationError, match="ít nhất 2 ký tự"):
        search_digitised(engine, " a ", engine.actor("clerk"))
    assert _stored_files(store) == []


def test_digitised_components_by_case_for_indicator_4_2(
    engine: Engine, store: DiskFileStore, page: bytes
) -> None:
    from datetime import date

    from engine.digitise import OcrOutput, digitised_components_by_case

    def fake_ocr_is_not_needed_here(content: bytes, name: str, content_type: str) -> OcrOutput:
        # The OCR tool itself is covered above; this checks the period query on stored rows.
        return OcrOutput(b"%PDF-1.7 page", "Đơn đề nghị", 1)

    received = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": APPLICANT}, engine.actor("clerk")
    )
    engine.complete_work_item(
        received.code,
        "receipt_check",
        {"decision": "accept", "checked_documents": ["TP1", "TP2"]},
        engine.actor("clerk"),
    )
    waiting = _case(engine)
    clerk = engine.actor("clerk")
    for code, component in (
        (received.code, "TP1"),
        (received.code, "TP1"),
        (received.code, "TP2"),
        (waiting, "TP1"),
    ):
        digitise_component(engine, code, component, "x.png", page, clerk, store, fake_ocr_is_not_needed_here)
    assert digitised_components_by_case(engine, date(2026, 3, 1), date(2026, 3, 31)) == {
        received.code: ["TP1", "TP2"]
    }
    assert digitised_components_by_case(engine, date(2026, 4, 1), date(2026, 4, 30)) == {}
