"""`make run` in miniature: init-db, then `run.py serve` answers real HTTP with the procedure list."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_init_db_then_serve_answers_http(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    init = subprocess.run(
        [sys.executable, "run.py", "init-db", "--db", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert init.returncode == 0, init.stderr
    assert "mật khẩu" in init.stdout  # demo users printed once
    again = subprocess.run(
        [sys.executable, "run.py", "init-db", "--db", url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert again.returncode == 0 and "mật khẩu" not in again.stdout
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "run.py", "serve", "--db", url, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    assert response.status == 200
                    body = response.read().decode("utf-8")
                    break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"server exited: {server.stderr.read() if server.stderr else ''}")
                time.sleep(0.3)
        assert "thủ tục" in body.lower()
    finally:
        server.terminate()
        server.wait(timeout=30)
