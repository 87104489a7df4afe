"""`run.py case identity|digitise`, `digitised search`, `feedback …` and `esign …` end to end
(subprocesses on a SQLite file; the same service functions as the pages and the API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.helpers import result_pdf
from tests.engine.test_digitise import scanned_page

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-03-02T09:00:00+07:00"


def cli(*args: str, db: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "MOTCUA_FILES_DIR": str(db.parent / "files"),
        **(env or {}),
    }
    environment.pop("MOTCUA_POPULATION_URL", None)
    return subprocess.run(
        [sys.executable, "run.py", *args, "--db", f"sqlite:///{db}", "--now", NOW],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_identity_digitisation_and_feedback_from_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite3"
    assert cli("init-db", db=db).returncode == 0
    started = cli(
        "case",
        "start",
        "diploma_copy",
        "--data",
        '{"applicant": {"name": "An"}}',
        "--as",
        "tiepnhan",
        "--json",
        db=db,
    )
    code = json.loads(started.stdout)["code"]
    ok = cli(
        "case", "identity", code, "--cccd", "001090012345", "--dob", "1990-05-12", "--as", "tiepnhan", db=db
    )
    assert ok.returncode == 0 and "Đã xác thực" in ok.stdout, ok.stderr
    bad = cli(
        "case", "identity", code, "--cccd", "001091012345", "--dob", "1990-05-12", "--as", "tiepnhan", db=db
    )
    assert bad.returncode == 2 and "Hai chữ số năm sinh trong số CCCD (91)" in bad.stderr
    scan = tmp_path / "don.png"
    scan.write_bytes(scanned_page(["ĐƠN ĐỀ NGHỊ CẤP BẢN SAO VĂN BẰNG"]))
    done = cli(
        "case",
        "digitise",
        code,
        "--component",
        "TP1",
        "--file",
        str(scan),
        "--as",
        "tiepnhan",
        "--json",
        db=db,
    )
    assert done.returncode == 0, done.stderr
    stored = json.loads(done.stdout)["sha256"]
    assert (tmp_path / "files" / stored[:2] / stored[2:4] / stored).is_file()
    # the dossier is still at the desk: the head of department (who reads every dossier) finds it
    found = cli("digitised", "search", "bản sao", "--as", "truongphong", db=db)
    assert code in found.stdout
    kinds = [e["kind"] for e in json.loads(cli("case", "events", code, "--json", db=db).stdout)]
    assert kinds[-2:] == ["identity_checked", "document_digitised"]
    filed = cli(
        "feedback", "file", "--content", "Đề nghị thêm quầy tiếp nhận", "--anonymous", "--json", db=db
    )
    item = json.loads(filed.stdout)
    assert (
        cli(
            "feedback",
            "answer",
            item["code"],
            "--answer",
            "Sẽ bố trí thêm quầy.",
            "--as",
            "truongphong",
            db=db,
        ).returncode
        == 0
    )
    assert cli("feedback", "publish", item["code"], "--as", "truongphong", db=db).returncode == 0
    wrong = cli("feedback", "rate", item["code"], "--secret", "SAI", "--score", "3", db=db)
    assert wrong.returncode == 4 and "Mã phản ánh hoặc mã tra cứu không đúng" in wrong.stderr
    assert (
        cli("feedback", "rate", item["code"], "--secret", item["secret"], "--score", "3", db=db).returncode
        == 0
    )
    numbers = cli("feedback", "indicators", "--from", "2026-03-01", "--to", "2026-03-31", db=db)
    assert "5.1: 1/1 → 5/5 điểm" in numbers.stdout


@pytest.mark.slow
def test_esign_from_the_cli(tmp_path: Path) -> None:
    from datetime import timedelta

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from engine.demo_pki import certificate
    from tests.engine.test_esign import NOW as CERT_NOW
    from tests.engine.test_esign import _write

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("CA", ca_key, None, CERT_NOW - timedelta(days=10), CERT_NOW + timedelta(days=3650))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate(
        "Sở", key, ("CA", ca_key), CERT_NOW - timedelta(days=10), CERT_NOW + timedelta(days=1800)
    )
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    env = {
        "MOTCUA_SIGNING_CERT": str(_write(tmp_path / "c.pem", leaf)),
        "MOTCUA_SIGNING_KEY": str(tmp_path / "k.pem"),
        "MOTCUA_SIGNING_CHAIN": str(_write(tmp_path / "ca.pem", ca)),
    }
    (tmp_path / "kq.pdf").write_bytes(result_pdf())
    db = tmp_path / "m.sqlite3"
    signed = cli("esign", "sign", str(tmp_path / "kq.pdf"), str(tmp_path / "kq-signed.pdf"), db=db, env=env)
    assert signed.returncode == 0, signed.stderr
    verified = cli("esign", "verify", str(tmp_path / "kq-signed.pdf"), db=db, env=env)
    assert verified.returncode == 0 and "Chữ ký số hợp lệ" in verified.stdout
    unsigned = cli("esign", "verify", str(tmp_path / "kq.pdf"), db=db, env=env)
    assert unsigned.returncode == 1 and "chưa được ký số" in unsigned.stdout
    missing = cli(
        "esign",
        "sign",
        str(tmp_path / "kq.pdf"),
        str(tmp_path / "x.pdf"),
        db=db,
        env={"MOTCUA_SIGNING_CERT": ""},
    )
    assert missing.returncode != 0 and "Chưa cài đặt chứng thư số" in missing.stderr
