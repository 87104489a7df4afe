"""Reports and the 766 director's view through the JSON API, the admin's targets page and the CLI
(same engine functions, same checks), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.service import Engine
from tests.support.fixtures import vn
from tests.web.test_auditor import run_case

URL_766 = "/api/reports/index766?from=2026-03-01&to=2026-03-31"


def three_cases(engine: Engine, clock: FixedClock) -> None:
    """Two diploma copies done the same day, one still at its first processing step (late at 31/03)."""
    clock.set(vn(2026, 3, 2, 8, 0))
    run_case(engine, clock, "Người nộp 1")
    run_case(engine, clock, "Người nộp 2")
    run_case(engine, clock, "Đang xử lý", steps=1)


def test_periodic_report_api_takes_the_plans_windows(engine: Engine, clock: FixedClock, as_user: Any) -> None:
    three_cases(engine, clock)
    auditor = as_user("auditor")
    plan = auditor.get("/api/reports/periodic?year=2026&period=q1&plan=002").get_json()
    assert (plan["from"], plan["to"]) == ("2025-12-10", "2026-03-10")  # both ends inclusive
    assert plan["window"] == "từ ngày 10 tháng trước kỳ đến ngày 10 tháng cuối kỳ"
    month = auditor.get("/api/reports/periodic?year=2026&period=m3").get_json()
    assert (month["from"], month["to"], month["label"]) == ("2026-03-01", "2026-03-31", "Tháng 3 năm 2026")
    assert month["total"]["received_online"] == 3 and month["total"]["in_progress_overdue"] == 1
    rows = month["table"]["rows"]
    assert [r[0] for r in rows] == ["I", 1, "II", 1, None]  # two sections, each numbered from 1
    assert rows[3][1] == "Phòng thử nghiệm"  # the specialist's unit, never "(chưa xác định)"
    custom = auditor.get("/api/reports/periodic?year=2026&period=q1&start=20&end=19").get_json()
    assert (custom["from"], custom["to"]) == ("2025-12-20", "2026-03-19")
    register = auditor.get("/api/reports/register?from=2026-03-01&to=2026-03-31").get_json()
    assert register["title"] == "SỔ THEO DÕI HỒ SƠ (Mẫu số 06)" and len(register["rows"]) == 3


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/reports/periodic?year=2026&period=m13", "Kỳ báo cáo không hợp lệ"),
        ("/api/reports/periodic?year=2026&period=q1&plan=999", "Kế hoạch không hợp lệ"),
        ("/api/reports/periodic?year=2026&period=q1&start=0", "Ngày chốt số liệu không hợp lệ"),
        ("/api/reports/periodic?year=2026&period=q1&end=32", "Ngày cuối kỳ số liệu không hợp lệ"),
        (URL_766 + "&group_max=18,20,12,10,18,22", "theo mã nhóm"),
    ],
)
def test_bad_report_parameters_are_a_422_in_vietnamese(
    engine: Engine, as_user: Any, url: str, message: str
) -> None:
    response = as_user("auditor").get(url)
    assert response.status_code == 422 and message in response.get_json()["message"]


def test_report_apis_need_a_report_reader(engine: Engine, as_user: Any) -> None:
    for url in (URL_766, "/api/reports/periodic?year=2026&period=q1", "/api/reports/register"):
        assert as_user("clerk").get(url).status_code == 403
        assert as_user(None).get(url).status_code == 401


def test_scorecard_api_gives_targets_gaps_and_the_dossiers_behind(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    three_cases(engine, clock)
    card = (
        as_user("director")
        .get(URL_766 + "&group_max=MDSH=22,MDHL=18,CKMB=18,TDGQ=20,CLGQ=11,TTTT=9")
        .get_json()
    )
    assert card["max_points"] == 98 and [g["max_points"] for g in card["groups"] if g["code"] == "MDHL"] == [
        18
    ]
    lines = {line["code"]: line for line in card["lines"]}
    late = lines["2.1"]
    assert (late["numerator"], late["denominator"], late["target"]) == (2, 3, 1.0)
    assert late["gap"] == pytest.approx(2 / 3 - 1, abs=1e-6) and len(late["behind"]) == 1
    assert late["behind_links"] == [f"/auditor/cases/{late['behind'][0]}"]
    assert lines["online"]["value"] == 1.0 and lines["online"]["met"] is True
    # Every copy went through the desk within its 8 working hours.
    assert (lines["receipt_8h"]["numerator"], lines["receipt_8h"]["denominator"]) == (3, 3)
    # 4.2 is measured from the histories: no copy was digitised or uploaded online → 0 of 3.
    assert lines["4.2"]["status"] == "ok" and (lines["4.2"]["numerator"], lines["4.2"]["denominator"]) == (
        0,
        3,
    )
    assert card["summary"].startswith("Đạt ") and "chỉ số thành phần" in card["summary"]
    assert [p["month"] for p in card["trend"]] == ["03/2026"]


def test_admin_sets_a_target_with_history_and_the_view_follows(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    three_cases(engine, clock)
    admin = as_user("admin")
    page = admin.get("/admin/targets?year=2026").get_data(as_text=True)
    assert 'data-code="online"' in page and "99,4 %" in page
    response = admin.post(
        "/admin/targets", {"year": "2026", "code": "2.1", "target": "60", "note": "Kế hoạch thử 01/KH"}
    )
    assert response.status_code == 302
    bad = admin.post("/admin/targets", {"year": "2026", "code": "2.1", "target": "150", "note": "x"})
    assert bad.status_code == 422 and "phải từ 0 đến 100" in bad.get_data(as_text=True)
    no_basis = admin.post("/admin/targets", {"year": "2026", "code": "2.1", "target": "70", "note": " "})
    assert no_basis.status_code == 422 and "Phải ghi căn cứ" in no_basis.get_data(as_text=True)
    created = admin.api(
        "POST", "/api/admin/targets", {"year": 2026, "code": "online", "target": "50", "note": "Văn bản 02"}
    )
    assert created.status_code == 201 and created.get_json()["target"] == 0.5
    data = admin.get("/api/admin/targets?year=2026").get_json()
    assert data["targets"]["2.1"] == 0.6 and data["targets"]["online"] == 0.5
    assert [(r["code"], r["target"]) for r in data["history"]] == [("2.1", 0.6), ("online", 0.5)]
    assert admin.get("/api/admin/targets?year=2027").get_json()["targets"]["2.1"] == 1.0  # per year
    # The director's view compares with the year's targets: 2/3 on time now meets 60 %.
    lines = {ln["code"]: ln for ln in as_user("director").get(URL_766).get_json()["lines"]}
    assert lines["2.1"]["target"] == 0.6 and lines["2.1"]["met"] is True
    assert (
        as_user("director")
        .api("POST", "/api/admin/targets", {"year": 2026, "code": "2.1", "target": "1", "note": "x"})
        .status_code
        == 403
    )
    assert as_user("auditor").get("/admin/targets").status_code == 403


def test_cli_reports_and_targets(engine: Engine, clock: FixedClock, capsys: Any, tmp_path: Any) -> None:
    import run

    three_cases(engine, clock)
    db = ["--db", engine.db.url]
    assert (
        run.main(
            ["audit", "report", "--year", "2026", "--period", "q1", "--cutoff-plan", "002", "--json", *db]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["subtitle"] == ["Quý I năm 2026: từ ngày 10/12/2025 đến ngày 10/03/2026"]
    args = [
        "audit",
        "report",
        "--year",
        "2026",
        "--period",
        "m3",
        "--cutoff-start",
        "15",
        "--cutoff-end",
        "20",
    ]
    assert run.main([*args, "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["subtitle"] == [
        "Tháng 3 năm 2026: từ ngày 15/02/2026 đến ngày 20/03/2026"
    ]
    assert run.main(["audit", "set-target", "--year", "2026", "--code", "online", "--target", "98",
                     "--note", "Kế hoạch 004", "--as", "admin", *db]) == 0  # fmt: skip
    assert "online = 98 %" in capsys.readouterr().out
    assert run.main(["audit", "set-target", "--year", "2026", "--code", "online", "--target", "98",
                     "--note", "x", "--as", "clerk", *db]) != 0  # fmt: skip
    capsys.readouterr()
    assert run.main(["audit", "targets", "--year", "2026", "--json", *db]) == 0
    assert json.loads(capsys.readouterr().out)["targets"]["online"] == 0.98
    score = ["audit", "index766", "--from", "2026-03-01", "--to", "2026-03-31", *db]
    assert run.main([*score, "--group-max", "CKMB=18,TDGQ=20,CLGQ=11,TTTT=9,MDSH=22,MDHL=18", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["max_points"] == 98 and {ln["code"]: ln["target"] for ln in card["lines"]}["online"] == 0.98
    assert run.main(score) == 0
    text = capsys.readouterr().out
    assert "Chỉ tiêu của kế hoạch:" in text and "Hồ sơ quá hạn:" in text
    out = tmp_path / "chiso766.xlsx"
    assert run.main([*score, "--format", "xlsx", "--out", str(out)]) == 0
    assert out.stat().st_size > 0


def test_group_maxima_are_entered_one_input_per_group_code(
    engine: Engine, clock: FixedClock, as_user: Any
) -> None:
    three_cases(engine, clock)
    director = as_user("director")
    form = director.get("/auditor/reports").get_data(as_text=True)
    assert 'id="group-max-fields"' in form
    assert all(f'name="max_{code}"' in form for code in ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL"))
    # Plan 004's maxima entered per code in the page's own order, whatever it is: nothing is swapped.
    maxima = "&max_MDHL=18&max_MDSH=22&max_TTTT=9&max_CLGQ=11&max_TDGQ=20&max_CKMB=18"
    card = director.get(URL_766 + maxima).get_json()
    groups = {g["code"]: g["max_points"] for g in card["groups"]}
    assert groups == {"CKMB": 18, "TDGQ": 20, "CLGQ": 11, "TTTT": 9, "MDSH": 22, "MDHL": 18}
    page = director.get(URL_766.replace("/api/reports/index766", "/auditor/reports/index766") + maxima)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="group-max-form"' in text and 'name="max_TTTT"' in text
    assert 'name="max_TTTT" min="0" max="100" step="0.5" value="9"' in text
    missing = director.get(URL_766 + "&max_CKMB=18&max_TDGQ=20")
    assert missing.status_code == 422 and "Thiếu điểm tối đa của nhóm" in missing.get_json()["message"]
    bad = director.get(URL_766 + maxima.replace("max_CKMB=18", "max_CKMB=mười"))
    assert bad.status_code == 422 and "CKMB" in bad.get_json()["message"]
