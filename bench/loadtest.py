"""Load proof: N concurrent clerks for T seconds against gunicorn on PostgreSQL, then verification.

Run with ``python run.py loadtest`` (defaults: 50 clerks, 60 s, 4 gunicorn workers); it is not part
of ``make test``. Everything runs on 127.0.0.1 and every loop is bounded by the deadline.

Each clerk is a thread with its own session cookie. It opens dossiers at the desk and walks them
to the end through the JSON API (reading the open tasks, completing each with valid form data and
the case version it saw); one action in five instead races the other clerks on a dossier from a
shared pool, so optimistic concurrency is exercised (the losers get 409, never a 5xx).

Afterwards the database is checked for lost updates: every 201/200 the clerks received must be
exactly one dossier / one ``task_completed`` event, no task completed twice, and
``audit verify --all`` (hash chains and case heads) must find nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "mat-khau-tai-thu"
STAFF_ROLES = ["desk_clerk", "specialist", "head_of_department", "director", "other_department"]
PROCEDURE = "diploma_copy"
SHARED_RATE = 0.2
WORK_OPS = ("start_case", "get_case", "complete_task")


# ------------------------------------------------------------------------------------ client side
@dataclass
class Stats:
    """Everything the clerks saw, merged under one lock."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    transport_errors: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    completed: list[tuple[str, str]] = field(default_factory=list)  # (case code, task id) answered 200
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, status: int, ms: float, detail: str = "") -> None:
        with self.lock:
            self.latencies[op].append(ms)
            self.statuses[(op, status)] += 1
            if status >= 500:
                self.server_errors.append(f"{op} {status} {detail[:300]}")


class Clerk:
    """One browser-less clerk: a cookie, a CSRF token, keep-alive HTTP to 127.0.0.1."""

    def __init__(self, port: int, username: str, stats: Stats) -> None:
        self.port = port
        self.username = username
        self.stats = stats
        self.cookie = ""
        self.csrf = ""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.documents: list[str] = []

    def call(self, op: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.cookie:
            headers["Cookie"] = self.cookie
        if method == "POST" and self.csrf:
            headers["X-CSRFToken"] = self.csrf
        t0 = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError, TimeoutError, OSError) as exc:
                # A kept-alive connection the server closed: reconnect once (the request was not sent).
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2 or isinstance(exc, TimeoutError):
                    with self.stats.lock:
                        self.stats.transport_errors.append(f"{op}: {exc!r}")
                    return 0, None
        ms = (time.perf_counter() - t0) * 1000
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("motcua_session="):
                self.cookie = value.split(";", 1)[0]
        try:
            answer = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            answer = raw[:300].decode("utf-8", "replace")
        self.stats.record(op, response.status, ms, str(answer))
        return response.status, answer

    def login(self) -> None:
        _, token = self.call("csrf", "GET", "/api/csrf")
        self.csrf = token["csrf_token"]
        status, answer = self.call(
            "login", "POST", "/api/login", {"username": self.username, "password": PASSWORD}
        )
        if status != 200:
            raise RuntimeError(f"login of {self.username} failed: {status} {answer}")
        _, token = self.call("csrf", "GET", "/api/csrf")  # the session was renewed at login
        self.csrf = token["csrf_token"]
        _, procedures = self.call("procedures", "GET", "/api/procedures")
        [meta] = [p["meta"] for p in procedures if p["procedure_id"] == PROCEDURE]
        self.documents = [d["code"] for d in meta.get("documents", [])]

    def start_case(self, n: int) -> str | None:
        status, answer = self.call(
            "start_case",
            "POST",
            "/api/cases",
            {
                "procedure_id": PROCEDURE,
                "applicant": {"name": f"Công dân tải thử {self.username}-{n}", "type": 0},
                "channel": 1,
            },
        )
        if status == 201:
            with self.stats.lock:
                self.stats.started.append(answer["code"])
            return str(answer["code"])
        return None

    def step(self, code: str) -> bool:
        """Complete the first open task of ``code``; False when the case has none left."""
        status, case = self.call("get_case", "GET", f"/api/cases/{code}")
        if status != 200 or not case["tasks"]:
            return False
        task = case["tasks"][0]
        data = form_data(task.get("form"), self.documents)
        status, _ = self.call(
            "complete_task",
            "POST",
            f"/api/cases/{code}/tasks/{task['task_id']}/complete",
            {"data": data, "expected_version": case["version"]},
        )
        if status == 200:
            with self.stats.lock:
                self.stats.completed.append((code, task["task_id"]))
        return True


