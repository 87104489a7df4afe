"""Operations that run the workflow: SpiffWorkflow does its part, then the case rules decide.

The runtime (``engine.cases``) and replay (``engine.replay``) both call these, so a completed step,
a fired timer or a cancelled workflow produces its events through one path; they differ only in
where the workflow comes from and what happens to the events afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .domain import rules
from .domain.rules import Observation, ReadyTask, Step
from .spiff import all_tasks, ready_user_tasks, waiting_timers
from .spiff import spiff_errors as spiff_errors  # moved to spiff.py (issue 18); cases.py imports it here

#: Replay maps SpiffWorkflow's fresh task ids to the recorded ones before the rules see them.
Bind = Callable[[Observation], Observation]


def _same(seen: Observation) -> Observation:
    return seen


def completed_ids(workflow: BpmnWorkflow) -> set[str]:
    """Ids of the tasks completed so far (what a run is compared against)."""
    return {str(t.id) for t in all_tasks(workflow) if t.state == TaskState.COMPLETED}


def observe(workflow: BpmnWorkflow, done_before: set[str]) -> Observation:
    """What the run since ``done_before`` did, in the order SpiffWorkflow did it."""
    reached: list[tuple[float, int, str]] = []
    walked: list[tuple[float, int, str]] = []
    for order, task in enumerate(all_tasks(workflow)):
        if task.state != TaskState.COMPLETED or str(task.id) in done_before:
            continue
        key = (task.last_state_change or 0.0, order, task.task_spec.name)
        if not task.task_spec.manual:
            reached.append(key)
        if getattr(task.task_spec, "bpmn_id", None):
            walked.append(key)
    return Observation(
        reached=tuple(name for _, _, name in sorted(reached)),
        walked=tuple(name for _, _, name in sorted(walked)),
        ready=tuple(ReadyTask(str(t.id), t.task_spec.name) for t in ready_user_tasks(workflow)),
        timers=tuple((str(t.id), t.task_spec.name, due) for t, due in waiting_timers(workflow)),
        completed=workflow.is_completed(),
    )


def start(
    step: Step,
    workflow: BpmnWorkflow,
    inputs: Mapping[str, Any],
    history_format: int,
    bind: Bind = _same,
) -> Observation:
    """A new dossier: record its inputs, then run the process up to its first waits."""
    done = completed_ids(workflow)
    rules.start(
        step,
        procedure_id=str(inputs["procedure_id"]),
        version=int(inputs["version"]),
        channel=int(inputs["channel"]),
        applicant=inputs["applicant"],
        data=inputs["data"],
        history_format=history_format,
    )
    workflow.task_tree.data.update(step.state.data)
    with spiff_errors():
        workflow.do_engine_steps()
    seen = observe(workflow, done)
    rules.observe(step, bind(seen))
    return seen


def complete(
    step: Step,
    workflow: BpmnWorkflow,
    task: Any,
    answers: Mapping[str, Any],
    task_id: str | None = None,
    bind: Bind = _same,
) -> Observation:
    """A person completes a ready user task with validated ``answers``."""
    done = completed_ids(workflow)
    task.data.update(answers)
    with spiff_errors():
        task.run()
        workflow.do_engine_steps()
    seen = observe(workflow, done)
    rules.check_supplement_request(step.state, step.facts, task.task_spec.name, answers, seen)
    rules.task_completed(step, task_id or str(task.id), task.task_spec.name, answers)
    rules.observe(step, bind(seen))
    return seen


def fire_timer(
    step: Step,
    workflow: BpmnWorkflow,
    task: Any,
    due: datetime,
    task_id: str | None = None,
    bind: Bind = _same,
) -> Observation:
    """A waiting BPMN timer is due: SpiffWorkflow moves on from it."""
    done = completed_ids(workflow)
    with spiff_errors():
        workflow.refresh_timers()
        workflow.do_engine_steps()
    seen = observe(workflow, done)
    rules.timer_fired(step, task_id or str(task.id), task.task_spec.name, due)
    rules.observe(step, bind(seen))
    return seen


def stop(step: Step, workflow: BpmnWorkflow, bind: Bind = _same) -> Observation:
    """A confirmed withdrawal: the workflow is cancelled and every open step closes."""
    done = completed_ids(workflow)
    rules.withdrawal_confirmed(step)
    workflow.cancel()
    seen = observe(workflow, done)
    rules.observe(step, bind(seen))
    return seen
