"""Reuse of digitised data (4.3): a component digitised for one dossier is offered and taken into a
later dossier of the same citizen, at the counter and online, without a new upload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from engine.clock import FixedClock
from engine.digital_models import CitizenDataItem
from engine.digitise import OcrOutput, digitise_component
from engine.errors import NotFound, ValidationError
from engine.identity import LocalPopulationData, check_identity, seed_population_records
from engine.models import Case, DossierDocument
from engine.service import Engine

AN = {"cccd": "001090012345", "date_of_birth": "1990-05-12", "full_name": "Nguyễn Văn An"}
BINH = {"cccd": "031185004321", "date_of_birth": "1985-11-03", "full_name": "Trần Thị Bình"}
PDFA = b"%PDF-1.7\n% the digitised ID card\n"
DATA = {"diploma_type": "thpt", "graduation_year": 2011, "school": "THPT Hai Bà Trưng", "copies": 1,
        "delivery": "post"}  # fmt: skip


def fake_ocr(content: bytes, name: str, content_type: str) -> OcrOutput:
    # Real OCR is exercised in test_digitise.py; here only the store and the reuse matter.
    return OcrOutput(PDFA, "CĂN CƯỚC CÔNG DÂN Nguyễn Văn An", 1)


def _counter_case(engine: Engine, person: dict[str, str]) -> str:
    clerk = engine.actor("clerk")
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": person["full_name"]}}, clerk
    ).code
    check_identity(
        engine,
        code,
        person["cccd"],
        person["date_of_birth"],
        clerk,
        LocalPopulationData(engine.db),
        person["full_name"],
    )
    return code


@pytest.fixture
def first(engine: Engine) -> str:
    """An earlier dossier of Nguyễn Văn An whose ID card (TP2) was digitised at the counter."""
    seed_population_records(engine.db)
    code = _counter_case(engine, AN)
    digitise_component(
        engine,
        code,
        "TP2",
        "cccd.png",
        b"\x89PNG\r\n\x1a\nscan",
        engine.actor("clerk"),
        engine.files,
        fake_ocr,
    )
    return code


def test_digitised_component_enters_the_citizens_store(engine: Engine, first: str) -> None:
    with engine.db.read() as session:
        [item] = session.scalars(select(CitizenDataItem)).all()
        assert (item.cccd, item.data_code, item.source, item.source_case_code) == (
            "001090012345",
            "CCCD",
            "digitised",
            first,
        )
        # validMonths="60" on diploma_copy's TP2: five years from the day it was digitised.
        today = engine.clock.now().date()
        assert item.valid_until is not None and item.valid_until.year == today.year + 5


def test_counter_offers_and_reuses_the_component(engine: Engine, clock: FixedClock, first: str) -> None:
    clock.advance(timedelta(days=7))
    second = _counter_case(engine, AN)
    [offer] = engine.reuse_offers(second, engine.actor("clerk"))
    assert (offer.document_code, offer.source_case_code, offer.data_code) == ("TP2", first, "CCCD")
    view = engine.reuse_component(second, offer.item_id, "TP2", engine.actor("clerk"))
    event = engine.events(second)[-1]
    assert event.kind == "document_reused"
    assert event.payload == {
        "document_id": view.id,
        "document_code": "TP2",
        "filename": offer.filename,
        "sha256": offer.sha256,
        "size": len(PDFA),
        "item_id": offer.item_id,
        "data_code": "CCCD",
        "source_case": first,
    }
    meta, content = engine.read_document(second, view.id)
    assert content == PDFA and meta.document_code == "TP2"
    # The reused file is the same stored file: audit verify finds nothing.
    assert engine.verify_history(second).findings == []
    # The dossier's own components count it: the desk may accept with TP1 uploaded and TP2 reused.
    engine.add_document(second, "TP1", "don.pdf", b"%PDF-1.4\n% don\n", engine.actor("clerk"))
    engine.complete_task(
        second,
        "receipt_check",
        {"decision": "accept", "checked_documents": ["TP1", "TP2"]},
        engine.actor("clerk"),
    )
    assert engine.get_case(second).status == 4


def test_bad_reuse_changes_nothing(engine: Engine, first: str) -> None:
    seed_population_records(engine.db)
    clerk = engine.actor("clerk")
    with engine.db.read() as session:
        item_id = session.scalars(select(CitizenDataItem.id)).one()
    other = _counter_case(engine, BINH)
    nobody = engine.start_case({"procedure_id": "diploma_copy", "applicant": {"name": "Vô Danh"}}, clerk).code
    mine = _counter_case(engine, AN)
    before = {code: len(engine.events(code)) for code in (other, nobody, mine)}

    with pytest.raises(NotFound, match="Không tìm thấy dữ liệu số"):
        engine.reuse_component(other, item_id, "TP2", clerk)  # another person's entry
    with pytest.raises(ValidationError, match="Chưa xác định được số CCCD"):
        engine.reuse_component(nobody, item_id, "TP2", clerk)
    with pytest.raises(ValidationError, match="không dùng được cho thành phần TP1"):
        engine.reuse_component(mine, item_id, "TP1", clerk)
    with pytest.raises(ValidationError, match="'TP9' không có trong thủ tục"):
        engine.reuse_component(mine, item_id, "TP9", clerk)
    with engine.db.unit_of_work() as session:
        session.execute(
            update(CitizenDataItem).values(valid_until=engine.clock.now().date() - timedelta(days=1))
        )
    assert engine.reuse_offers(mine, clerk) == []
    with pytest.raises(ValidationError, match="đã hết hiệu lực ngày"):
        engine.reuse_component(mine, item_id, "TP2", clerk)

    assert {code: len(engine.events(code)) for code in (other, nobody, mine)} == before
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(DossierDocument)) == 0


def test_online_submission_records_the_portal_identity_and_reuses(engine: Engine, first: str) -> None:
    [offer] = engine.portal_reuse_offers("diploma_copy", AN)
    view = engine.submit_online(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": "Nguyễn Văn An"},
            "data": DATA,
            "identity": AN,
            "reuse": {"TP2": offer.item_id},
        },
        [_upload("TP1")],
    )
    kinds = [(e.kind, e.payload.get("source")) for e in engine.events(view.code)]
    assert ("identity_checked", "portal") in kinds
    checked = next(e for e in engine.events(view.code) if e.kind == "identity_checked")
    assert (checked.actor, checked.payload["cccd"], checked.payload["outcome"]) == (
        "citizen",
        "001090012345",
        "verified",
    )
    reused = [e for e in engine.events(view.code) if e.kind == "document_reused"]
    assert [e.payload["document_code"] for e in reused] == ["TP2"]


def test_online_submission_records_the_asserted_identity_without_reuse(engine: Engine) -> None:
    view = engine.submit_online(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": "Trần Thị Bình"},
            "data": DATA,
            "identity": BINH,
        },
        [_upload("TP1"), _upload("TP2")],
    )
    [checked] = [e for e in engine.events(view.code) if e.kind == "identity_checked"]
    assert checked.payload["source"] == "portal" and checked.payload["full_name"] == "Trần Thị Bình"


def test_bad_online_identity_or_reuse_creates_no_dossier(engine: Engine, first: str) -> None:
    with engine.db.read() as session:
        item_id = session.scalars(select(CitizenDataItem.id)).one()
        cases = session.scalar(select(func.count()).select_from(Case))
    base = {"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Văn An"}, "data": DATA}
    with pytest.raises(ValidationError, match="khi Cổng dịch vụ công đã xác thực danh tính"):
        engine.submit_online({**base, "reuse": {"TP2": item_id}}, [_upload("TP1")])
    with pytest.raises(ValidationError, match="Hai chữ số năm sinh trong số CCCD"):
        engine.submit_online(
            {**base, "identity": {**AN, "date_of_birth": "1991-05-12"}}, [_upload("TP1"), _upload("TP2")]
        )
    with pytest.raises(ValidationError, match="lựa chọn sử dụng lại dữ liệu số không hợp lệ"):
        engine.submit_online({**base, "identity": AN, "reuse": {"TP2": "abc"}}, [_upload("TP1")])
    with pytest.raises(NotFound, match="Không tìm thấy dữ liệu số"):
        engine.submit_online({**base, "identity": BINH, "reuse": {"TP2": item_id}}, [_upload("TP1")])
    with pytest.raises(ValidationError, match="không đúng định dạng YYYY-MM-DD"):
        engine.portal_reuse_offers("diploma_copy", {**AN, "date_of_birth": "12/05/1990"})
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == cases


def _upload(code: str):  # type: ignore[no-untyped-def]
    from engine.submissions import Upload

    return Upload(code, f"{code.lower()}.pdf", b"%PDF-1.4\n% " + code.encode() + b"\n")


def test_components_digitised_before_the_identity_check_join_the_store(engine: Engine) -> None:
    seed_population_records(engine.db)
    clerk = engine.actor("clerk")
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": AN["full_name"]}}, clerk
    ).code
    digitise_component(
        engine, code, "TP2", "cccd.png", b"\x89PNG\r\n\x1a\nscan", clerk, engine.files, fake_ocr
    )
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(CitizenDataItem)) == 0  # owner unknown
    population = LocalPopulationData(engine.db)
    check_identity(engine, code, AN["cccd"], AN["date_of_birth"], clerk, population, AN["full_name"])
    check_identity(engine, code, AN["cccd"], AN["date_of_birth"], clerk, population, AN["full_name"])
    with engine.db.read() as session:
        [item] = session.scalars(select(CitizenDataItem)).all()  # once, however often identity is checked
        assert (item.cccd, item.data_code, item.source_case_code) == (AN["cccd"], "CCCD", code)


def test_a_signed_result_is_offered_as_a_component_of_the_next_procedure(engine: Engine) -> None:
    """language_centre_operation's TP2 (the establishment decision) is the signed result of
    language_centre_establishment (dataCode KQ.language_centre_establishment)."""
    from tests.engine.helpers import result_pdf

    seed_population_records(engine.db)
    clerk = engine.actor("clerk")
    population = LocalPopulationData(engine.db)
    applicant = {"name": AN["full_name"], "id_number": AN["cccd"]}
    founded = engine.start_case(
        {"procedure_id": "language_centre_establishment", "applicant": applicant}, clerk
    )
    check_identity(engine, founded.code, AN["cccd"], AN["date_of_birth"], clerk, population, AN["full_name"])
    decision = engine.attach_result(
        founded.code,
        "quyet-dinh-thanh-lap.pdf",
        result_pdf("Quyet dinh thanh lap"),
        engine.actor("head"),
        sign=True,
    )
    assert decision.signer is not None
    operation = engine.start_case(
        {"procedure_id": "language_centre_operation", "applicant": applicant}, clerk
    )
    assert engine.reuse_offers(operation.code, clerk) == []  # a declared number is not enough
    check_identity(
        engine, operation.code, AN["cccd"], AN["date_of_birth"], clerk, population, AN["full_name"]
    )
    [offer] = engine.reuse_offers(operation.code, clerk)
    assert (offer.document_code, offer.source, offer.sha256) == ("TP2", "result", decision.sha256)
    engine.reuse_component(operation.code, offer.item_id, "TP2", clerk)
    [document] = engine.list_documents(operation.code)
    assert (
        engine.read_document(operation.code, document.id)[1]
        == engine.result_file(founded.code, decision.id)[1]
    )


def test_a_mismatching_identity_is_not_offered_the_store(engine: Engine, first: str) -> None:
    clerk = engine.actor("clerk")
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Kẻ Mạo Danh", "id_number": AN["cccd"]}}, clerk
    ).code
    check_identity(
        engine, code, AN["cccd"], "1990-05-13", clerk, LocalPopulationData(engine.db), "Kẻ Mạo Danh"
    )
    assert engine.reuse_offers(code, clerk) == []
    with pytest.raises(ValidationError, match="Chưa xác định được số CCCD"):
        engine.reuse_component(code, 1, "TP2", clerk)
