"""Foreign BPMN constructs (tests/fixtures/compat/): each deploys and runs to completion on both
databases, or is refused at validation with a clear reason; raw SpiffWorkflow does no better."""

from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.clock import FixedClock
from engine.errors import ProcedureError
from engine.service import Engine
from tests.engine.helpers import DESIGNER, FIXTURES, drive_to_end

COMPAT = FIXTURES / "compat"
RUNS = {
    "data_objects": "compat_data_objects",
    "service_task": "compat_service_task",
    "multi_instance": "compat_multi_instance",
    "event_gateway": "compat_event_gateway",
    "boundary_events": "compat_boundary_events",
    "errors_escalations": "compat_errors_escalations",
    "nested_calls": "compat_nested_calls",
    "collaboration": "compat_collaboration",
}
#: Constructs motcua refuses, with a fragment of the reason the modeller reads.
REFUSED = {"data_store": "Kho dữ liệu 'Sổ gốc'"}
PROCESS_IDS = {**RUNS, **{name: f"compat_{name}" for name in REFUSED}}


def _deploy(engine: Engine, name: str) -> None:
    engine.deploy(f"{name}.bpmn", (COMPAT / f"{name}.bpmn").read_bytes(), {}, DESIGNER)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_construct_runs_to_completion(engine: Engine, clock: FixedClock, name: str) -> None:
    _deploy(engine, name)
    case = engine.start_case(
        {"procedure_id": RUNS[name], "applicant": {"name": "Trần Thị Bình"}}, engine.actor("clerk")
    )
    done = drive_to_end(engine, clock, case.code)
    assert done.completed, f"{name}: stuck at status {done.status} with tasks {done.tasks}"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_construct_is_refused_with_a_reason(engine: Engine, name: str) -> None:
    with pytest.raises(ProcedureError) as caught:
        _deploy(engine, name)
    assert REFUSED[name] in caught.value.message


def _raw_completes(path: Path, process_id: str) -> bool:
    """Raw SpiffWorkflow with its own engine: complete every ready task until nothing is ready."""
    try:
        parser = BpmnParser()
        parser.add_bpmn_file(str(path))
        workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
        for _ in range(60):
            workflow.do_engine_steps()
            ready = workflow.get_tasks(manual=True, state=16)  # TaskState.READY
            if not ready:
                break
            ready[0].run()
        workflow.do_engine_steps()
        return bool(workflow.completed)
    except Exception:
        return False


def test_motcua_runs_at_least_what_raw_spiffworkflow_runs() -> None:
    raw = {name for name, pid in PROCESS_IDS.items() if _raw_completes(COMPAT / f"{name}.bpmn", pid)}
    print(f"raw SpiffWorkflow completes {len(raw)} of {len(PROCESS_IDS)}; motcua {len(RUNS)}")
    assert raw <= set(RUNS), f"raw SpiffWorkflow completes what motcua does not: {raw - set(RUNS)}"
