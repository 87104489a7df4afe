"""`run.py case apologise --kind`, `case approve-supplement` and `calendar override` reaching open
dossiers, through the same engine functions as the web and the API."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli_calendar import cli

NOW = "2026-11-02T09:00:00+07:00"  # a Monday
TRANSFER = {"applicant": {"name": "Lê Minh Châu"}}
ACCEPT = {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}


def test_apology_kinds_supplement_approval_and_a_day_off_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "law.sqlite3"
    assert cli("init-db", db=db).returncode == 0
    started = cli(
        "case", "start", "student_transfer", "--data", json.dumps(TRANSFER), "--as", "tiepnhan",
        "--receipt", json.dumps(ACCEPT), "--json", "--now", NOW, db=db,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    code = json.loads(started.stdout)["code"]
    # 40 working hours from 09:00 Monday 02/11 → 11:30 Monday 09/11.
    assert json.loads(started.stdout)["due_at"].startswith("2026-11-09T04:30:00")
    mistake = cli(
        "case", "apologise", code, "--kind", "mistake", "--reason", "Ghi sai họ tên", "--unit", "Một cửa",
        "--as", "truongphong_gd", "--json", "--now", "2026-11-02T10:00:00+07:00", db=db,
    )  # fmt: skip
    assert mistake.returncode == 0, mistake.stderr
    view = json.loads(mistake.stdout)
    assert view["sla"]["mistake_apologies"] == 1 and view["due_at"].startswith("2026-11-09T04:30:00")
    refused = cli("case", "approve-supplement", code, "--reason", "Thiếu", "--as", "truongphong_gd", db=db)
    assert refused.returncode == 2 and "không cho phép yêu cầu bổ sung hồ sơ lần thứ hai" in refused.stderr
    day_off = cli(
        "calendar", "override", "--day", "2026-11-09", "--kind", "off", "--note",
        "Quyết định số 51/QĐ-UBND ngày 02/11/2026", "--as", "quantri", "--now", "2026-11-02T11:00:00+07:00",
        db=db,
    )  # fmt: skip
    assert day_off.returncode == 0, day_off.stderr
    assert "Tính lại thời hạn 1 hồ sơ đang mở" in day_off.stdout
    assert f"Ngày hẹn trả rơi vào ngày nghỉ, cần hẹn lại (Mẫu 04): {code}" in day_off.stdout
