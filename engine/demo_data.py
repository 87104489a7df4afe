"""Demo dossiers for ``run.py init-db`` / ``make run``: enough history for every 766 indicator.

Five dossiers and a complaint, made through the same service functions as the pages: identity at
the counter and from the portal, a component digitised with OCR and reused by the same citizen's
next dossier, a fee paid through the gateway and one in cash, a signed electronic result returned
and rated, a paper-result dossier returned with an electronic copy, and a complaint answered,
published and rated. Idempotent: nothing is added when the database already holds dossiers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from . import feedback
from .digitise import DigitisationError, Ocr, OcrMyPdf, digitise_component
from .identity import DEMO_CITIZENS, LocalPopulationData, check_identity, seed_population_records
from .models import Case
from .payments import PaymentConfirmation
from .submissions import Upload

if TYPE_CHECKING:
    from .service import Engine

#: Demo accounts by role (``engine.users.DEMO_USERS``); tests pass their own.
DEMO_STAFF = {
    "clerk": "tiepnhan",
    "specialist": "chuyenvien",
    "head": "truongphong",
    "director": "giamdoc",
}
DIPLOMA_DATA = {"diploma_type": "thpt", "graduation_year": 2008, "school": "THPT Chu Văn An", "copies": 1,
                "delivery": "post"}  # fmt: skip
ACCEPT_DIPLOMA = {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
ACCEPT_CENTRE = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}


def one_page_pdf(text: str, *, compress_streams: bool = True) -> bytes:
    """A one-page PDF with ``text`` (ASCII), for uploads and results (demo data and tests)."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode())
    out = io.BytesIO()
    pdf.save(out, compress_streams=compress_streams)
    return out.getvalue()


