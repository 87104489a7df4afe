"""End to end on PostgreSQL: ``run.py worker`` processes deliver the outbox configured by MOTCUA_*
settings, and a worker killed in the middle of a delivery loses nothing (the message is delivered
again with the same idempotency key by the next worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from engine.clock import FixedClock
from engine.db import Database
from engine.models import Incident, OutboxMessage
from engine.outbox import EMAIL, STATUS_SYNC
from engine.service import Engine
from tests.engine.helpers import deploy_fixture
from tests.handlers.conftest import FakeHttp, Smtp
from tests.support.fixtures import clean, vn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    db = Database(postgres_url)
    clean(db)
    with db.unit_of_work() as session:
        session.execute(delete(Incident))
        session.execute(delete(OutboxMessage))
    yield Engine(db, clock=FixedClock(vn(2026, 3, 2, 8, 0)))
    clean(db)
    db.dispose()


def _worker(url: str, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "run.py", "worker", "--db", url, "--interval", "0.2", "--lease", "3"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={
            **os.environ,
            **env,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        },
    )


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing(
    postgres_url: str, pg: Engine, fake_http: FakeHttp, smtp_server: Smtp, tmp_path: Path
) -> None:
    deploy_fixture(pg)
    applicant = {"name": "Bùi Văn Gửi", "email": "gui@example.vn"}
    code = pg.start_case({"procedure_id": "timer_demo", "applicant": applicant}, pg.actor("clerk")).code
    pg.complete_task(code, "review", {"ok": True}, pg.actor("specialist"))
    expected = [e.status_to for e in pg.events(code) if e.status_to is not None]
    env = {
        "MOTCUA_PORTAL_STATUS_URL": f"{fake_http.url}/trangthai",
        "MOTCUA_SMTP_HOST": smtp_server.host,
        "MOTCUA_SMTP_PORT": str(smtp_server.port),
    }
    fake_http.hold_first = True  # the portal hangs on the first status
    victim = _worker(postgres_url, tmp_path / "victim.log", env)
    try:
        _wait(lambda: len(fake_http.requests) >= 1, 60, "the first portal call")
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
    rescuer = _worker(postgres_url, tmp_path / "rescuer.log", env)
    try:
        _wait(
            lambda: (
                {m.state for m in pg.case_outbox(code) if m.handler in (STATUS_SYNC, EMAIL)} == {"delivered"}
            ),
            60,
            "every message delivered",
        )
    finally:
        rescuer.send_signal(signal.SIGTERM)
        assert rescuer.wait(timeout=30) == 0
    received = [r.json()["TrangThai"] for r in fake_http.requests]
    keys = [r.headers["idempotency-key"] for r in fake_http.requests]
    # At least once: the status the victim was sending is sent again, with the same key, then the rest.
    assert received == [expected[0], *expected]
    assert keys[0] == keys[1] and len(set(keys)) == len(expected)
    subjects = sorted(str(m["Subject"]) for m in smtp_server.mailbox.messages if code in str(m["Subject"]))
    assert subjects == [f"Hồ sơ {code}: Mới đăng ký.", f"Hồ sơ {code}: Đã trả kết quả."]  # once each
    assert pg.incidents() == []
