"""`run.py case submit-online | start --file --receipt | reissue-secret`: the web's submission,
counter intake and secret reissue from the command line, through the same engine functions."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli_calendar import cli

DIPLOMA = {
    "applicant": {"name": "Lê Văn Dòng", "phone": "0905000111"},
    "diploma_type": "thcs",
    "graduation_year": 2008,
    "school": "THCS Nguyễn Du",
    "copies": 1,
    "delivery": "in_person",
}


def test_online_submission_counter_intake_and_secret_reissue(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    assert cli("init-db", db=db).returncode == 0
    pdf = tmp_path / "don.pdf"
    pdf.write_bytes(b"%PDF-1.4 cli")
    missing = cli(
        "case", "submit-online", "diploma_copy", "--data", json.dumps(DIPLOMA), "--file", f"TP1={pdf}", db=db
    )
    assert missing.returncode != 0 and "TP2" in missing.stderr + missing.stdout
    args = ["case", "submit-online", "diploma_copy", "--data", json.dumps(DIPLOMA), "--json"]
    args += ["--file", f"TP1={pdf}", "--file", f"TP2={pdf}", "--idempotency-key", "cli-key-0123456789abc"]
    first, again = cli(*args, db=db), cli(*args, db=db)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["code"] == json.loads(again.stdout)["code"]
    receipt = json.dumps({"decision": "accept", "checked_documents": ["TP1", "TP2"]})
    data = json.dumps({"applicant": {"name": "Đỗ Thị Quầy"}})
    counter = cli(
        "case", "start", "diploma_copy", "--data", data, "--as", "tiepnhan", "--file", f"TP1={pdf}",
        "--receipt", receipt, "--json", db=db,
    )  # fmt: skip
    assert counter.returncode == 0, counter.stderr
    case = json.loads(counter.stdout)
    assert case["received_at"] is not None and case["secret"]
    reissued = cli("case", "reissue-secret", case["code"], "--as", "tiepnhan", "--json", db=db)
    assert reissued.returncode == 0, reissued.stderr
    assert json.loads(reissued.stdout)["secret"] not in ("", case["secret"])
    refused = cli("case", "reissue-secret", case["code"], "--as", "chuyenvien", db=db)
    assert refused.returncode != 0


def test_dossiers_by_cccd(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    assert cli("init-db", db=db).returncode == 0
    data = json.dumps({"applicant": {"name": "Nguyễn Văn An", "id_number": "001090012345"}})
    started = cli("case", "start", "diploma_copy", "--data", data, "--as", "tiepnhan", "--json", db=db)
    assert started.returncode == 0, started.stderr
    code = json.loads(started.stdout)["code"]
    listed = cli("case", "by-cccd", "001090012345", "--json", db=db)
    assert listed.returncode == 0, listed.stderr
    assert [d["code"] for d in json.loads(listed.stdout)] == [code]
    assert json.loads(cli("case", "by-cccd", "031185004321", "--json", db=db).stdout) == []
