"""`run.py import-assist FILE` prints the import assistant's report and writes the prepared copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.importer import assess

ROOT = Path(__file__).resolve().parent.parent
FOREIGN = ROOT / "tests" / "fixtures" / "compat" / "foreign_leave.bpmn"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "run.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_assist_reports_and_writes_the_prepared_copy(tmp_path: Path) -> None:
    out_file = tmp_path / "prepared.bpmn"
    out = cli("--json", "import-assist", str(FOREIGN), "--out", str(out_file))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["process_id"] == "leave_request" and report["deployable"] is True
    assert {"legalTime", "motcua:step role"} <= {f["attribute"] for f in report["findings"]}
    # The prepared copy lacks nothing any more.
    assert not [f for f in assess("prepared.bpmn", out_file.read_bytes()).findings if f.kind == "missing"]


def test_import_assist_fails_with_reasons_for_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<definitions/>", encoding="utf-8")
    out = cli("import-assist", str(broken))
    assert out.returncode == 1
    assert "Chưa triển khai được" in out.stdout