def form_data(schema: dict[str, Any] | None, documents: Sequence[str]) -> dict[str, Any]:
    """Valid data taking the happy path; the receipt checklist ticks every document of the procedure."""
    from bench.lifecycle import sample_data

    data = sample_data(schema)
    for name, prop in (schema or {}).get("properties", {}).items():
        if prop.get("x-choices") == "documents":
            data[name] = list(documents) if name == "checked_documents" else []
    return data


def clerk_loop(
    clerk: Clerk, deadline: float, shared: list[str], shared_lock: threading.Lock, seed: int
) -> None:
    rng = random.Random(seed)
    clerk.login()
    n = 0
    own: str | None = None
    while time.monotonic() < deadline:
        if rng.random() < SHARED_RATE:
            with shared_lock:
                code = rng.choice(shared) if shared else None
            if code is not None and not clerk.step(code):
                with shared_lock:
                    if code in shared:
                        shared.remove(code)
            continue
        if own is None:
            n += 1
            own = clerk.start_case(n)
            if own is not None and rng.random() < 0.5:
                with shared_lock:
                    shared.append(own)
                    del shared[:-50]  # a bounded pool of recent dossiers everyone may touch
            continue
        if not clerk.step(own):
            own = None


# ------------------------------------------------------------------------------------ server side
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_database(base_url: str, clerks: int) -> str:
    import psycopg

    from engine.db import Database
    from engine.service import Engine
    from engine.users import create_user

    name = f"motcua_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base_url.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    Engine(db).init_db(load_library=True, seed_users=False)
    with db.unit_of_work() as session:
        for i in range(clerks):
            create_user(
                session, f"canbo{i:02d}", f"Cán bộ tải thử {i:02d}", STAFF_ROLES, PASSWORD, unit="Một cửa"
            )
    db.dispose()
    return url


