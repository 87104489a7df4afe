"""The lean write path on both databases: a case's workflow kept in memory between its operations
(and reloaded whenever the row no longer holds what was kept), the case row, work items and timers
written through Core, the writes after the version check sent together (a PostgreSQL pipeline) —
with the same outcome, history and conflicts as before."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select

from bench.lifecycle import ALL_ROLES, HappyPath, sample_data
from engine import cases
from engine.clock import FixedClock
from engine.db import Database, pipelined
from engine.errors import ConflictError
from engine.models import Base, Case, CaseEvent, WorkItem
from engine.service import CaseView, Engine
from engine.spiff import dump_state_checked, load_state
from engine.users import SYSTEM
from tests.engine.helpers import event_count

APPLICANT = {"name": "Lê Văn Cường"}


def _start(engine: Engine) -> CaseView:
    return engine.start_case({"procedure_id": "diploma_copy", "applicant": APPLICANT}, SYSTEM)


def _loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the workflows the runtime rebuilds from their stored state."""
    seen: list[int] = []
    real = load_state

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cases, "load_state", counting)
    return seen


def _replays_cleanly(engine: Engine, code: str) -> None:
    report = engine.replay_case(code)
    assert report.ok, (report.divergence, report.snapshot_differences)
    assert engine.verify_history(code).ok


