"""Decision 766 scorecard against a hand-computed fixture (March 2026, national group maxima).

Every expected number below is worked out by hand in the comments from the dossiers listed in
``march()``; the code under test never produced them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from engine.calendar import WorkingCalendar
from engine.feedback_stats import FeedbackFact
from engine.feedback_stats import indicators as feedback_indicators
from engine.index766 import ProcedureInfo, ScorecardConfig, on_time_766, scorecard
from engine.outbox import STATUS_SYNC
from engine.reports import DossierFacts, local_bounds
from tests.support.fixtures import vn

FEE = 1_000_000


def d(
    code: str, procedure: str, channel: int, received: datetime | None, due: datetime | None, **kw: Any
) -> DossierFacts:
    fee = FEE if procedure == "centre_op" else 0
    result_type = "electronic" if procedure == "e_cert" else "paper"
    return DossierFacts(
        code, procedure, procedure, {"name": code}, channel, received or vn(2026, 3, 5, 9, 0), received,
        original_due_at=due, due_at=kw.pop("due_at", due), fee=fee, result_type=result_type, **kw,
    )  # fmt: skip


def march() -> list[DossierFacts]:
    return [
        # D1: finished early, returned electronically, synced, rated "very satisfied".
        d("D1", "diploma", 2, vn(2026, 3, 2, 9, 0), vn(2026, 3, 3, 9, 0), finished_at=vn(2026, 3, 2, 15, 0),
          returned_at=vn(2026, 3, 2, 16, 0), electronic_result=True, synced=True, rating=3,
          rated_at=vn(2026, 3, 2, 17, 0), outcome="early"),
        # D2: finished a day late, paper result, synced, rated "not satisfied".
        d("D2", "diploma", 1, vn(2026, 3, 3, 9, 0), vn(2026, 3, 4, 9, 0), finished_at=vn(2026, 3, 5, 10, 0),
          returned_at=vn(2026, 3, 5, 11, 0), synced=True, rating=1, rated_at=vn(2026, 3, 5, 12, 0),
          outcome="late"),
        # D3: one supplementation 9/3 10:00 → 11/3 10:00 (48 h), finished 11/3 15:00: 11/3 15:00 − 48 h =
        #     9/3 15:00 ≤ appointment 10/3 09:00 → on time. Not synced.
        d("D3", "diploma", 2, vn(2026, 3, 9, 9, 0), vn(2026, 3, 10, 9, 0), finished_at=vn(2026, 3, 11, 15, 0),
          returned_at=vn(2026, 3, 11, 16, 0), electronic_result=True, synced=False,
          supplements=((vn(2026, 3, 9, 10, 0), vn(2026, 3, 11, 10, 0)),)),
        # D4: fee-bearing, two supplementation requests → late whatever the dates; paid online; open.
        d("D4", "centre_op", 2, vn(2026, 3, 10, 9, 0), vn(2026, 3, 31, 9, 0), paid_online=True, synced=True,
          supplements=((vn(2026, 3, 12, 9, 0), vn(2026, 3, 13, 9, 0)),
                       (vn(2026, 3, 16, 9, 0), vn(2026, 3, 17, 9, 0)))),
        # D5: fee-bearing, open at the period's end (1/4 00:00), appointment 10/4 → on time; paid at the desk.
        d("D5", "centre_op", 1, vn(2026, 3, 20, 9, 0), vn(2026, 4, 10, 9, 0), paid_online=False, synced=True),
        # D6: electronic-result procedure, waiting for the citizen since 26/3 08:00 (appointment 09:00).
        d("D6", "e_cert", 2, vn(2026, 3, 25, 9, 0), vn(2026, 3, 26, 9, 0), synced=True,
          supplements=((vn(2026, 3, 26, 8, 0), None),)),
        # D7: received and finished in February → outside the period.
        d("D7", "diploma", 1, vn(2026, 2, 20, 9, 0), vn(2026, 2, 23, 9, 0), finished_at=vn(2026, 2, 21, 9, 0),
          returned_at=vn(2026, 2, 21, 10, 0), synced=True),
        # D8: received 25/2 (carried over), apology letter 26/2 → late; finished 2/3, paper result.
        d("D8", "diploma", 1, vn(2026, 2, 25, 9, 0), vn(2026, 2, 26, 9, 0), due_at=vn(2026, 3, 2, 17, 0),
          apologies=(vn(2026, 2, 26, 8, 0),), finished_at=vn(2026, 3, 2, 10, 0),
          returned_at=vn(2026, 3, 2, 11, 0), synced=True, outcome="late"),
        # D9: refused at the desk, never received → in no indicator.
        d("D9", "diploma", 2, None, None, refused_at=vn(2026, 3, 5, 10, 0)),
        # D10: fee-bearing, received 30/3, open, appointment 20/4 → on time; no payment or sync record.
        d("D10", "centre_op", 1, vn(2026, 3, 30, 9, 0), vn(2026, 4, 20, 9, 0)),
    ]  # fmt: skip


PROCEDURES = [
    ProcedureInfo("diploma", "partial"),
    ProcedureInfo("centre_op", "partial", FEE),
    ProcedureInfo("e_cert", "full"),
    ProcedureInfo("paper_only", "none"),
]
CONFIG = ScorecardConfig(online_payment_procedures=frozenset({"centre_op"}))


def card() -> Any:
    return scorecard(march(), date(2026, 3, 1), date(2026, 3, 31), PROCEDURES, CONFIG, WorkingCalendar())


def test_2_1_on_time_rate_with_the_supplementation_rules() -> None:
    start, end = local_bounds(date(2026, 3, 1), date(2026, 3, 31))
    facts = {f.code: f for f in march()}
    d3 = on_time_766(facts["D3"], start, end)
    assert d3 is not None and d3.on_time and d3.waited == timedelta(hours=48)
    assert d3.end == vn(2026, 3, 11, 15, 0)
    d4 = on_time_766(facts["D4"], start, end)
    assert d4 is not None and not d4.on_time and "nhiều hơn một lần" in d4.reason
    d6 = on_time_766(facts["D6"], start, end)
    assert d6 is not None and d6.on_time and d6.end == vn(2026, 3, 26, 8, 0)  # the pending request
    d10 = on_time_766(facts["D10"], start, end)
    assert d10 is not None and d10.on_time and d10.end == end  # open: measured at the period's end
    assert on_time_766(facts["D7"], start, end) is None and on_time_766(facts["D9"], start, end) is None
    i = card().indicator("2.1")
    # Population: D1 D2 D3 D4 D5 D6 D8 D10 = 8 (D7 ended in February, D9 never received).
    # On time: D1, D3, D5, D6, D10 = 5 → 5/8 = 0.625 → 0.625 × 20 = 12.5 points.
    assert (i.numerator, i.denominator, i.rate, i.points) == (5, 8, 0.625, 12.5)
    assert sorted(i.detail["late"]) == ["D2", "D4", "D8"]


def test_every_indicator_against_the_hand_computation() -> None:
    c = card()
    # 1.4: received in March = D1 D2 D3 D4 D5 D6 D10 = 7; synced D1 D2 D4 D5 D6 = 5 → 5/7;
    #      18 × 5/7 = 12.857142… → 12.8571.
    i = c.indicator("1.4")
    assert (i.numerator, i.denominator, i.points) == (5, 7, 12.8571)
    # 3.1: online (partial/full) diploma, centre_op, e_cert = 3 of 4 → 0.75; full from 80 %:
    #      min(1, 0.75 / 0.8) = 0.9375 × 6 = 5.625.
    i = c.indicator("3.1")
    assert (i.rate, i.max_points, i.points) == (0.75, 6, 5.625)
    # 3.3: channel 2 among the 7 received: D1 (electronic result ✓), D3 (✓), D4 (paper, no electronic
    #      result ✗), D6 (electronic procedure ✓) = 3; × sync rate 5/7 → 15/7; ÷ 7 = 15/49 = 0.306122…;
    #      full from 50 %: 0.306122 / 0.5 = 0.612245 × 6 = 3.673469… → 3.6735.
    i = c.indicator("3.3")
    assert i.rate == pytest.approx(15 / 49) and i.points == 3.6735 and i.status == "ok"
    # 3.5: fee-bearing procedures: centre_op, integrated → 1/1; full from 80 % → 5 points.
    assert (c.indicator("3.5").rate, c.indicator("3.5").points) == (1.0, 5.0)
    # 3.6: fee-bearing dossiers received: D4 (paid online), D5 (desk), D10 (no record) → 1/3 × 5 = 1.6667.
    i = c.indicator("3.6")
    assert (i.numerator, i.denominator, i.points) == (1, 3, 1.6667)
    # 4.1: paper-result dossiers returned in March: D1 ✓, D2 ✗, D3 ✓, D8 ✗ → 2/4 × 22/3 = 3.6667.
    i = c.indicator("4.1")
    assert (i.numerator, i.denominator, i.points) == (2, 4, 3.6667)
    # 5.4: overdue rate 3/8 (D2 D4 D8) + dislike share 1/8 (D2) = 0.5 → rate 0.5; full from 90 %:
    #      0.5 / 0.9 × 6 = 3.3333.
    i = c.indicator("5.4")
    assert i.rate == pytest.approx(0.5) and i.points == 3.3333 and i.max_points == 6
    assert i.status == "partial" and "phản ánh" in i.note


def test_no_data_is_reported_not_invented() -> None:
    c = card()
    for code in ("5.1", "5.2", "5.3"):  # no complaint records given
        assert c.indicator(code).status == "no_data" and c.indicator(code).points is None
    # 4.2 and 4.3 come from the histories: nothing digitised or reused in march() → measured, 0 of 7.
    for code in ("4.2", "4.3"):
        i = c.indicator(code)
        assert (i.status, i.numerator, i.denominator, i.points) == ("ok", 0, 7, 0.0)
    bare = scorecard(march(), date(2026, 3, 1), date(2026, 3, 31))  # no procedures, no payment config
    assert bare.indicator("3.1").status == "no_data" and bare.indicator("3.5").status == "no_data"
    assert bare.indicator("2.2").status == "no_data"  # no calendar given
    unsynced = [DossierFacts(**{**f.__dict__, "synced": None}) for f in march()]
    s = scorecard(unsynced, date(2026, 3, 1), date(2026, 3, 31))
    assert s.group("CKMB").points is None and s.indicator("1.4").status == "no_data"
    # Without a sync rate 3.3 is the plain online share (3/7), flagged as partial.
    assert s.indicator("3.3").rate == pytest.approx(3 / 7) and s.indicator("3.3").status == "partial"


def test_group_points_and_total() -> None:
    c = card()
    points = {g.code: (g.points, g.measured_max) for g in c.groups}
    assert points == {
        "CKMB": (12.8571, 18),
        "TDGQ": (12.5, 20),
        "CLGQ": (9.2985, 12),  # 5.625 + 3.6735
        "TTTT": (6.6667, 10),  # 5 + 1.6667
        "MDHL": (3.3333, 6),  # only 5.4 (6 of 18 points) has data
        "MDSH": (3.6667, 22),  # 4.1 3.6667 + 4.2 0 + 4.3 0, each 22/3 points
    }
    # 12.8571 + 12.5 + 9.2985 + 6.6667 + 3.3333 + 3.6667 = 48.3223 of 88 measurable, 100 in all.
    assert (c.points, c.measured_max, c.max_points) == (48.3223, 88, 100)


def test_2_2_average_time_per_procedure_in_its_unit() -> None:
    averages = card().indicator("2.2").detail
    # Working time received → result (07:30–11:30 + 13:30–17:00 = 7.5 h a day), minus answered waits:
    # D1 2/3 09:00→15:00 = 2.5 + 1.5 = 4 h;
    # D2 3/3 09:00→5/3 10:00 = 6 + 7.5 + 2.5 = 16 h;
    # D3 9/3 09:00→11/3 15:00 = 6 + 7.5 + 5.5 = 19 h, minus 9/3 10:00→11/3 10:00 = 5 + 7.5 + 2.5 = 15 h → 4 h;
    # D8 Wed 25/2 09:00→Mon 2/3 10:00 = 6 + 7.5 + 7.5 + 2.5 = 23.5 h.
    # Converted at 8 h per working day (working-time.md): (0.5 + 2 + 0.5 + 2.9375) / 4 = 1.484375 → 1.48.
    assert averages["diploma"] == {"average": 1.48, "dossiers": 4}
    assert set(averages) == {"diploma"}  # nothing else finished in March


def test_group_maxima_and_thresholds_are_configuration() -> None:
    seed_004 = ScorecardConfig(
        group_max={"CKMB": 18, "TDGQ": 20, "CLGQ": 11, "TTTT": 9, "MDHL": 22, "MDSH": 18},
        online_payment_procedures=frozenset(),
    )
    c = scorecard(march(), date(2026, 3, 1), date(2026, 3, 31), PROCEDURES, seed_004)
    assert c.max_points == 98
    assert c.indicator("3.1").max_points == 5.5 and c.indicator("3.1").points == 5.1562  # 0.9375 × 5.5
    assert c.indicator("3.5").points == 0.0  # declared: nothing integrated
    assert c.indicator("5.4").max_points == pytest.approx(22 * 6 / 18, abs=1e-4)


def test_scorecard_from_the_database_and_cli(engine: Any, clock: Any, capsys: Any) -> None:
    import json

    import run

    clock.set(vn(2026, 3, 2, 9, 0))
    view = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Vũ Thị Thu"}, "channel": 2},
        engine.actor("citizen"),
    )
    for element, user, data in (
        ("receipt_check", "clerk", {"decision": "accept", "checked_documents": ["TP1", "TP2"]}),
        ("verify_register", "specialist", {"found": True, "register_ref": "B", "copies": 1}),
        ("approve_copy", "head", {"approved": True}),
        ("return_result", "clerk", {"method": "electronic", "returned_to": "Vũ Thị Thu"}),
    ):
        clock.set(clock.now() + timedelta(minutes=30))
        engine.complete_task(view.code, element, data, engine.actor(user))
    engine.rate(view.code, view.secret, 1, "Chờ lâu")
    card = engine.scorecard_766(date(2026, 3, 1), date(2026, 3, 31))
    assert card.indicator("2.1").rate == 1.0 and card.indicator("2.1").points == 20
    assert card.indicator("3.1").rate == 1.0  # every library procedure is offered online (partly)
    # The status sync to the national portal is queued (outbox) but no worker delivered it yet.
    assert card.indicator("1.4").rate == 0.0 and card.indicator("3.3").detail == {"sync_rate": 0.0}
    engine.deliver_outbox({STATUS_SYNC: lambda message: {"ok": True}})  # the portal took it
    card = engine.scorecard_766(date(2026, 3, 1), date(2026, 3, 31))
    assert card.indicator("1.4").rate == 1.0
    assert card.indicator("3.3").rate == 1.0  # online, with an electronic result, synced
    # diploma_copy issues an electronic result: outside 4.1's denominator (paper-result procedures).
    assert card.indicator("4.1").status == "not_applicable"
    # Uploaded online by the citizen? No file was uploaded, nothing digitised or reused: 0 of 1.
    assert (card.indicator("4.2").numerator, card.indicator("4.2").denominator) == (0, 1)
    assert card.indicator("5.4").rate == 0.0  # the one dossier was rated "not satisfied"
    assert card.indicator("2.2").detail["diploma_copy"]["dossiers"] == 1
    args = ["audit", "index766", "--from", "2026-03-01", "--to", "2026-03-31", "--db", engine.db.url]
    assert run.main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [g["code"] for g in out["groups"]] == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDHL", "MDSH"]
    assert run.main(args) == 0
    printed = capsys.readouterr().out
    assert "TDGQ Tiến độ giải quyết: 20 / 20" in printed and "chưa có dữ liệu" in printed


def test_digitisation_reuse_and_complaints_against_the_hand_computation() -> None:
    digital: dict[str, dict[str, Any]] = {
        "D1": {"components_digital": True, "result_digital": True, "reused": True},
        "D2": {"components_digital": True},  # returned, result neither digitised nor signed
        "D3": {"components_digital": True},  # returned with a signed electronic result
        "D4": {"components_digital": True, "reused": True},  # open
        "D5": {"complaints": (vn(2026, 3, 22, 9, 0),)},
        "D6": {"components_digital": True},  # open
    }
    facts = [DossierFacts(**{**f.__dict__, **digital.get(f.code, {})}) for f in march()]
    start, end = local_bounds(date(2026, 3, 1), date(2026, 3, 31))
    items = [
        # F1 answered and published on time, rated very satisfied.
        FeedbackFact(vn(2026, 3, 2, 9, 0), vn(2026, 3, 6, 17, 0), vn(2026, 3, 4, 9, 0),
                     vn(2026, 3, 9, 17, 0), vn(2026, 3, 5, 9, 0), 3, False),
        # F2 answered after its deadline (16/3 > 13/3), published.
        FeedbackFact(vn(2026, 3, 10, 9, 0), vn(2026, 3, 13, 17, 0), vn(2026, 3, 16, 9, 0),
                     vn(2026, 3, 20, 17, 0), vn(2026, 3, 17, 9, 0), 2, False),
        # F3 answered on time, not published by 30/3 → late at the period's end.
        FeedbackFact(vn(2026, 3, 20, 9, 0), vn(2026, 3, 25, 17, 0), vn(2026, 3, 24, 9, 0),
                     vn(2026, 3, 30, 17, 0), None, None, False),
        # F4 open, deadline 3/4 not yet passed; a repeat of an earlier item.
        FeedbackFact(vn(2026, 3, 27, 9, 0), vn(2026, 4, 3, 17, 0), None, None, None, None, True),
    ]  # fmt: skip
    numbers = feedback_indicators(items, start, end, end)
    c = scorecard(facts, date(2026, 3, 1), date(2026, 3, 31), PROCEDURES, CONFIG, WorkingCalendar(), numbers)
    # 4.2: received D1 D2 D3 D4 D5 D6 D10 = 7; digitised D1 (result digitised), D3 (result signed),
    #      D4, D6 (open) = 4; D2 returned without a digital result ✗ → 4/7; full from 80 %:
    #      4/7 / 0.8 = 0.714286 × 22/3 = 5.238095 → 5.2381.
    i = c.indicator("4.2")
    assert (i.numerator, i.denominator, i.points, i.status) == (4, 7, 5.2381, "ok")
    # 4.3: reused D1, D4 = 2/7 / 0.8 = 0.357143 × 22/3 = 2.619048 → 2.619.
    i = c.indicator("4.3")
    assert (i.numerator, i.denominator, i.points) == (2, 7, 2.619)
    # 5.1: published F1 F2 = 2/4 × 5 = 2.5; 5.2: on time and published F1 = 1/4 × 5 = 1.25;
    # 5.3: 4 − (F2 late, F3 late, F4 repeated) = 1/4 × 2 = 0.5.
    got = {code: (c.indicator(code).numerator, c.indicator(code).points) for code in ("5.1", "5.2", "5.3")}
    assert got == {"5.1": (2, 2.5), "5.2": (1, 1.25), "5.3": (1, 0.5)}
    # 5.4: overdue 3/8 (D2 D4 D8) + complained or disliked 2/8 (D2 rated 1, D5 complained) → 0.375;
    #      0.375 / 0.9 × 6 = 2.5; measured in full now that complaints are recorded.
    i = c.indicator("5.4")
    assert i.rate == pytest.approx(0.375) and i.points == 2.5 and i.status == "ok"
    # MDSH: 3.6667 + 5.2381 + 2.619 = 11.5238; MDHL: 2.5 + 1.25 + 0.5 + 2.5 = 6.75 of 18.
    assert (c.group("MDSH").points, c.group("MDHL").points, c.group("MDHL").measured_max) == (
        11.5238,
        6.75,
        18,
    )


# ------------------------------------------------------------------ the dossiers a window reads


def _may_count(f: DossierFacts, start: datetime, end: datetime) -> bool:
    """engine.facts_store.window_facts' selection, as its SQL spells it: a moment in or after the
    window's start and submitted before its end, or received before its end and never ended."""
    from engine.reports import latest_moment

    moved = latest_moment(f) >= start and f.submitted_at < end
    open_ = f.ended_at is None and f.received_at is not None and f.received_at < end
    return moved or open_