def drop_database(base_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def start_gunicorn(url: str, port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MOTCUA_DATABASE_URL": url,
        "MOTCUA_SECRET_KEY": uuid.uuid4().hex,
        "MOTCUA_LOGIN_RATE_LIMIT": "10000 per minute",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable, "-m", "gunicorn",
        "-w", str(workers), "-k", "gthread", "--threads", str(threads),
        "-b", f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "30",
        "wsgi:app",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/procedures")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer in time")


# ------------------------------------------------------------------------------------ verification
def verify(url: str, stats: Stats) -> dict[str, Any]:
    """Lost-update checks against what the clerks were told, plus ``audit verify --all``."""
    from sqlalchemy import func, select

    from engine.db import Database
    from engine.models import Case, CaseEvent
    from engine.service import Engine

    engine = Engine(Database(url))
    report = engine.verify_history(None)
    with engine.db.read() as session:
        cases = int(session.scalar(select(func.count()).select_from(Case)) or 0)
        completions = session.execute(
            select(Case.code, CaseEvent.task_id)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind == "task_completed")
        ).all()
    engine.db.dispose()
    stored: Counter[tuple[str, str | None]] = Counter((code, task) for code, task in completions)
    told: Counter[tuple[str, str | None]] = Counter(stats.completed)
    cli = subprocess.run(
        [sys.executable, "run.py", "audit", "verify", "--all", "--db", url, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return {
        "cases_in_db": cases,
        "cases_started_201": len(stats.started),
        "completions_in_db": sum(stored.values()),
        "completions_answered_200": sum(told.values()),
        "tasks_completed_twice": sum(1 for n in stored.values() if n > 1),
        "answered_but_missing": sum((told - stored).values()),
        "stored_but_not_answered": sum((stored - told).values()),
        "chain_findings": len(report.findings),
        "events_verified": report.events,
        "audit_verify_cli_exit": cli.returncode,
    }


def percentile(values: Sequence[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1]


def run(clerks: int, seconds: float, workers: int, threads: int, base_url: str, keep: bool) -> dict[str, Any]:
    url = prepare_database(base_url, clerks)
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"motcua-loadtest-{port}.log"
    server = start_gunicorn(url, port, workers, threads, log)
    stats = Stats()
    try:
        wait_ready(port)
        shared: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + seconds
        pool = [
            threading.Thread(
                target=clerk_loop,
                args=(Clerk(port, f"canbo{i:02d}", stats), deadline, shared, lock, i),
                daemon=True,
            )
            for i in range(clerks)
        ]
        began = time.monotonic()
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=seconds + 120)
        elapsed = time.monotonic() - began
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    checks = verify(url, stats)
    if not keep:
        drop_database(base_url, url)
    requests = sum(stats.statuses.values())
    ops = {
        op: {
            "count": len(ms),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
        }
        for op, ms in sorted(stats.latencies.items())
    }
    # Logging in (argon2, once per clerk) is a warm-up, not the clerks' work: overall figures leave it out.
    all_ms = [m for op in WORK_OPS for m in stats.latencies.get(op, [])]
    passed = (
        not stats.server_errors
        and not stats.transport_errors
        and checks["cases_in_db"] == checks["cases_started_201"]
        and checks["answered_but_missing"] == 0
        and checks["stored_but_not_answered"] == 0
        and checks["tasks_completed_twice"] == 0
        and checks["chain_findings"] == 0
        and checks["audit_verify_cli_exit"] == 0
    )
    return {
        "passed": passed,
        "clerks": clerks,
        "seconds": round(elapsed, 1),
        "gunicorn": f"{workers} workers × {threads} threads",
        "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "p50_ms": round(percentile(all_ms, 50), 1),
        "p95_ms": round(percentile(all_ms, 95), 1),
        "server_errors": len(stats.server_errors),
        "server_error_samples": stats.server_errors[:5],
        "transport_errors": len(stats.transport_errors),
        "status_counts": {f"{op} {status}": n for (op, status), n in sorted(stats.statuses.items())},
        "operations": ops,
        "checks": checks,
        "database": url if keep else None,
        "server_log": str(log),
    }


def text(report: dict[str, Any]) -> str:
    lines = [
        f"Tải thử: {report['clerks']} cán bộ đồng thời, {report['seconds']} s, gunicorn {report['gunicorn']}",
        f"  {report['requests']} yêu cầu ({report['requests_per_second']}/s); thao tác nghiệp vụ "
        f"(mở hồ sơ, xem, hoàn thành bước): p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms",
        f"  lỗi máy chủ (5xx): {report['server_errors']}, lỗi kết nối: {report['transport_errors']}",
        "  | thao tác | số lần | p50 (ms) | p95 (ms) |",
        "  |---|---:|---:|---:|",
    ]
    lines += [
        f"  | {op} | {v['count']} | {v['p50_ms']} | {v['p95_ms']} |" for op, v in report["operations"].items()
    ]
    lines.append("  kiểm tra sau khi chạy: " + ", ".join(f"{k}={v}" for k, v in report["checks"].items()))
    lines.append("ĐẠT" if report["passed"] else "KHÔNG ĐẠT")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.py loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clerks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument(
        "--pg",
        default=os.environ.get("MOTCUA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL URL; a fresh database is created next to it and dropped afterwards",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the database for inspection")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.clerks, args.seconds, args.workers, args.threads, args.pg, args.keep_db)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else text(report))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
