"""The write path against a naive SpiffWorkflow loop on the same database, interleaved in time.

The naive loop is what anyone would write first: raw SpiffWorkflow with the full
``BpmnWorkflowSerializer``, one row per case, each step a transaction that reads the row, runs the
task and writes the row back (one commit per step), through the same ``Database`` class — so the
same PRAGMAs on SQLite and the same driver and pool on PostgreSQL. Product and baseline take turns
within every repetition, so a burst of load from elsewhere hits both; the ratio per repetition is
the figure, min/median/max over the repetitions its spread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select, update

from engine.clock import FixedClock
from engine.db import Database
from engine.definitions import ProcedureBundle, load_library
from engine.errors import ValidationError
from engine.service import CaseView, Engine
from engine.settings import EngineSettings
from engine.users import SYSTEM, Actor

from .stats import StatementCounter, Summary, summarise

BENCH_PROCEDURE = "diploma_copy"
ALL_ROLES = Actor(
    "bench",
    "Benchmark",
    frozenset({"desk_clerk", "specialist", "head_of_department", "director", "other_department", "citizen"}),
)


def sample_data(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Valid data for a task form that takes the 'happy' branch: first enum value, booleans true,
    every value of a multiple choice."""
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
        # Every listed value (up to maxItems): on a receipt form that is every document checked,
        # the complete dossier the happy path needs.
        return list(items["enum"][: prop.get("maxItems")]) if "enum" in items else []
    if kind == "string":
        if prop.get("format") == "date":
            return "2026-03-02"
        return "Ghi chú" if prop.get("minLength", 0) <= 7 else "x" * int(prop["minLength"])
    return None


class HappyPath:
    """Completes tasks with :func:`sample_data`, plus what the engine's own checks asked for once.

    The receipt step refuses an incomplete dossier and names the missing documents: the first
    refusal teaches the document list for that step, so every later dossier is complete at once
    (and timed runs, after a warm-up, never pay for a refusal).
    """

    def __init__(self) -> None:
        self.learned: dict[str, dict[str, Any]] = {}

    def complete(self, engine: Engine, code: str, task: Any) -> CaseView:
        """Complete ``task``; returns the case as the operation answered (with its open steps)."""
        data = {**sample_data(task.form), **self.learned.get(task.element_id, {})}
        try:
            return engine.complete_task(code, task.task_id, data, ALL_ROLES)
        except ValidationError as exc:
            missing = exc.details.get("missing")
            if not missing:
                raise
            checked = sorted({*(data.get("checked_documents") or []), *missing})
            self.learned[task.element_id] = {"checked_documents": checked}
            return engine.complete_task(code, task.task_id, {**data, "checked_documents": checked}, ALL_ROLES)


def load_bundle(library: Path) -> ProcedureBundle:
    for bundle in load_library(library):
        if bundle.meta.id == BENCH_PROCEDURE:
            return bundle
    raise RuntimeError(f"procedure {BENCH_PROCEDURE} not found in {library}")


class _RawEngine(PythonScriptEngine):  # type: ignore[misc]
    """Plain script engine; the business-time functions answer from a fixed instant (baseline only)."""

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


class RawProcedure:
    """The bench procedure parsed once by plain SpiffWorkflow, with its forms for sample data."""

    def __init__(self, bundle: ProcedureBundle) -> None:
        parser = BpmnParser()
        for name, root in {
            f"{bundle.meta.id}.bpmn": bundle.main,
            **{f"{k}.bpmn": v for k, v in bundle.called.items()},
        }.items():
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        self.spec = parser.get_spec(bundle.meta.id)
        self.subprocess_specs = parser.get_subprocess_specs(bundle.meta.id)
        self.forms = {k: v.form for k, v in bundle.elements.items()}
        self.serializer = BpmnWorkflowSerializer()

    def new(self) -> Any:
        wf = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=_RawEngine())
        wf.do_engine_steps()
        return wf

    def step(self, wf: Any) -> bool:
        """Run the first ready manual task with sample data; False when none is left."""
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            return False
        task = ready[0]
        task.data.update(sample_data(self.forms.get(task.task_spec.name)))
        task.run()
        wf.do_engine_steps()
        return True

    def load(self, state: str) -> Any:
        wf = self.serializer.deserialize_json(state)
        wf.script_engine = _RawEngine()
        return wf


def memory_lifecycle(raw: RawProcedure) -> int:
    """Raw SpiffWorkflow in memory, no database: the floor under every other figure."""
    wf = raw.new()
    steps = 1
    while raw.step(wf):
        steps += 1
    return steps


class NaiveLoop:
    """Raw SpiffWorkflow on a database: one row per case, one transaction and commit per step."""

    def __init__(self, url: str, raw: RawProcedure) -> None:
        self.raw = raw
        self.db = Database(url)
        metadata = MetaData()
        self.table = Table(
            "naive_cases", metadata, Column("id", Integer, primary_key=True), Column("state", Text)
        )
        metadata.drop_all(self.db.engine)
        metadata.create_all(self.db.engine)
        self.counter = StatementCounter(self.db.engine)

    def lifecycle(self) -> int:
        """One case from start to end; returns the number of write operations (start + steps)."""
        raw, table = self.raw, self.table
        with self.counter.counting(), self.db.unit_of_work() as session:
            state = raw.serializer.serialize_json(raw.new())
            case_id = session.execute(insert(table).values(state=state).returning(table.c.id)).scalar_one()
        operations = 1
        while True:
            with self.counter.counting(), self.db.unit_of_work() as session:
                state = session.execute(
                    select(table.c.state).where(table.c.id == case_id).with_for_update()
                ).scalar_one()
                wf = raw.load(state)
                if not raw.step(wf):
                    break
                session.execute(
                    update(table).where(table.c.id == case_id).values(state=raw.serializer.serialize_json(wf))
                )
            operations += 1
        return operations

    def close(self) -> None:
        self.counter.close()
        self.db.dispose()


