"""Durability: concurrent completions of one task, and SIGKILL in the middle of an operation."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine import cases
from engine.clock import FixedClock
from engine.db import Database
from engine.errors import ConflictError
from engine.service import Engine
from tests.engine.helpers import deploy_fixture, event_count, open_items

ROOT = Path(__file__).resolve().parents[2]
APPLICANT = {"name": "Trần Thị Bình"}


def _start(engine: Engine) -> str:
    deploy_fixture(engine)
    return engine.start_case(
        {"procedure_id": "timer_demo", "applicant": APPLICANT}, engine.actor("clerk")
    ).code


def test_two_concurrent_completions_exactly_one_wins(db_url: str, engine: Engine, clock: FixedClock) -> None:
    code = _start(engine)
    task_id = engine.list_tasks(code)[0].task_id
    barrier = threading.Barrier(2, timeout=3)

    def wait_for_the_other(_code: str) -> None:
        # Hold both transactions open after their writes so they really overlap (on PostgreSQL);
        # on SQLite the second writer queues at BEGIN IMMEDIATE and the barrier just times out.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    results: list[str] = []

    def worker(answer: bool) -> None:
        own = Engine(Database(db_url), clock=clock)
        try:
            own.complete_task(code, task_id, {"ok": answer}, own.actor("specialist"))
            results.append("ok")
        except ConflictError as exc:
            results.append(f"conflict: {exc.message}")
        finally:
            own.db.dispose()

    cases.after_flush_hook = wait_for_the_other
    try:
        threads = [threading.Thread(target=worker, args=(flag,)) for flag in (True, False)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        cases.after_flush_hook = None
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    view = engine.get_case(code)
    assert view.completed
    completions = [e for e in engine.events(code) if e.kind == "task_completed"]
    assert len(completions) == 1
    assert view.data["ok"] == completions[0].payload["data"]["ok"]


KILL_TARGET = """
import os, sys, time
from engine import cases
from engine.clock import FixedClock
from engine.db import Database
from engine.service import Engine
from datetime import datetime
url, code, now = sys.argv[1], sys.argv[2], sys.argv[3]

def pause(_code):
    print("FLUSHED", flush=True)   # rows are written inside the open transaction
    time.sleep(600)

cases.after_flush_hook = pause
engine = Engine(Database(url), clock=FixedClock(datetime.fromisoformat(now)))
engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
print("COMMITTED", flush=True)
"""


@pytest.mark.slow
def test_sigkill_in_the_middle_leaves_the_case_as_before(
    db_url: str, engine: Engine, clock: FixedClock
) -> None:
    code = _start(engine)
    before = engine.get_case(code)
    n_events = event_count(engine.db, before.id)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_TARGET, db_url, code, clock.now().isoformat()],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        },
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "FLUSHED", (line, proc.stderr.read() if proc.stderr else "")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    after = engine.get_case(code)
    assert after.model_dump(exclude={"secret"}) == before.model_dump(exclude={"secret"})
    assert event_count(engine.db, before.id) == n_events
    assert open_items(engine.db, before.id) == ["review"]
    # And the case still works: the same operation now succeeds once.
    done = engine.complete_task(code, "review", {"ok": True}, engine.actor("specialist"))
    assert done.completed


@pytest.mark.slow
def test_cli_runs_a_case_end_to_end(db_url: str, engine: Engine) -> None:
    deploy_fixture(engine)

    def cli(*args: str) -> dict:
        out = subprocess.run(
            [sys.executable, "run.py", *args, "--db", db_url, "--now", "2026-03-02T09:00:00+07:00", "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    started = cli(
        "case",
        "start",
        "timer_demo",
        "--data",
        json.dumps({"applicant": APPLICANT, "note": "x"}),
        "--channel",
        "2",
        "--as",
        "clerk",
    )
    assert started["channel"] == 2 and started["status"] == 4
    tasks = cli("case", "tasks", started["code"])
    assert [t["element_id"] for t in tasks] == ["review"]
    done = cli(
        "case",
        "complete",
        started["code"],
        tasks[0]["task_id"],
        "--as",
        "specialist",
        "--data",
        '{"ok": true}',
    )
    assert done["completed"] and done["status"] == 10
    shown = cli("case", "show", started["code"])
    assert shown["data"] == {"note": "x", "ok": True}
    bad = subprocess.run(
        [
            sys.executable,
            "run.py",
            "case",
            "complete",
            started["code"],
            "review",
            "--as",
            "specialist",
            "--db",
            db_url,
            "--data",
            "{not json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "JSON" in bad.stderr
