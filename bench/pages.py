"""Every staff page at 10k, 100k and 1M open dossiers, through the Flask app, on SQLite and PostgreSQL.

Each figure includes the queries, the SLA colours (calendar arithmetic per row) and the Jinja
rendering. The database grows in place between scales (seeded by :mod:`bench.seed` with real
workflow state), so the same process serves every scale: its resident memory after the page views
shows whether the web process grows with the number of dossiers.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.clock import FixedClock
from engine.db import Database
from engine.service import Engine
from engine.settings import EngineSettings
from engine.users import create_user

from .report_facts import seed_report_facts
from .seed import Template, real_templates, seed_open_cases
from .stats import Summary, rss_mib, summarise, timed_ms

BENCH_PASSWORD = "bench-password-766"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
USERS = {
    "bench_clerk": ["desk_clerk"],
    "bench_specialist": ["specialist"],
    "bench_director": ["director"],
    "bench_auditor": ["auditor"],
}
#: The library's units (bpmn/ lanes): the specialist's unit queue is the diploma unit's, as in a Sở.
UNITS = {
    "bench_clerk": "Bộ phận một cửa",
    "bench_specialist": "Phòng Quản lý chất lượng",
    "bench_director": "Ban Giám đốc",
}
#: (page, user, path); ``{code}`` is a real dossier with its full history.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("desk queue", "bench_clerk", "/desk/"),
    ("my tasks", "bench_specialist", "/tasks/?scope=mine"),
    ("unit queue", "bench_specialist", "/tasks/"),
    ("SLA board", "bench_director", "/board/"),
    ("case page", "bench_specialist", "/cases/{code}"),
    (
        "auditor case list (register, one day)",
        "bench_auditor",
        "/auditor/reports/register?from=2026-02-27&to=2026-02-27",
    ),
    ("periodic report, a quarter", "bench_auditor", "/auditor/reports/periodic?year=2026&period=q1"),
)


class _Browser:
    """One logged-in Flask test client per user."""

    def __init__(self, engine: Engine) -> None:
        from web.app import create_app

        self.app = create_app(engine, {"LOGIN_RATE_LIMIT": "10000 per minute"})
        self.clients: dict[str, Any] = {}

    def get(self, user: str, path: str) -> int:
        client = self.clients.get(user)
        if client is None:
            client = self.clients[user] = self.app.test_client()
            token = client.get("/api/csrf").get_json()["csrf_token"]
            client.post("/login", data={"csrf_token": token, "username": user, "password": BENCH_PASSWORD})
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} as {user}: HTTP {response.status_code}")
        return len(response.get_data())


def _getter(browser: _Browser, user: str, path: str) -> Callable[[], int]:
    return lambda: browser.get(user, path)


def page_rows(
    url: str,
    backend: str,
    scales: list[int],
    runs: int,
    log: Callable[[str], None] = print,
    only: list[str] | None = None,
) -> list[Summary]:
    """Seed up to each scale in turn and time every page ``runs`` times at each (or only the pages
    whose name contains one of ``only``, case-insensitive)."""
    engine = Engine(Database(url), clock=FixedClock(NOW), settings=EngineSettings())
    engine.init_db(load_library=True, seed_users=False)
    with engine.db.unit_of_work() as session:
        for name, roles in USERS.items():
            create_user(session, name, name, roles, BENCH_PASSWORD, UNITS.get(name))
    templates: list[Template] = real_templates(engine)
    # a dossier routed to the specialist's unit (another unit's dossier is refused to them)
    code = next(
        (t.code for t in reversed(templates) if procedure_of(engine, t.code) == "diploma_copy"),
        templates[-1].code,
    )
    browser = _Browser(engine)
    rows: list[Summary] = []
    seeded = 0
    for scale in sorted(scales):
        t0 = time.perf_counter()
        # (On PostgreSQL the seeding ends with ANALYZE, as autovacuum would after a bulk load; SQLite
        # keeps no statistics unless told to, so its plans are measured as they are.)
        seeded += seed_apart(url, templates, scale - seeded)
        log(f"  {backend}: {scale:,} dossiers seeded ({time.perf_counter() - t0:.0f} s)")
        for page, user, path in PAGES:
            if only and not any(word.lower() in page.lower() for word in only):
                continue
            target = path.format(code=code)
            size = browser.get(user, target)
            samples = timed_ms(_getter(browser, user, target), runs)
            rows.append(
                summarise(
                    f"{page}, {backend}, {scale // 1000}k dossiers",
                    "ms",
                    samples,
                    page=page,
                    backend=backend,
                    scale=scale,
                    kib=round(size / 1024, 1),
                    rss_mib=round(rss_mib(), 1),
                )
            )
            log(f"    {page}: median {rows[-1].median:.1f} ms, p95 {rows[-1].p95:.1f} ms, {size // 1024} KiB")
    engine.db.dispose()
    return rows


def _seed_child(url: str, templates: list[Template], n_cases: int, out: Any) -> None:
    engine = Engine(Database(url), clock=FixedClock(NOW), settings=EngineSettings())
    board = (engine.calendar, engine.settings.amber_threshold)
    made = seed_open_cases(engine.db, templates, n_cases, NOW, mine="bench_specialist", board=board)
    seed_report_facts(engine.db)  # the copies count in the reports (bench.report_facts)
    if engine.db.engine.dialect.name == "postgresql":
        # The report facts rewrote every copied case row (its facts position): autovacuum would run
        # again after that many changes, and the planner needs the new tables' statistics.
        with engine.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
            vacuum.exec_driver_sql("VACUUM ANALYZE")
    out.put(made)
    engine.db.dispose()


def seed_apart(url: str, templates: list[Template], n_cases: int) -> int:
    """Seed in a process of its own: the bulk load's caches and memory maps (SQLite's enlarged page
    cache, the copied rows) stay out of the process whose memory the page views measure."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    child = context.Process(target=_seed_child, args=(url, templates, n_cases, out), name="bench-seed")
    child.start()
    while True:
        try:
            made = int(out.get(timeout=5))
            break
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError(f"seeding failed in its process (exit code {child.exitcode})") from None
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"seeding failed in its process (exit code {child.exitcode})")
    return made


def procedure_of(engine: Engine, code: str) -> str:
    return engine.get_case(code).procedure_id
