"""Rate limits hold across web processes: four gunicorn workers share one Redis bucket (and sessions)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tests.test_serve import ROOT, _free_port

REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LIMIT = 6


def _request(
    port: int,
    method: str,
    path: str,
    body: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection each time
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _wait_until_up(port: int, server: subprocess.Popen[str]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited: {server.stderr.read() if server.stderr else ''}")
        try:
            _request(port, "GET", "/api/procedures")
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("gunicorn did not answer")


@pytest.mark.slow
def test_a_lookup_limit_holds_across_four_gunicorn_workers(tmp_path: Path) -> None:
    prefix = f"motcua-test-{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "MOTCUA_DATABASE_URL": url,
        "MOTCUA_REDIS_URL": REDIS_URL,
        "MOTCUA_REDIS_PREFIX": prefix,
        "MOTCUA_SECRET_KEY": "shared-by-every-worker",
        "MOTCUA_LOOKUP_RATE_LIMIT": f"{LIMIT} per minute",
    }
    init = subprocess.run(
        [sys.executable, "run.py", "init-db", "--no-users", "--no-library"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert init.returncode == 0, init.stderr
    port = _free_port()
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(p)s %(U)s %(s)s",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = redis.Redis.from_url(REDIS_URL)
    try:
        _wait_until_up(port, server)
        status, headers, raw = _request(port, "GET", "/api/csrf")
        assert status == 200
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        token = json.loads(raw)["csrf_token"]

        def lookup(_: int) -> tuple[int, dict[str, str], bytes]:
            return _request(
                port,
                "POST",
                "/api/lookup",
                {"code": "H99.12-000000-0001", "secret": "00000000"},
                {"Content-Type": "application/json", "X-CSRFToken": token, "Cookie": cookie},
            )

        def served_by() -> set[str]:
            return {line.split()[0] for line in log.read_text().splitlines() if "/api/lookup" in line}

        answers: list[tuple[int, dict[str, str], bytes]] = []
        # Concurrent rounds until at least two workers have answered (the OS decides which worker
        # accepts a connection; one alone proves nothing about sharing). Bounded: ten rounds at most.
        for _ in range(10):
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers += list(pool.map(lookup, range(4 * LIMIT)))
            if len(served_by()) >= 2:
                break
        codes = [a[0] for a in answers]
        # Every worker accepted the session (it lives in Redis) and counted in the same bucket: the
        # limit let exactly LIMIT requests through in all, however many workers answered.
        assert codes.count(404) == LIMIT and codes.count(429) == len(codes) - LIMIT, codes
        assert all("Retry-After" in a[1] for a in answers if a[0] == 429)
        assert len(served_by()) >= 2, served_by()  # the bucket was really shared, not one worker's memory
        server.terminate()
        server.wait(timeout=30)
        assert any(key.startswith(f"{prefix}:session:".encode()) for key in store.scan_iter(f"{prefix}*"))
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)
