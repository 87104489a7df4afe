"""Units from the command line: the console asks the same access policy as the web and the API
(demo accounts, the real library's units)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli_calendar import cli
from tests.test_cli_intake import DIPLOMA


def test_another_units_specialist_is_refused_at_the_console(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    assert cli("init-db", db=db).returncode == 0
    pdf = tmp_path / "don.pdf"
    pdf.write_bytes(b"%PDF-1.4 cli")
    started = cli(
        "case", "submit-online", "diploma_copy", "--data", json.dumps(DIPLOMA), "--json",
        "--file", f"TP1={pdf}", "--file", f"TP2={pdf}", db=db,
    )  # fmt: skip
    code = json.loads(started.stdout)["code"]
    receipt = json.dumps({"decision": "accept", "checked_documents": ["TP1", "TP2"]})
    assert (
        cli(
            "case", "complete", code, "receipt_check", "--as", "tiepnhan", "--data", receipt, db=db
        ).returncode
        == 0
    )
    task = json.loads(cli("case", "tasks", code, "--json", db=db).stdout)[0]
    assert task["unit"] == "Phòng Quản lý chất lượng"

    for args in (
        ("case", "claim", task["task_id"], "--as", "chuyenvien_gd"),
        ("case", "complete", code, task["task_id"], "--as", "chuyenvien_gd", "--data", '{"found": false}'),
        ("case", "events", code, "--as", "chuyenvien_gd"),
    ):
        refused = cli(*args, db=db)
        assert refused.returncode != 0 and "đơn vị" in refused.stderr, (args, refused.stderr)
    # nothing changed: the step is still free for its own unit
    assert cli("case", "claim", task["task_id"], "--as", "chuyenvien", db=db).returncode == 0