class ProductLoop:
    """motcua: the same procedure and data through ``Engine.start_case`` / ``complete_task``."""

    def __init__(self, url: str) -> None:
        self.engine = Engine(
            Database(url), clock=FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)), settings=EngineSettings()
        )
        self.engine.init_db(load_library=True, seed_users=False)
        self.counter = StatementCounter(self.engine.db.engine)
        self.happy = HappyPath()

    def lifecycle(self) -> int:
        """One case from start to end; like the naive loop, each operation's answer (the view with the
        open steps) says what to do next, without another read."""
        engine = self.engine
        with self.counter.counting():
            case = engine.start_case(
                {"procedure_id": BENCH_PROCEDURE, "applicant": {"name": "Nguyễn Văn Bench"}}, SYSTEM
            )
        operations = 1
        for _ in range(100):
            if not case.tasks:
                break
            with self.counter.counting():
                case = self.happy.complete(engine, case.code, case.tasks[0])
            operations += 1
        return operations

    def close(self) -> None:
        self.counter.close()
        self.engine.db.dispose()


def _throughput(run: Callable[[], int], n: int) -> tuple[float, int]:
    """Lifecycles per second over ``n`` lifecycles, and the operations they made."""
    t0 = time.perf_counter()
    operations = sum(run() for _ in range(n))
    return n / (time.perf_counter() - t0), operations


@contextmanager
def scratch_databases(pg_url: str | None, names: list[str]) -> Iterator[dict[str, str]]:
    """One fresh database per name: SQLite files in a temporary directory, PostgreSQL databases."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        urls = {f"sqlite:{n}": f"sqlite:///{Path(tmp) / n}.sqlite3" for n in names}
        created: list[str] = []
        if pg_url is not None:
            import psycopg

            with psycopg.connect(pg_url, autocommit=True) as conn:
                for n in names:
                    name = f"motcua_bench_{n}_{int(time.time())}"
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                    conn.execute(f'CREATE DATABASE "{name}"')
                    created.append(name)
                    urls[f"postgresql:{n}"] = pg_url.rsplit("/", 1)[0] + "/" + name
        try:
            yield urls
        finally:
            if created:
                import psycopg

                with psycopg.connect(pg_url, autocommit=True) as conn:  # type: ignore[arg-type]
                    for name in created:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def lifecycle_rows(pg_url: str | None, repetitions: int, per_repetition: int) -> list[Summary]:
    """Full lifecycles of product and naive loop on each backend, interleaved, plus the in-memory floor."""
    raw = RawProcedure(load_bundle(EngineSettings().library_dir))
    backends = ["sqlite"] + (["postgresql"] if pg_url else [])
    rows: list[Summary] = []
    with scratch_databases(pg_url, ["product", "naive"]) as urls:
        loops = {b: (ProductLoop(urls[f"{b}:product"]), NaiveLoop(urls[f"{b}:naive"], raw)) for b in backends}
        for product, naive in loops.values():  # warm: first-use costs (spec cache, connections)
            product.lifecycle()
            naive.lifecycle()
            product.counter.count = naive.counter.count = 0
        memory: list[float] = []
        rates: dict[str, dict[str, list[float]]] = {b: {"product": [], "naive": []} for b in backends}
        ops = {b: {"product": 0, "naive": 0} for b in backends}
        for rep in range(repetitions):
            memory.append(_throughput(lambda: memory_lifecycle(raw), per_repetition)[0])
            for b in backends:
                product, naive = loops[b]
                order = [("product", product.lifecycle), ("naive", naive.lifecycle)]
                for kind, run in order if rep % 2 == 0 else order[::-1]:
                    rate, made = _throughput(run, per_repetition)
                    rates[b][kind].append(rate)
                    ops[b][kind] += made
        rows.append(summarise("raw SpiffWorkflow in memory, no database (floor)", "lifecycles/s", memory))
        label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        for b in backends:
            product, naive = loops[b]
            ratios = [p / n for p, n in zip(rates[b]["product"], rates[b]["naive"], strict=True)]
            naive_row = summarise(
                f"naive SpiffWorkflow + {label[b]} (baseline)",
                "lifecycles/s",
                rates[b]["naive"],
                statements_per_operation=round(naive.counter.count / max(1, ops[b]["naive"]), 1),
            )
            product_row = summarise(
                f"motcua on {label[b]}: full diploma_copy lifecycle",
                "lifecycles/s",
                rates[b]["product"],
                statements_per_operation=round(product.counter.count / max(1, ops[b]["product"]), 1),
                ratio=summarise("ratio", "×", ratios).as_dict(),
                backend=b,
            )
            rows += [naive_row, product_row]
        for product, naive in loops.values():
            product.close()
            naive.close()
    return rows
