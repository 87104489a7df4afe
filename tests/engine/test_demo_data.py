"""The demo data of ``run.py init-db`` measures every Decision 766 indicator, checked by hand."""

from __future__ import annotations

from datetime import date

from engine.demo_data import seed_demo_dossiers
from engine.digitise import OcrOutput
from engine.service import Engine

STAFF = {"clerk": "clerk", "specialist": "specialist", "head": "head", "director": "director"}


def _ocr(content: bytes, name: str, content_type: str) -> OcrOutput:
    # The real OCR runs in test_digitise.py and the browser walk; here only the numbers matter.
    return OcrOutput(b"%PDF-1.7\n% CCCD\n", "CĂN CƯỚC CÔNG DÂN Nguyễn Văn An", 1)


def test_demo_dossiers_measure_every_indicator(engine: Engine) -> None:
    made = seed_demo_dossiers(engine, STAFF, _ocr)
    assert set(made) == {"counter", "online_reuse", "gateway_payment", "cash_payment", "complaint"}
    assert seed_demo_dossiers(engine, STAFF, _ocr) == {}  # once only
    card = engine.scorecard_766(date(2026, 3, 2), date(2026, 3, 2))
    statuses = {i.code: i.status for g in card.groups for i in g.indicators}
    assert "no_data" not in statuses.values(), statuses
    assert card.measured_max == card.max_points == 100
    got = {
        code: (card.indicator(code).numerator, card.indicator(code).denominator)
        for code in ("3.5", "3.6", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3")
    }
    # Received today: counter, online_reuse, gateway_payment, cash_payment = 4.
    # 3.5 the one fee-bearing procedure is integrated; 3.6 gateway ✓, cash ✗;
    # 4.1 paper-result dossiers returned: gateway_payment with its signed copy;
    # 4.2 counter (digitised ID card, signed result) ✓, online_reuse (uploaded online, reused,
    #     signed result) ✓,
    #     the two centre dossiers (nothing digitised) ✗; 4.3 online_reuse only;
    # 5.1–5.3 the one complaint: published, on time, rated satisfied.
    assert got == {
        "3.5": (1, 1),
        "3.6": (1, 2),
        "4.1": (1, 1),
        "4.2": (2, 4),
        "4.3": (1, 4),
        "5.1": (1, 1),
        "5.2": (1, 1),
        "5.3": (1, 1),
    }
    # 5.4: four dossiers judged, none late, one with a complaint → 1 − 1/4.
    # 2.1: the three returned the same day and the cash one (open, appointment weeks away) on time;
    # 5.4: none late, one with a complaint → 1 − 1/4.
    assert card.indicator("2.1").detail["late"] == []
    assert card.indicator("5.4").rate == 0.75
