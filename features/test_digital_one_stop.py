"""Binds features/digital_one_stop.feature: reuse, signed results, cash payment (SQLite and
PostgreSQL); its own steps are here, the shared ones in features/conftest.py."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from engine.demo_pki import make_pki
from engine.digitise import OcrOutput, digitise_component
from engine.errors import MotcuaError
from engine.identity import Citizen, LocalPopulationData, check_identity, seed_population_records
from engine.service import Engine
from tests.engine.helpers import result_pdf

scenarios("digital_one_stop.feature")


def _ocr(content: bytes, name: str, content_type: str) -> OcrOutput:
    return OcrOutput(b"%PDF-1.7\n% CCCD\n", "CĂN CƯỚC CÔNG DÂN", 1)


@given(parsers.parse('cơ sở dữ liệu dân cư có công dân "{cccd}" sinh ngày "{born}"'))
def population(engine: Engine, cccd: str, born: str) -> None:
    seed_population_records(engine.db, (Citizen(cccd, "Nguyễn Văn An", date.fromisoformat(born), "nam"),))


def _identified_case(engine: Engine, cccd: str, born: str) -> str:
    clerk = engine.actor("clerk")
    code = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Nguyễn Văn An"}}, clerk
    ).code
    check_identity(engine, code, cccd, born, clerk, LocalPopulationData(engine.db), "Nguyễn Văn An")
    return code


@when(parsers.parse('cán bộ một cửa tiếp nhận hồ sơ của công dân "{cccd}" sinh ngày "{born}"'))
def first_case(engine: Engine, ctx: dict[str, Any], cccd: str, born: str) -> None:
    ctx["code"] = _identified_case(engine, cccd, born)


@when(parsers.parse('cán bộ một cửa tiếp nhận hồ sơ thứ hai của công dân "{cccd}" sinh ngày "{born}"'))
def second_case(engine: Engine, ctx: dict[str, Any], cccd: str, born: str) -> None:
    ctx["second"] = _identified_case(engine, cccd, born)


@when(parsers.parse('cán bộ một cửa số hóa thành phần "{component}" của hồ sơ'))
def digitise(engine: Engine, ctx: dict[str, Any], component: str) -> None:
    scan = b"\x89PNG\r\n\x1a\nscan"
    digitise_component(
        engine, ctx["code"], component, "cccd.png", scan, engine.actor("clerk"), engine.files, _ocr
    )


@then(parsers.parse('hồ sơ thứ hai được gợi ý dùng lại thành phần "{component}" từ hồ sơ đầu'))
def offered(engine: Engine, ctx: dict[str, Any], component: str) -> None:
    offers = engine.reuse_offers(ctx["second"], engine.actor("clerk"))
    assert [(o.document_code, o.source_case_code) for o in offers] == [(component, ctx["code"])]
    ctx["offer"] = offers[0].item_id


@when(parsers.parse('cán bộ một cửa dùng lại thành phần "{component}" cho hồ sơ thứ hai'))
def reuse(engine: Engine, ctx: dict[str, Any], component: str) -> None:
    engine.reuse_component(ctx["second"], ctx["offer"], component, engine.actor("clerk"))


@then(parsers.parse('nhật ký hồ sơ thứ hai có sự kiện "{kind}"'))
def second_has_event(engine: Engine, ctx: dict[str, Any], kind: str) -> None:
    assert kind in [e.kind for e in engine.events(ctx["second"])]


@when("cán bộ một cửa nhận đủ cả hai hồ sơ")
def accept_both(engine: Engine, ctx: dict[str, Any]) -> None:
    for code in (ctx["code"], ctx["second"]):
        engine.complete_task(
            code,
            "receipt_check",
            {"decision": "accept", "checked_documents": ["TP1", "TP2"]},
            engine.actor("clerk"),
        )


@then(parsers.parse('chỉ số 766 "{code}" của ngày "{day}" là {numerator:d} trên {denominator:d}'))
def indicator(engine: Engine, code: str, day: str, numerator: int, denominator: int) -> None:
    card = engine.scorecard_766(date.fromisoformat(day), date.fromisoformat(day))
    assert (card.indicator(code).numerator, card.indicator(code).denominator) == (numerator, denominator)


@when("chứng thư số của cơ quan đã hết hạn")
def expired(engine: Engine, tmp_path: Path) -> None:
    engine.signing = make_pki(tmp_path / "old", engine.clock.now() - timedelta(days=400), valid_days=100)


@then(parsers.parse('chuyên viên không đính kèm được kết quả, với thông báo "{text}"'))
def result_refused(engine: Engine, ctx: dict[str, Any], text: str) -> None:
    before = len(engine.events(ctx["code"]))
    with pytest.raises(MotcuaError) as refused:
        engine.attach_result(ctx["code"], "ban-sao.pdf", result_pdf(), engine.actor("specialist"))
    assert text in refused.value.message and len(engine.events(ctx["code"])) == before


@then("hồ sơ không có kết quả điện tử")
def no_result(engine: Engine, ctx: dict[str, Any]) -> None:
    assert engine.case_results(ctx["code"]) == []


@then(parsers.parse('cán bộ một cửa không thu được {amount:d} đồng, với thông báo "{text}"'))
def cash_refused(engine: Engine, ctx: dict[str, Any], amount: int, text: str) -> None:
    with pytest.raises(MotcuaError) as refused:
        engine.record_cash_payment(ctx["code"], amount, engine.actor("clerk"))
    assert text in refused.value.message and engine.case_payments(ctx["code"]) == []


@when(parsers.parse("cán bộ một cửa thu {amount:d} đồng tiền mặt"))
def cash(engine: Engine, ctx: dict[str, Any], amount: int) -> None:
    engine.record_cash_payment(ctx["code"], amount, engine.actor("clerk"))


@then(parsers.parse('hồ sơ có biên lai điện tử số {number:d} thu bằng "{method}"'))
def receipt(engine: Engine, ctx: dict[str, Any], number: int, method: str) -> None:
    [paid] = engine.case_payments(ctx["code"])
    assert (paid.receipt_number, paid.method) == (f"BL-{ctx['code']}-{number}", method)
    assert engine.payment_receipt(ctx["code"], paid.receipt_number or "").amount == paid.amount