def test_the_window_s_dossiers_give_the_scorecard_and_director_view_of_every_dossier() -> None:
    """The scorecard and the director view read only the dossiers that can count in the window
    (the facts read model's window); every indicator, trend and gap list is the one computed over
    every dossier, for months, a quarter, a year and single days around the fixtures' moments."""
    from engine.index766_targets import director_view
    from tests.engine.test_report_dataset import dataset

    every = [*march(), *dataset()]
    calendar = WorkingCalendar()
    windows = [(date(2026, m, 1), date(2026, m + 1, 1) - timedelta(days=1)) for m in range(1, 6)]
    windows += [(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 1, 1), date(2026, 12, 31))]
    windows += [(date(2026, 3, day), date(2026, 3, day)) for day in (2, 5, 9, 11, 20, 26, 31)]
    left_out = 0
    for first, last in windows:
        start, end = local_bounds(first, last)
        read = [f for f in every if _may_count(f, start, end)]
        left_out += len(every) - len(read)
        assert scorecard(read, first, last, PROCEDURES, CONFIG, calendar) == scorecard(
            every, first, last, PROCEDURES, CONFIG, calendar
        ), (first, last)
        targets = {"2.1": 0.9, "3.3": 0.5, "4.2": 0.8}
        assert director_view(read, first, last, PROCEDURES, CONFIG, calendar, targets) == director_view(
            every, first, last, PROCEDURES, CONFIG, calendar, targets
        ), (first, last)
    assert left_out > 0  # the windows did leave dossiers out
