"""Benchmarks for ``python run.py bench``: one run, one table, ratios against raw SpiffWorkflow.

Figures are only meaningful relative to the baseline measured in the same run on the same machine,
so every engine figure is reported next to raw SpiffWorkflow executing the same procedure.
Benchmarks may read the wall clock (``time.perf_counter``); engine logic never does.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from bench.calendar import add_working_hours_rate
from engine.clock import FixedClock
from engine.db import Database
from engine.definitions import ProcedureBundle, load_library
from engine.service import Engine
from engine.settings import EngineSettings
from engine.users import SYSTEM, Actor

BENCH_PROCEDURE = "diploma_copy"
ALL_ROLES = Actor(
    "bench",
    "Benchmark",
    frozenset({"desk_clerk", "specialist", "head_of_department", "director", "other_department", "citizen"}),
)


def sample_data(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Valid data for a task form that takes the 'happy' branch: first enum value, booleans true."""
    if not schema:
        return {}
    data: dict[str, Any] = {}
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        value = _sample_value(prop)
        if value is not None or name in required:
            data[name] = value
    return data


def _sample_value(prop: Mapping[str, Any]) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind == "integer":
        return int(prop.get("minimum", 1))
    if kind == "number":
        return float(prop.get("minimum", 1))
    if kind == "array":
        items = prop.get("items", {})
        return [items["enum"][0]] if "enum" in items else []
    if kind == "string":
        if prop.get("format") == "date":
            return "2026-03-02"
        return "Ghi chú" if prop.get("minLength", 0) <= 7 else "x" * int(prop["minLength"])
    return None


@dataclass
class Row:
    name: str
    per_second: float
    median_ms: float
    p95_ms: float | None = None
    note: str = ""


def _timed(fn: Callable[[], Any], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def _row(name: str, samples: list[float], note: str = "") -> Row:
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)
    return Row(name, 1000.0 / median if median else float("inf"), median, p95, note)


def _bundle(library: Path) -> ProcedureBundle:
    for bundle in load_library(library):
        if bundle.meta.id == BENCH_PROCEDURE:
            return bundle
    raise RuntimeError(f"procedure {BENCH_PROCEDURE} not found in {library}")


def _raw_lifecycle(bundle: ProcedureBundle, serialize: bool) -> Callable[[], None]:
    """Raw SpiffWorkflow in memory: the same procedure, the same data, no database, no clock."""
    parser = BpmnParser()
    for name, root in {
        f"{bundle.meta.id}.bpmn": bundle.main,
        **{f"{k}.bpmn": v for k, v in bundle.called.items()},
    }.items():
        parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
    spec, subprocess_specs = parser.get_spec(bundle.meta.id), parser.get_subprocess_specs(bundle.meta.id)
    serializer = BpmnWorkflowSerializer()
    forms = {k: v.form for k, v in bundle.elements.items()}

    def run() -> None:
        wf = BpmnWorkflow(spec, subprocess_specs, script_engine=_RawEngine())
        wf.do_engine_steps()
        for _ in range(100):
            ready = [t for t in wf.get_tasks(state=TaskState.READY, manual=True)]
            if not ready:
                break
            task = ready[0]
            task.data.update(sample_data(forms.get(task.task_spec.name)))
            task.run()
            wf.do_engine_steps()
            if serialize:
                wf = serializer.deserialize_json(serializer.serialize_json(wf))
                wf.script_engine = _RawEngine()

    return run


class _RawEngine(PythonScriptEngine):  # type: ignore[misc]
    """Plain script engine with the business-time functions answered by wall time (baseline only)."""

    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))

    def __init__(self) -> None:
        from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

        now = self.clock.now()
        super().__init__(
            TaskDataEnvironment(
                {
                    "working_hours": lambda h: (now + timedelta(hours=h)).isoformat(),
                    "working_days": lambda d: (now + timedelta(days=d)).isoformat(),
                    "now": lambda: now.isoformat(),
                }
            )
        )


