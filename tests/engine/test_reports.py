"""Register (Mẫu 06), control sheet (Mẫu 05), periodic report and exports, on hand-built data.

Everything here is pure: dossiers are written out by hand as timelines (DossierFacts) or as event
lists, so each expected number can be checked by reading the fixture.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from engine.errors import ValidationError
from engine.replay import ReplayEvent
from engine.reports import (
    CUTOFF_PRESETS,
    DESK_UNIT,
    CutoffRule,
    DossierFacts,
    control_sheet,
    dossier_facts,
    handling_unit,
    period_window,
    periodic_report,
    periodic_report_for,
    register,
    to_csv,
    to_xlsx,
)
from tests.support.fixtures import vn

HANOI = CutoffRule(start_day=15)


# ------------------------------------------------------------------------------------ periods


@pytest.mark.parametrize(
    ("period", "calendar", "hanoi"),
    [
        ("q1", (date(2026, 1, 1), date(2026, 3, 31)), (date(2025, 12, 15), date(2026, 3, 14))),
        ("q2", (date(2026, 4, 1), date(2026, 6, 30)), (date(2026, 3, 15), date(2026, 6, 14))),
        ("h1", (date(2026, 1, 1), date(2026, 6, 30)), (date(2025, 12, 15), date(2026, 6, 14))),
        ("q3", (date(2026, 7, 1), date(2026, 9, 30)), (date(2026, 6, 15), date(2026, 9, 14))),
        ("9m", (date(2026, 1, 1), date(2026, 9, 30)), (date(2025, 12, 15), date(2026, 9, 14))),
        ("q4", (date(2026, 10, 1), date(2026, 12, 31)), (date(2026, 9, 15), date(2026, 12, 14))),
        ("year", (date(2026, 1, 1), date(2026, 12, 31)), (date(2025, 12, 15), date(2026, 12, 14))),
    ],
)
def test_period_windows(period: str, calendar: tuple[date, date], hanoi: tuple[date, date]) -> None:
    assert period_window(2026, period) == calendar
    assert period_window(2026, period, HANOI) == hanoi


def test_a_window_can_be_set_by_hand_and_bad_periods_are_refused() -> None:
    rule = CutoffRule(start_day=15, overrides={(2026, "q1"): (date(2025, 12, 16), date(2026, 3, 13))})
    assert period_window(2026, "q1", rule) == (date(2025, 12, 16), date(2026, 3, 13))
    assert period_window(2026, "q2", rule) == (date(2026, 3, 15), date(2026, 6, 14))
    with pytest.raises(ValidationError, match="Kỳ báo cáo không hợp lệ"):
        period_window(2026, "q5")


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # Plan 002 (Hà Nội 2024): every report from 10/12 of the previous year to the 10th of the
        # period's last month, both ends inclusive.
        ("q1", (date(2023, 12, 10), date(2024, 3, 10))),
        ("h1", (date(2023, 12, 10), date(2024, 6, 10))),
        ("9m", (date(2023, 12, 10), date(2024, 9, 10))),
        ("year", (date(2023, 12, 10), date(2024, 12, 10))),
        ("m2", (date(2024, 1, 10), date(2024, 2, 10))),
    ],
)
def test_plan_002_windows_end_on_the_tenth_inclusive(period: str, expected: tuple[date, date]) -> None:
    assert period_window(2024, period, CUTOFF_PRESETS["002"]) == expected


def test_monthly_periods_and_month_ends() -> None:
    assert period_window(2026, "m2") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_window(2024, "m2") == (date(2024, 2, 1), date(2024, 2, 29))
    # Plan 000's window for a month: 15th of the month before to the 14th.
    assert period_window(2026, "m1", CUTOFF_PRESETS["000"]) == (date(2025, 12, 15), date(2026, 1, 14))
    # An end day beyond the month is its last day; start 1 with an end day cuts the month short.
    assert period_window(2026, "q1", CutoffRule(20, 31)) == (date(2025, 12, 20), date(2026, 3, 31))
    assert period_window(2026, "m2", CutoffRule(1, 25)) == (date(2026, 2, 1), date(2026, 2, 25))
    assert periodic_report_for([], 2026, "m7").label == "Tháng 7 năm 2026"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (lambda: CutoffRule(0), "Ngày bắt đầu kỳ số liệu phải từ 1 đến 28"),
        (lambda: CutoffRule(29), "Ngày bắt đầu kỳ số liệu phải từ 1 đến 28"),
        (lambda: CutoffRule(10, 32), "Ngày chốt số liệu phải từ 1 đến 31"),
    ],
)
def test_bad_cutoff_windows_are_refused(rule: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rule()


def test_cutoff_windows_describe_themselves() -> None:
    assert CutoffRule().describe() == "theo tháng dương lịch"
    assert CUTOFF_PRESETS["000"].describe() == "từ ngày 15 tháng trước kỳ đến ngày 14 tháng cuối kỳ"
    assert CUTOFF_PRESETS["002"].describe() == "từ ngày 10 tháng trước kỳ đến ngày 10 tháng cuối kỳ"


# ------------------------------------------------------------------------------------ facts


def ev(seq: int, at: datetime, kind: str, actor: str = "clerk", **fields: Any) -> ReplayEvent:
    return ReplayEvent(
        seq=seq,
        at=at,
        actor=actor,
        kind=kind,
        task_id=fields.pop("task_id", None),
        element_id=fields.pop("element_id", None),
        status_from=fields.pop("status_from", None),
        status_to=fields.pop("status_to", None),
        payload=fields.pop("payload", {}),
    )


ELEMENTS = {
    "receipt_check": {"name": "Kiểm tra, tiếp nhận hồ sơ", "lane": "Bộ phận một cửa", "role": "desk_clerk"},
    "appraise": {"name": "Thẩm định hồ sơ", "lane": "Chuyên viên", "role": "specialist"},
    "supplement": {"name": "Bổ sung hồ sơ", "lane": "Công dân", "role": "citizen"},
    "sign": {"name": "Ký quyết định", "lane": "Lãnh đạo Sở", "role": "director"},
    "return_result": {
        "name": "Trả kết quả",
        "lane": "Bộ phận một cửa",
        "role": "desk_clerk",
        "kind": "return",
    },
}


def iso(*parts: int) -> str:
    return vn(*parts).isoformat()


def history() -> list[ReplayEvent]:
    """A dossier received Mon 2/3 09:00, supplemented 4/3→6/3, apology, finished 20/3, returned online."""
    applicant = {"name": "Lê Văn Cường", "address": "12 Lê Lợi, Huế", "phone": "0905000111"}
    return [
        ev(1, vn(2026, 3, 2, 8, 30), "case_started", status_to=1,
           payload={"procedure_id": "centre", "channel": 2, "applicant": applicant, "data": {}}),
        ev(2, vn(2026, 3, 2, 8, 30), "task_ready", task_id="t1", element_id="receipt_check",
           payload={"role": "desk_clerk", "due_at": iso(2026, 3, 2, 9, 30)}),
        ev(3, vn(2026, 3, 2, 9, 0), "task_completed", task_id="t1", element_id="receipt_check",
           payload={"data": {"decision": "accept"}, "due_at": iso(2026, 3, 2, 9, 30), "outcome": "on_time"}),
        ev(4, vn(2026, 3, 2, 9, 0), "status_changed", status_from=1, status_to=2),
        ev(5, vn(2026, 3, 2, 9, 0), "due_set",
           payload={"reason": "accepted", "due_at": iso(2026, 3, 16, 9, 0)}),
        ev(6, vn(2026, 3, 2, 9, 0), "status_changed", status_from=2, status_to=4),
        ev(7, vn(2026, 3, 2, 9, 0), "task_ready", task_id="t2", element_id="appraise",
           payload={"role": "specialist", "due_at": iso(2026, 3, 4, 9, 0)}),
        ev(8, vn(2026, 3, 4, 10, 0), "task_completed", "anh", task_id="t2", element_id="appraise",
           payload={"data": {}, "due_at": iso(2026, 3, 4, 9, 0), "outcome": "late"}),
        ev(9, vn(2026, 3, 4, 10, 0), "status_changed", "anh", status_from=4, status_to=5),
        ev(10, vn(2026, 3, 4, 10, 0), "clock_paused", "anh", payload={"supplements": 1}),
        ev(11, vn(2026, 3, 4, 10, 0), "task_ready", "anh", task_id="t3", element_id="supplement",
           payload={"role": "citizen", "due_at": None}),
        ev(12, vn(2026, 3, 6, 14, 0), "task_completed", "citizen", task_id="t3", element_id="supplement",
           payload={"data": {}, "due_at": None, "outcome": None}),
        ev(13, vn(2026, 3, 6, 14, 0), "status_changed", "citizen", status_from=5, status_to=4),
        ev(14, vn(2026, 3, 6, 14, 0), "due_set", "citizen",
           payload={"reason": "supplemented_restart", "due_at": iso(2026, 3, 20, 14, 0)}),
        ev(15, vn(2026, 3, 6, 14, 0), "task_ready", "citizen", task_id="t4", element_id="sign",
           payload={"role": "director", "due_at": iso(2026, 3, 9, 14, 0)}),
        ev(16, vn(2026, 3, 9, 8, 0), "task_claimed", "binh", task_id="t4", element_id="sign",
           payload={"assignee": "binh"}),
        ev(17, vn(2026, 3, 19, 16, 0), "apology_issued", "binh",
           payload={"new_due_at": iso(2026, 3, 25, 17, 0), "original_due_at": iso(2026, 3, 20, 14, 0)}),
        ev(18, vn(2026, 3, 23, 10, 0), "task_completed", "binh", task_id="t4", element_id="sign",
           payload={"data": {}, "due_at": iso(2026, 3, 9, 14, 0), "outcome": "late"}),
        ev(19, vn(2026, 3, 23, 10, 0), "status_changed", "binh", status_from=4, status_to=9),
        ev(20, vn(2026, 3, 23, 10, 0), "case_finished", "binh", payload={"outcome": "late"}),
        ev(21, vn(2026, 3, 23, 10, 0), "task_ready", "binh", task_id="t5", element_id="return_result",
           payload={"role": "desk_clerk", "due_at": iso(2026, 3, 23, 11, 0)}),
        ev(22, vn(2026, 3, 23, 10, 30), "task_completed", task_id="t5", element_id="return_result",
           payload={"data": {"method": "electronic"}, "due_at": iso(2026, 3, 23, 11, 0),
                    "outcome": "on_time"}),
        ev(23, vn(2026, 3, 23, 10, 30), "status_changed", status_from=9, status_to=10),
    ]  # fmt: skip


def test_the_handling_unit_is_the_first_processing_unit_else_the_desk() -> None:
    units = {"clerk": "Bộ phận một cửa", "anh": "Phòng GDTX", "binh": "Ban Giám đốc"}

    def done(seq: int, actor: str, role: str) -> ReplayEvent:
        return ev(seq, vn(2026, 3, 2, 9, seq), "task_completed", actor, payload={"role": role, "data": {}})

    start = ev(1, vn(2026, 3, 2, 8, 0), "case_started", status_to=1, payload={})
    assert handling_unit([start], units) == DESK_UNIT  # awaiting receipt: the desk holds it
    assert handling_unit([start, done(2, "clerk", "desk_clerk")], units) == "Bộ phận một cửa"
    steps = [start, done(2, "clerk", "desk_clerk"), done(3, "anh", "specialist"), done(4, "binh", "director")]
    assert handling_unit(steps, units) == "Phòng GDTX"
    assert handling_unit(steps, {}) == DESK_UNIT  # removed accounts: still never "(chưa xác định)"


def test_facts_follow_the_timeline() -> None:
    f = dossier_facts(
        "H99.12-260302-0001", history(), procedure_name="Trung tâm", elements=ELEMENTS, unit="Phòng GDTX"
    )
    assert (f.procedure_id, f.channel, f.status, f.unit) == ("centre", 2, 10, "Phòng GDTX")
    assert f.submitted_at == vn(2026, 3, 2, 8, 30) and f.received_at == vn(2026, 3, 2, 9, 0)
    assert f.original_due_at == vn(2026, 3, 16, 9, 0)  # printed on the receipt
    assert f.due_at == vn(2026, 3, 25, 17, 0)  # after the restart and the apology
    assert f.handed_over_at == vn(2026, 3, 2, 9, 0)  # the specialist's step became ready
    assert f.supplements == ((vn(2026, 3, 4, 10, 0), vn(2026, 3, 6, 14, 0)),)
    assert f.apologies == (vn(2026, 3, 19, 16, 0),)
    assert (f.finished_at, f.returned_at, f.outcome) == (
        vn(2026, 3, 23, 10, 0),
        vn(2026, 3, 23, 10, 30),
        "late",
    )
    assert f.return_method == "electronic" and f.electronic_result is True
    # The appointment in force at a moment: before the apology it was the restarted one.
    assert f.due_as_of(vn(2026, 3, 19, 0, 0)) == vn(2026, 3, 20, 14, 0)
    assert f.due_as_of(vn(2026, 3, 21, 0, 0)) == vn(2026, 3, 25, 17, 0)
    assert f.waiting_at(vn(2026, 3, 5, 0, 0)) == vn(2026, 3, 4, 10, 0)
    assert f.waiting_at(vn(2026, 3, 7, 0, 0)) is None


# ------------------------------------------------------------------------------------ register, control sheet


def test_register_rows_mau_06() -> None:
    f = dossier_facts(
        "H99.12-260302-0001", history(), procedure_name="Cho phép hoạt động trung tâm", elements=ELEMENTS
    )
    other = DossierFacts(
        code="H99.12-260301-0001",
        procedure_id="diploma_copy",
        procedure_name="Cấp bản sao văn bằng",
        applicant={"name": "Phạm Thu"},
        channel=1,
        submitted_at=vn(2026, 3, 1, 15, 0),
        refused_at=vn(2026, 3, 1, 15, 30),
        status=3,
    )
    outside = DossierFacts("X", "p", "", {"name": "Ngoài kỳ"}, 1, vn(2026, 4, 1, 8, 0))
    table = register([f, outside, other], date(2026, 3, 1), date(2026, 3, 31), agency="Sở GDĐT")
    assert table.title.startswith("SỔ THEO DÕI HỒ SƠ")
    assert [r[1] for r in table.rows] == ["H99.12-260301-0001", "H99.12-260302-0001"]  # by arrival
    row = dict(zip(table.headers, table.rows[1], strict=True))
    assert row["STT"] == 2 and row["Tên cá nhân, tổ chức"] == "Lê Văn Cường"
    assert row["Địa chỉ, số điện thoại"] == "12 Lê Lợi, Huế, 0905000111"
    # No unit known (no staff table here): the desk handles it, never the agency code.
    assert row["Kênh nộp"] == "Trực tuyến" and row["Cơ quan, đơn vị giải quyết"] == DESK_UNIT
    assert row["Ngày, giờ nhận hồ sơ"] == "09:00 02/03/2026"
    assert row["Ngày, giờ hẹn trả kết quả"] == "09:00 16/03/2026"
    assert row["Ngày, giờ chuyển hồ sơ"] == "09:00 02/03/2026"
    assert row["Ngày, giờ có kết quả"] == "10:00 23/03/2026"
    assert row["Ngày, giờ trả kết quả"] == "10:30 23/03/2026"
    assert row["Tình trạng"] == "Đã trả kết quả"
    assert row["Ghi chú"] == "Quá hạn; Yêu cầu bổ sung 1 lần; Phiếu xin lỗi, hẹn lại: 17:00 25/03/2026"
    assert table.rows[0][-1] == "Từ chối"


def test_control_sheet_mau_05_one_row_per_handover() -> None:
    names = {"clerk": "Nguyễn Thị Lan", "anh": "Trần Văn Anh", "binh": "Lê Bình"}
    table = control_sheet("H99.12-260302-0001", history(), ELEMENTS, names)
    rows = [dict(zip(table.headers, r, strict=True)) for r in table.rows]
    assert [r["Bước"] for r in rows] == [
        "Nộp hồ sơ",
        "Kiểm tra, tiếp nhận hồ sơ",
        "Thẩm định hồ sơ",
        "Bổ sung hồ sơ",
        "Ký quyết định",
        "Trả kết quả",
    ]
    assert rows[0]["Người giao"] == "Lê Văn Cường" and rows[0]["Người nhận"] == "Nguyễn Thị Lan"
    assert rows[1]["Người giao"] == "Nguyễn Thị Lan" and rows[1]["Bộ phận nhận"] == "Chuyên viên"
    assert rows[1]["Người nhận"] == "Trần Văn Anh" and rows[1]["Kết quả"] == "Đúng hạn"
    assert rows[2]["Bộ phận nhận"] == "Công dân" and rows[2]["Kết quả"] == "Quá hạn"
    assert rows[3]["Người nhận"] == "Lê Bình"  # claimed, then completed, the director's step
    assert (
        rows[4]["Thời gian giao, nhận"] == "10:00 23/03/2026"
        and rows[4]["Hạn của bước"] == "14:00 09/03/2026"
    )
    assert rows[5]["Bộ phận nhận"] == "(kết thúc)"
    assert table.subtitle == ("Mã hồ sơ: H99.12-260302-0001", "Người nộp: Lê Văn Cường")


# ------------------------------------------------------------------------------------ periodic


def dossier(
    code: str, procedure: str, channel: int, received: datetime | None, **fields: Any
) -> DossierFacts:
    submitted = fields.pop("submitted_at", received)
    due = fields.pop("due", None)
    if due is not None:
        fields.setdefault("due_history", ((received, due),))
        fields.setdefault("due_at", due)
        fields.setdefault("original_due_at", due)
    return DossierFacts(
        code, procedure, procedure.upper(), {"name": code}, channel, submitted, received, **fields
    )


def q1_fixture() -> list[DossierFacts]:
    """Hà Nội Q1 2026 runs from 15/12/2025 to 14/3/2026 (the period ends at 15/3 00:00)."""
    return [
        # A: received before the window, finished early inside it → carried over, early.
        dossier("A", "diploma", 1, vn(2025, 12, 10, 9, 0), due=vn(2025, 12, 22, 9, 0),
                finished_at=vn(2025, 12, 18, 9, 0), outcome="early", unit="Phòng 1"),
        # B: finished before the window → not in it at all.
        dossier("B", "diploma", 1, vn(2025, 12, 1, 9, 0), due=vn(2025, 12, 5, 9, 0),
                finished_at=vn(2025, 12, 4, 9, 0), outcome="early"),
        # C: received online in January, finished on time.
        dossier("C", "diploma", 2, vn(2026, 1, 5, 9, 0), due=vn(2026, 1, 12, 9, 0),
                finished_at=vn(2026, 1, 12, 8, 0), outcome="on_time", unit="Phòng 1"),
        # D: received in person, finished late.
        dossier("D", "diploma", 1, vn(2026, 1, 6, 9, 0), due=vn(2026, 1, 13, 9, 0),
                finished_at=vn(2026, 1, 20, 9, 0), outcome="late", unit="Phòng 2"),
        # E: by post, open at the end, appointment after it → in progress, within time.
        dossier("E", "diploma", 3, vn(2026, 3, 1, 9, 0), due=vn(2026, 3, 20, 9, 0)),
        # F: open, appointment 10/3 passed → in progress, overdue.
        dossier("F", "transfer", 1, vn(2026, 3, 2, 9, 0), due=vn(2026, 3, 10, 9, 0)),
        # G: waiting for the citizen since 5/3 (clock stopped) even though its appointment passed.
        dossier("G", "transfer", 2, vn(2026, 3, 3, 9, 0), due=vn(2026, 3, 9, 9, 0),
                supplements=((vn(2026, 3, 5, 9, 0), None),)),
        # H: online, refused at the desk (never received).
        dossier("H", "transfer", 2, None, submitted_at=vn(2026, 3, 4, 9, 0), refused_at=vn(2026, 3, 4, 10, 0),
                receipt_supplements=(vn(2026, 3, 4, 9, 30),)),
        # I: received after the window.
        dossier("I", "transfer", 1, vn(2026, 3, 16, 9, 0), due=vn(2026, 3, 25, 9, 0)),
        # J: received in February, stopped on 1/3 (supplementation never came).
        dossier("J", "transfer", 1, vn(2026, 2, 20, 9, 0), due=vn(2026, 3, 2, 9, 0),
                supplements=((vn(2026, 2, 23, 9, 0), None),), stopped_at=vn(2026, 3, 1, 9, 0)),
        # K: appointment 12/3; the apology moving it to 30/3 came on 20/3, after the window → overdue then.
        dossier("K", "transfer", 1, vn(2026, 3, 1, 9, 0), due=vn(2026, 3, 30, 17, 0),
                due_history=((vn(2026, 3, 1, 9, 0), vn(2026, 3, 12, 9, 0)),
                             (vn(2026, 3, 20, 9, 0), vn(2026, 3, 30, 17, 0)))),
    ]  # fmt: skip


def test_periodic_report_per_procedure_with_the_hanoi_cutoff() -> None:
    report = periodic_report_for(q1_fixture(), 2026, "q1", HANOI)
    assert (report.first, report.last, report.label) == (
        date(2025, 12, 15),
        date(2026, 3, 14),
        "Quý I năm 2026",
    )
    diploma = report.by_procedure["diploma"].as_dict()
    # A carried over; C online, D in person, E by post. Finished: A early, C on time, D late; E open.
    assert diploma == {
        **dict.fromkeys(diploma, 0),
        "carried_over": 1,
        "received_online": 1,
        "received_in_person": 1,
        "received_post": 1,
        "received": 3,
        "total": 4,
        "finished_early": 1,
        "finished_on_time": 1,
        "finished_late": 1,
        "finished": 3,
        "in_progress_on_time": 1,
        "in_progress": 1,
    }
    transfer = report.by_procedure["transfer"].as_dict()
    # F, G, J, K received in person/online (H never received, I after the window).
    assert transfer == {
        **dict.fromkeys(transfer, 0),
        "received_online": 1,  # G
        "received_in_person": 3,  # F, J, K
        "received": 4,
        "total": 4,
        "in_progress_overdue": 2,  # F, K
        "waiting_supplement": 1,  # G
        "in_progress": 3,
        "supplemented_dossiers": 3,  # G (5/3), H (at the desk), J (23/2)
        "supplement_requests": 3,
        "refused": 1,  # H
        "stopped": 1,  # J
    }
    total = report.total.as_dict()
    assert (total["total"], total["finished"], total["in_progress"]) == (8, 3, 4)
    assert report.by_unit["Phòng 1"].finished == 2 and report.by_unit["Phòng 2"].finished_late == 1
    # Dossiers no processing department touched yet stay with the desk: never "(chưa xác định)".
    assert report.by_unit[DESK_UNIT].total == 5


def test_the_same_dossiers_in_calendar_quarters() -> None:
    q1 = periodic_report_for(q1_fixture(), 2026, "q1")  # 1/1 – 31/3
    # A and B are settled in 2025; I is received on 16/3 and still open on 31/3 with appointment 25/3.
    assert q1.total.carried_over == 0 and q1.by_procedure["diploma"].received == 3
    assert q1.by_procedure["transfer"].received == 5
    assert (
        q1.by_procedure["transfer"].in_progress_overdue == 3
    )  # F, I and K (its new appointment 30/3 passed too)
    assert q1.by_procedure["diploma"].in_progress_overdue == 1  # E: appointment 20/3
    year = periodic_report(q1_fixture(), date(2025, 1, 1), date(2025, 12, 31))
    assert year.total.finished_early == 2 and year.total.in_progress == 0 and year.total.received == 2


def test_periodic_table_and_exports() -> None:
    report = periodic_report_for(q1_fixture(), 2026, "q1", HANOI)
    table = report.table()
    assert table.rows[-1][1] == "Tổng cộng" and table.rows[-1][6] == 8
    # Two sections, each numbered from 1: I procedures (diploma, transfer), II units.
    assert [r[:2] for r in table.rows] == [
        ("I", "THEO THỦ TỤC HÀNH CHÍNH"),
        (1, "DIPLOMA"),
        (2, "TRANSFER"),
        ("II", "THEO CƠ QUAN, ĐƠN VỊ GIẢI QUYẾT"),
        (1, DESK_UNIT),
        (2, "Phòng 1"),
        (3, "Phòng 2"),
        (None, "Tổng cộng"),
    ]
    raw = to_csv(table)
    assert raw.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0] == ["TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"]
    assert lines[2] == list(table.headers) and lines[-1][1] == "Tổng cộng"
    book = load_workbook(io.BytesIO(to_xlsx(table)))
    sheet = book.active
    assert sheet is not None
    assert sheet["A1"].value == table.title and sheet["A2"].value == table.subtitle[0]
    assert [c.value for c in sheet[4]] == list(table.headers)
    assert [c.value for c in sheet[4 + len(table.rows)]] == list(table.rows[-1])
    assert sheet.freeze_panes == "A5"


# ------------------------------------------------------------------------------------ from the database


def test_reports_from_a_real_history(engine: Any, clock: Any, tmp_path: Any, capsys: Any) -> None:
    """The loader folds stored events (SQLite and PostgreSQL) into the same reports."""
    import run

    clock.set(vn(2026, 3, 2, 9, 0))
    done = engine.start_case(
        {
            "procedure_id": "diploma_copy",
            "applicant": {"name": "Ngô Văn Hải", "phone": "0912345678"},
            "channel": 2,
        },
        engine.actor("citizen"),
    )
    for element, user, data in (
        ("receipt_check", "clerk", {"decision": "accept", "checked_documents": ["TP1", "TP2"]}),
        ("verify_register", "specialist", {"found": True, "register_ref": "A", "copies": 1}),
        ("approve_copy", "head", {"approved": True}),
        ("return_result", "clerk", {"method": "electronic", "returned_to": "Ngô Văn Hải"}),
    ):
        clock.set(clock.now() + (vn(2026, 3, 2, 9, 30) - vn(2026, 3, 2, 9, 0)))
        engine.complete_task(done.code, element, data, engine.actor(user))
    engine.rate(done.code, done.secret, 3, "Nhanh")
    open_case = engine.start_case(
        {"procedure_id": "student_transfer", "applicant": {"name": "Đinh Thị Mai"}, "channel": 1},
        engine.actor("clerk"),
    )
    accept = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
    engine.complete_task(open_case.code, "receipt_check", accept, engine.actor("clerk"))
    report = engine.periodic_report(2026, "q1")
    # Same working day: accepted 09:30, result 10:30 on 2/3, appointment 17:00 2/3 → on time.
    assert report.by_procedure["diploma_copy"].finished_on_time == 1
    assert report.by_procedure["diploma_copy"].received_online == 1
    # Measured at the end of the quarter (31/3): its 40 working hours from 2/3 have run out.
    assert report.by_procedure["student_transfer"].in_progress_overdue == 1
    assert report.by_unit["Phòng thử nghiệm"].finished == 1  # the specialist's unit
    table = engine.dossier_register(date(2026, 3, 1), date(2026, 3, 31))
    assert [r[1] for r in table.rows] == [done.code, open_case.code]
    assert table.rows[0][-2] == "Đã trả kết quả" and table.rows[0][-1] == "Đúng hạn"
    # The handling unit: the specialist's for the finished one, the desk officer's for the other.
    assert [r[6] for r in table.rows] == ["Phòng thử nghiệm", "Phòng thử nghiệm"]
    sheet = engine.control_sheet_form(done.code)
    assert [r[3] for r in sheet.rows][1:] == [
        "Người dùng clerk",
        "Người dùng specialist",
        "Người dùng head",
        "Người dùng clerk",
    ]
    out = tmp_path / "so-theo-doi.xlsx"
    args = ["audit", "register", "--from", "2026-03-01", "--to", "2026-03-31", "--db", engine.db.url]
    assert run.main([*args, "--format", "xlsx", "--out", str(out)]) == 0
    book = load_workbook(out)
    assert book.active is not None and book.active["B6"].value == done.code
    capsys.readouterr()
    assert run.main(["audit", "report", "--year", "2026", "--period", "q1", "--cutoff-day", "15", "--json",
                     "--db", engine.db.url]) == 0  # fmt: skip
    printed = json_loads(capsys.readouterr().out)
    assert printed["subtitle"] == ["Quý I năm 2026: từ ngày 15/12/2025 đến ngày 14/03/2026"]
    assert run.main(["audit", "control-sheet", done.code, "--format", "csv", "--db", engine.db.url]) == 0
    assert "PHIẾU KIỂM SOÁT" in capsys.readouterr().out


def json_loads(text: str) -> Any:
    import json

    return json.loads(text)


def test_a_calendar_change_moves_the_receipt_deadline_the_reports_judge_by() -> None:
    started = {"procedure_id": "centre", "channel": 2, "applicant": {"name": "A"}, "data": {},
               "receipt_due_at": iso(2026, 11, 30, 15, 30)}  # fmt: skip
    events = [
        ev(1, vn(2026, 11, 27, 15, 0), "case_started", status_to=1, payload=started),
        ev(2, vn(2026, 11, 27, 16, 0), "calendar_changed", "admin",
           payload={"day": "2026-11-30", "change": "off", "basis": "QĐ số 45/QĐ-UBND ngày 27/11/2026",
                    "task_dues": {}, "receipt_due_at": iso(2026, 12, 1, 15, 30),
                    "appointment_on_day_off": False}),
        ev(3, vn(2026, 12, 1, 9, 0), "status_changed", status_from=1, status_to=2),
    ]  # fmt: skip
    facts = dossier_facts("X", events)
    assert facts.receipt_due_at == vn(2026, 12, 1, 15, 30)
    assert facts.receipt_decided_at is not None and facts.receipt_decided_at < facts.receipt_due_at
