"""`run.py calendar ...` prints local ISO 8601 results and the 2026 days off / make-up days."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "run.py", *args, "--db", f"sqlite:///{db}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_calendar_add_and_holidays(tmp_path: Path) -> None:
    db = tmp_path / "cal.sqlite3"
    out = cli("calendar", "add", "--from", "2026-02-13T16:00:00+07:00", "--working-hours", "8", db=db)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2026-02-23T16:30:00+07:00"  # Tết 16–20/2 skipped
    out = cli("calendar", "add", "--from", "2026-08-21T09:00:00+07:00", "--working-days", "1", db=db)
    assert out.stdout.strip() == "2026-08-22T09:00:00+07:00"  # make-up Saturday
    out = cli("calendar", "holidays", "--year", "2026", "--json", db=db)
    data = json.loads(out.stdout)
    off = {d["date"] for d in data["days_off"]}
    assert {"2026-02-16", "2026-02-20", "2026-04-30", "2026-05-01", "2026-08-31", "2026-09-02"} <= off
    assert [d["date"] for d in data["make_up_working_days"]] == ["2026-08-22"]
    bad = cli("calendar", "add", "--from", "2026-02-13 16:00", "--working-hours", "8", db=db)
    assert bad.returncode == 2 and "múi giờ" in bad.stderr


def test_override_requires_admin_and_is_listed(tmp_path: Path) -> None:
    db = tmp_path / "cal.sqlite3"
    assert cli("init-db", "--no-library", db=db).returncode == 0
    refused = cli(
        "calendar",
        "override",
        "--day",
        "2026-03-09",
        "--kind",
        "off",
        "--note",
        "Quyết định số 1/QĐ-UBND ngày 02/03/2026",
        "--as",
        "tiepnhan",
        db=db,
    )
    assert refused.returncode == 5
    ok = cli(
        "calendar",
        "override",
        "--day",
        "2026-03-09",
        "--kind",
        "off",
        "--note",
        "Quyết định số 1/QĐ-UBND ngày 02/03/2026",
        "--as",
        "quantri",
        db=db,
    )
    assert ok.returncode == 0, ok.stderr
    moved = cli("calendar", "add", "--from", "2026-03-06T10:00:00+07:00", "--working-days", "1", db=db)
    assert moved.stdout.strip() == "2026-03-10T10:00:00+07:00"
    listed = json.loads(cli("calendar", "overrides", "--json", db=db).stdout)
    assert [(r["day"], r["kind"]) for r in listed] == [("2026-03-09", "off")]