def test_the_next_operation_uses_the_workflow_the_last_one_wrote(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = _loads(monkeypatch)
    happy = HappyPath()
    case = _start(engine)
    steps = 0
    while case.tasks:
        case = happy.complete(engine, case.code, case.tasks[0])
        steps += 1
    assert case.completed and steps >= 3
    assert loads == []  # every completion ran on the workflow kept by the operation before
    _replays_cleanly(engine, case.code)


def test_a_write_by_another_process_is_read_not_the_kept_workflow(
    db_url: str, engine: Engine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    happy = HappyPath()
    case = _start(engine)
    case = happy.complete(engine, case.code, case.tasks[0])  # this process keeps the workflow
    other = Engine(Database(db_url), clock=clock, settings=engine.settings)
    try:
        after_other = happy.complete(other, case.code, case.tasks[0])
    finally:
        other.db.dispose()
    loads = _loads(monkeypatch)
    # The row moved on elsewhere: the kept workflow is stale and must not be used.
    view = happy.complete(engine, case.code, after_other.tasks[0])
    assert loads == [1]
    assert view.version == after_other.version + 1
    assert [t.element_id for t in view.tasks] != [t.element_id for t in after_other.tasks]
    _replays_cleanly(engine, case.code)


def test_a_stale_version_is_still_a_conflict_with_a_kept_workflow(engine: Engine) -> None:
    happy = HappyPath()
    case = _start(engine)
    case = happy.complete(engine, case.code, case.tasks[0])  # the workflow is kept from here
    task = case.tasks[0]
    with pytest.raises(ConflictError):
        engine.complete_task(
            case.code, task.task_id, sample_data(task.form), ALL_ROLES, expected_version=case.version - 1
        )
    after = happy.complete(engine, case.code, task)
    assert after.version == case.version + 1
    _replays_cleanly(engine, case.code)


def test_an_operation_rolled_back_after_its_writes_leaves_nothing_kept_or_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    happy = HappyPath()
    case = _start(engine)
    case = happy.complete(engine, case.code, case.tasks[0])  # learns the documents; workflow kept
    before = event_count(engine.db, case.id)

    def crash(_code: str) -> None:
        raise RuntimeError("process dies before COMMIT")

    monkeypatch.setattr(cases, "after_flush_hook", crash)
    with pytest.raises(RuntimeError):
        happy.complete(engine, case.code, case.tasks[0])
    monkeypatch.setattr(cases, "after_flush_hook", None)
    assert event_count(engine.db, case.id) == before
    again = engine.get_case(case.code)
    assert again.version == case.version and [t.task_id for t in again.tasks] == [
        t.task_id for t in case.tasks
    ]
    loads = _loads(monkeypatch)
    view = happy.complete(engine, case.code, case.tasks[0])  # from the stored state, not the crashed one
    assert loads == [1] and view.version == case.version + 1
    _replays_cleanly(engine, case.code)


def test_open_steps_written_without_their_ids_are_found_by_queries(engine: Engine) -> None:
    happy = HappyPath()
    case = _start(engine)
    case = happy.complete(engine, case.code, case.tasks[0])
    with engine.db.read() as session:
        rows = session.scalars(
            select(WorkItem).where(WorkItem.case_id == case.id).order_by(WorkItem.id)
        ).all()
        assert [r.task_id for r in rows if r.completed_at is None] == [t.task_id for t in case.tasks]
        closed = [r for r in rows if r.completed_at is not None]
        assert len(closed) == 1 and closed[0].completed_by == ALL_ROLES.username and closed[0].outcome
    assert engine.get_case(case.code).tasks == case.tasks


@pytest.mark.parametrize(
    ("value", "kept"),
    [([1, "a"], True), ({"k": [None, 1.5]}, True), ((1, 2), False), ({1: "a"}, False)],
)
def test_only_a_workflow_a_reload_would_rebuild_exactly_is_kept(
    engine: Engine, value: Any, kept: bool
) -> None:
    code = _start(engine).code
    with engine.db.read() as session:
        case = cases.find_case(session, code)
        workflow = engine.cases.load_workflow(session, case)
        version = engine.procedures.load(session, case.procedure_version_id)
    workflow.task_tree.data["value"] = value
    text, faithful = dump_state_checked(workflow)
    assert faithful is kept
    if kept:
        assert load_state(text, version.specs, workflow.script_engine).task_tree.data["value"] == value


def test_a_failing_statement_in_the_pipeline_rolls_the_whole_unit_back(engine: Engine) -> None:
    case = _start(engine)
    with engine.db.read() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one()
        row = {c: getattr(item, c) for c in cases._ITEM_COLUMNS}
        seq = session.scalar(
            select(CaseEvent.seq).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
        )
    assert seq is not None
    events = Base.metadata.tables[CaseEvent.__tablename__]
    items = Base.metadata.tables[WorkItem.__tablename__]
    event = {
        "case_id": case.id,
        "seq": seq + 1,
        "at": row["ready_at"],
        "actor": "system",
        "kind": "document_added",
        "payload": {},
        "prev_hash": "x",
        "hash": "y",
    }
    with pytest.raises(ConflictError), engine.db.unit_of_work() as session:
        with pipelined(session):
            session.connection().execute(insert(events).inline(), [event])
            session.connection().execute(insert(items).inline(), [row])  # the same task id again
        raise AssertionError("the duplicate must fail by the end of the pipeline")
    assert event_count(engine.db, case.id) == seq
    with engine.db.read() as session:
        assert session.scalar(select(Case.version).where(Case.id == case.id)) == case.version


def test_a_step_opened_and_closed_in_one_unit_of_work_is_closed_in_every_object_of_its_row(
    engine: Engine,
) -> None:
    # As an online submission with its receipt does: start, read the open steps, complete one.
    with engine.db.unit_of_work() as session:
        case, _secret = engine.cases.start(session, "diploma_copy", APPLICANT, 1, {}, SYSTEM)
        loaded = session.scalars(select(WorkItem).where(WorkItem.case_id == case.id)).one()
        form = engine.procedures.load(session, case.procedure_version_id).elements[loaded.element_id]["form"]
        engine.cases.complete(session, case, loaded.task_id, sample_data(form), ALL_ROLES)
        assert loaded.completed_at is not None and loaded.completed_by == ALL_ROLES.username
        again = session.scalars(select(WorkItem).where(WorkItem.task_id == loaded.task_id)).one()
        assert again.completed_at is not None
    with engine.db.read() as session:
        row = session.scalars(select(WorkItem).where(WorkItem.task_id == loaded.task_id)).one()
        assert row.completed_at is not None and row.completed_by == ALL_ROLES.username


def _stand_in(name: str) -> Any:
    return name


def test_the_kept_workflows_are_bounded_by_count_and_by_state_length() -> None:
    specs: Any = object()  # stand-ins: the cache compares specs by identity and keeps any workflow
    other_specs: Any = object()
    kept = cases.WorkflowCache(entries=3, state_chars=10)
    for case_id in range(1, 5):
        kept.put(case_id, specs, "ab", _stand_in(f"workflow {case_id}"))
    assert len(kept) == 3 and kept.take(1, specs, "ab") is None  # the least recently written went
    assert kept.take(2, other_specs, "ab") is None  # other specs: a miss, and the entry is gone
    assert kept.take(2, specs, "ab") is None
    assert kept.take(3, specs, "ab!") is None  # the row holds another state
    assert kept.take(4, specs, "ab") == "workflow 4"
    kept.put(5, specs, "x" * 6, _stand_in("five"))
    kept.put(6, specs, "y" * 6, _stand_in("six"))
    assert len(kept) == 1 and kept.take(6, specs, "y" * 6) == "six"  # 12 chars > 10: five went
    kept.put(7, specs, "z" * 11, _stand_in("seven"))
    assert len(kept) == 0  # a state longer than the whole budget is not kept