def _engine_lifecycle(engine: Engine) -> tuple[Callable[[], None], list[float]]:
    complete_ms: list[float] = []

    def run() -> None:
        case = engine.start_case(
            {"procedure_id": BENCH_PROCEDURE, "applicant": {"name": "Nguyễn Văn Bench"}}, SYSTEM
        )
        for _ in range(100):
            tasks = engine.list_tasks(case.code)
            if not tasks:
                break
            task = tasks[0]
            t0 = time.perf_counter()
            engine.complete_task(case.code, task.task_id, sample_data(task.form), ALL_ROLES)
            complete_ms.append((time.perf_counter() - t0) * 1000)

    return run, complete_ms


def _engine_for(url: str) -> Engine:
    engine = Engine(
        Database(url), clock=FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)), settings=EngineSettings()
    )
    engine.init_db(load_library=True, seed_users=False)
    return engine


def _postgres_url() -> str | None:
    url = os.environ.get("MOTCUA_BENCH_DATABASE_URL") or os.environ.get(
        "MOTCUA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=3).close()
    except Exception:
        return None
    return url


def run_benchmarks(quick: bool = False) -> dict[str, Any]:
    """Run everything once and return rows plus a Markdown table."""
    n = 20 if quick else 200
    settings = EngineSettings()
    bundle = _bundle(settings.library_dir)
    rows: list[Row] = []
    raw = _row("raw SpiffWorkflow, in memory (baseline)", _timed(_raw_lifecycle(bundle, False), n))
    rows.append(raw)
    rows.append(
        _row("raw SpiffWorkflow + JSON round trip after each step", _timed(_raw_lifecycle(bundle, True), n))
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine_for(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        run, complete_ms = _engine_lifecycle(engine)
        rows.append(_row("motcua on SQLite: full case lifecycle", _timed(run, n)))
        rows.append(_row("motcua on SQLite: complete one task", complete_ms))
        engine.db.dispose()
    pg = _postgres_url()
    if pg is not None:
        import psycopg

        name = f"motcua_bench_{os.getpid()}"
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            engine = _engine_for(pg.rsplit("/", 1)[0] + "/" + name)
            run, complete_ms = _engine_lifecycle(engine)
            rows.append(_row("motcua on PostgreSQL: full case lifecycle", _timed(run, n)))
            rows.append(_row("motcua on PostgreSQL: complete one task", complete_ms))
            engine.db.dispose()
        finally:
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    calls = 20_000 if quick else 200_000
    ops = add_working_hours_rate(calls)
    rows.append(Row("calendar add_working_hours", ops, 1000.0 / ops, None, f"{calls} calls"))
    rows += _auditor_rows(quick)
    from bench.timers import timer_rows

    rows += [Row(**r) for r in timer_rows(quick, _postgres_url())]
    from .sandbox_bench import sandbox_rows

    rows += [Row(**r) for r in sandbox_rows(quick)]
    return {"rows": [r.__dict__ for r in rows], "table": _table(rows, raw), "runs": n}


def _auditor_rows(quick: bool) -> list[Row]:
    """Replay of a long case (per second = replays) and chain verification (per second = events)."""
    from bench.audit import replay_samples, verify_samples

    events, samples = replay_samples(quick)
    replayed = _row(f"auditor: replay a {events}-event case on SQLite (per second = events)", samples)
    replayed.per_second = events * 1000.0 / replayed.median_ms
    count, samples = verify_samples(quick)
    verified = _row(f"auditor: verify {count // 1000}k events on SQLite (per second = events)", samples)
    verified.per_second = count * 1000.0 / verified.median_ms
    return [replayed, verified]


def _table(rows: list[Row], baseline: Row) -> str:
    lines = [
        "| benchmark | per second | median (ms) | p95 (ms) | time vs raw SpiffWorkflow |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = f"{r.median_ms / baseline.median_ms:.1f}×" if "lifecycle" in r.name or "raw" in r.name else ""
        p95 = f"{r.p95_ms:.2f}" if r.p95_ms is not None else ""
        ratio = ratio or r.note if r.name.startswith("sandbox:") else ratio
        lines.append(f"| {r.name} | {r.per_second:,.0f} | {r.median_ms:.3f} | {p95} | {ratio} |")
    return "\n".join(lines)