def scanned_id_card(name: str, number: str) -> bytes:
    """A scanner's page image (PNG, 300 dpi) of an ID card's text, drawn with DejaVu Sans."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (2480, 750), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 64)
    for i, line in enumerate(("CĂN CƯỚC CÔNG DÂN", f"Số: {number}", f"Họ và tên: {name}")):
        draw.text((150, 150 + 150 * i), line, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def _copy_issued(
    engine: Engine, code: str, result: tuple[str, str], applicant: str, staff: Mapping[str, str]
) -> None:
    """A diploma copy accepted, found in the register, approved, its copy attached (file name and
    text) and returned electronically: the path both demo copies take."""
    clerk, specialist = engine.actor(staff["clerk"]), engine.actor(staff["specialist"])
    engine.complete_task(code, "receipt_check", ACCEPT_DIPLOMA, clerk)
    engine.complete_task(
        code,
        "verify_register",
        {"found": True, "register_ref": "Sổ gốc 2008, số 12", "copies": 1},
        specialist,
    )
    engine.complete_task(code, "approve_copy", {"approved": True}, engine.actor(staff["head"]))
    engine.attach_result(code, result[0], one_page_pdf(result[1]), specialist)
    engine.complete_task(code, "return_result", {"method": "electronic", "returned_to": applicant}, clerk)


def seed_demo_dossiers(
    engine: Engine, staff: Mapping[str, str] = DEMO_STAFF, ocr: Ocr | None = None
) -> dict[str, Any]:
    """Create the demo dossiers once; returns their codes (empty when dossiers already exist)."""
    with engine.db.read() as session:
        if session.scalar(select(func.count()).select_from(Case)):
            return {}
    seed_population_records(engine.db)
    clerk, specialist = engine.actor(staff["clerk"]), engine.actor(staff["specialist"])
    head, director = engine.actor(staff["head"]), engine.actor(staff["director"])
    an = DEMO_CITIZENS[0]
    made: dict[str, Any] = {}

    # 1. At the counter: identity checked, the ID card digitised, a signed electronic result.
    first = engine.start_case(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": an.full_name, "id_number": an.cccd},
            "data": DIPLOMA_DATA,
        },
        clerk,
    )
    check_identity(
        engine, first.code, an.cccd, an.date_of_birth, clerk, LocalPopulationData(engine.db), an.full_name
    )
    engine.add_document(first.code, "TP1", "don-de-nghi.pdf", one_page_pdf("Don de nghi cap ban sao"), clerk)
    try:
        digitise_component(
            engine,
            first.code,
            "TP2",
            "cccd.png",
            scanned_id_card(an.full_name, an.cccd),
            clerk,
            engine.files,
            ocr or OcrMyPdf(),
        )
    except DigitisationError as exc:  # no OCR tools on this machine: the demo goes on without
        made["ocr_skipped"] = exc.message
    _copy_issued(
        engine, first.code, ("ban-sao-van-bang.pdf", "Ban sao van bang tu so goc"), an.full_name, staff
    )
    assert first.secret is not None
    engine.rate(first.code, first.secret, 3, "Nhanh, không phải nộp lại giấy tờ")
    made["counter"] = first.code

    # 2. Online, with the identity the portal asserted: the ID card reused from dossier 1.
    asserted = {"cccd": an.cccd, "date_of_birth": an.date_of_birth.isoformat(), "full_name": an.full_name}
    offers = engine.portal_reuse_offers("diploma_copy", asserted)
    second = engine.submit_online(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": an.full_name, "id_number": an.cccd},
            "data": DIPLOMA_DATA,
            "identity": asserted,
            "reuse": {o.document_code: o.item_id for o in offers[:1]},
        },
        [Upload("TP1", "don.pdf", one_page_pdf("Don de nghi lan hai"))]
        + ([] if offers else [Upload("TP2", "cccd.pdf", one_page_pdf("CCCD"))]),
    )
    _copy_issued(
        engine, second.code, ("ban-sao-lan-hai.pdf", "Ban sao van bang lan hai"), an.full_name, staff
    )
    made["online_reuse"] = second.code

    # 3. A fee paid through the payment gateway (electronic receipt), returned with an e-copy.
    centre = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Sao Mai"}}, clerk
    )
    engine.complete_task(centre.code, "receipt_check", ACCEPT_CENTRE, clerk)
    now = engine.clock.now()
    engine.record_payment(
        centre.code,
        PaymentConfirmation(centre.code, f"GW-{centre.code}", f"demo-{centre.code}", 1_000_000, now),
    )
    for element, actor, data in (
        (
            "pay_fee",
            engine.actor("citizen"),
            {"amount": 1_000_000, "payment_method": "online", "transaction_ref": f"GW-{centre.code}"},
        ),
        ("check_dossier", specialist, {"dossier_valid": True}),
        (
            "onsite_inspection",
            specialist,
            {
                "inspection_date": now.date().isoformat(),
                "inspection_passed": True,
                "minutes_ref": "BB-01/DEMO",
                "findings": "Đạt",
            },
        ),
        ("inspection_report", specialist, {"proposal": "permit", "report": "Đủ điều kiện hoạt động"}),
        ("head_review", head, {"approved": True}),
        (
            "director_decision",
            director,
            {"permitted": True, "decision_number": "01/DEMO", "decision_date": now.date().isoformat()},
        ),
    ):
        engine.complete_task(centre.code, element, data, actor)
    engine.attach_result(
        centre.code, "quyet-dinh.pdf", one_page_pdf("Quyet dinh cho phep hoat dong"), specialist, sign=True
    )
    engine.complete_task(
        centre.code, "return_result", {"method": "electronic", "returned_to": "Trung tâm Sao Mai"}, clerk
    )
    made["gateway_payment"] = centre.code

    # 4. The same fee paid in cash at the desk.
    cash = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": {"name": "Trung tâm Hoa Sen"}}, clerk
    )
    engine.complete_task(cash.code, "receipt_check", ACCEPT_CENTRE, clerk)
    engine.record_cash_payment(cash.code, 1_000_000, clerk)
    made["cash_payment"] = cash.code

    # 5. A complaint on dossier 1: answered and published at once, rated satisfied.
    complaint = {
        "content": "Đề nghị cho nhận bản sao qua bưu điện nhanh hơn",
        "case_code": first.code,
        "case_secret": first.secret,
        "name": an.full_name,
        "contact": "0901234567",
    }
    item = feedback.file_feedback(engine, complaint)
    feedback.answer_feedback(
        engine, item.code, "Sở đã bổ sung hình thức nhận kết quả điện tử có ký số.", head
    )
    feedback.publish_feedback(engine, item.code, head)
    assert item.secret is not None
    feedback.rate_feedback(engine, item.code, item.secret, 2)
    made["complaint"] = item.code
    return made
