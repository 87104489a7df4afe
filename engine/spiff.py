"""The seam between motcua and SpiffWorkflow.

SpiffWorkflow runs the BPMN; this module makes it answer to our rules:

* timers ask the injected :class:`~engine.clock.Clock` instead of the wall clock, so tests and
  replays are deterministic and can travel through Tết without sleeping;
* expressions and scripts run in the engine's script engine, which carries the clock and the
  business-time functions (``working_hours(8)``);
* a case's stored state excludes the process specs, which are stored once per procedure version
  (a case is pinned to its version, and its blob stays small).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.parser.ProcessParser import ProcessParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .clock import Clock
from .errors import MotcuaError, ProcedureError, SandboxError
from .refusals import element_label, explain

_log = logging.getLogger("motcua.spiff")
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _engine_now(my_task: Task) -> datetime:
    engine = my_task.workflow.script_engine
    clock: Clock | None = getattr(engine, "clock", None)
    if clock is None:
        raise RuntimeError("workflow runs without a motcua script engine (no clock)")
    return clock.now()


def parse_moment(value: str) -> datetime:
    """ISO 8601 moment; a naive one is local (Asia/Ho_Chi_Minh), not the server's zone."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- ISO 8601 timers

#: A timer may first fire at most this far ahead: further is a typo (P999999999Y), not a procedure.
MAX_TIMER_HORIZON = relativedelta(years=10)
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)
_MOMENT = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_CYCLE = re.compile(r"^R(?P<count>\d*)/(?P<rest>.+)$")
#: Longest text read as an ISO value: 'P99999…9Y' must not reach int() with a thousand digits.
_MAX_ISO_CHARS = 80


class TimerSpecError(ProcedureError):
    """A timer value (bare or computed) that motcua cannot or will not schedule."""


@dataclass(frozen=True)
class TimerPlan:
    """When a timer first fires and, for a cycle, how often and how many times (-1: unbounded)."""

    first: datetime
    period: timedelta | None = None
    cycles: int = 1


def parse_duration(text: str) -> relativedelta:
    """A bare ISO 8601 duration (PT2H, P1Y2M, P1W); calendar units stay calendar units."""
    match = _DURATION.match(text.strip().upper()) if len(text) <= _MAX_ISO_CHARS else None
    if match is None:
        raise TimerSpecError(f"'{text}' không phải khoảng thời gian ISO 8601 (ví dụ PT2H, P5D)")
    parts = {k: float(v.replace(",", ".")) for k, v in match.groupdict().items() if v is not None}
    if parts.get("years", 0) > 10**4 or parts.get("months", 0) > 10**5:
        raise TimerSpecError(f"Khoảng thời gian '{text}' quá dài (tối đa 10 năm)")
    extra = timedelta(
        weeks=min(parts.get("weeks", 0), 10**6),
        days=min(parts.get("days", 0), 10**7),
        hours=min(parts.get("hours", 0), 10**8),
        minutes=min(parts.get("minutes", 0), 10**9),
        seconds=min(parts.get("seconds", 0), 10**10),
    )
    return relativedelta(years=int(parts.get("years", 0)), months=int(parts.get("months", 0))) + extra


def _is_iso_moment(text: str) -> bool:
    return _MOMENT.match(text.upper()) is not None


def _moment(text: str) -> datetime:
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise TimerSpecError(
            f"'{text}' không phải thời điểm ISO 8601 (ví dụ 2026-05-01T08:00:00+07:00)"
        ) from exc


def _after(start: datetime, duration: relativedelta, text: str) -> datetime:
    try:
        moment: datetime = start + duration
    except (OverflowError, ValueError) as exc:
        raise TimerSpecError(f"Khoảng thời gian '{text}' quá dài (tối đa 10 năm)") from exc
    return moment


def _within_horizon(first: datetime, now: datetime, text: str) -> None:
    if first > now + MAX_TIMER_HORIZON:
        local = first.astimezone(LOCAL_TZ)
        raise TimerSpecError(f"Hẹn giờ '{text}' lần đầu sau hơn 10 năm nữa ({local:%d/%m/%Y})")


def plan_timer(kind: str, value: Any, now: datetime) -> TimerPlan:
    """When a timer fires, from its BPMN kind and its value (bare ISO text or an expression's result).

    ``timeDate``: a moment; ``timeDuration``: a duration from now (wall time; business time is
    written as ``working_hours(8)`` in a timeDate); ``timeCycle``: ``R[n]/duration`` or
    ``R[n]/start/duration``. Refused: a first firing more than 10 years ahead, a cycle period of zero.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TZ)
        first = moment.astimezone(UTC)
        _within_horizon(first, now, value.isoformat())
        return TimerPlan(first)
    text = str(value).strip()
    if len(text) > _MAX_ISO_CHARS * 3:
        raise TimerSpecError(f"Giá trị hẹn giờ quá dài ({len(text)} ký tự)")
    if kind == "timeCycle":
        return _plan_cycle(text, now)
    if text.upper().startswith("P"):
        if kind == "timeDate":
            raise TimerSpecError(f"timeDate cần một thời điểm, không phải khoảng thời gian '{text}'")
        first = _after(now, parse_duration(text), text)
    elif kind == "timeDuration" and not _is_iso_moment(text):
        raise TimerSpecError(f"'{text}' không phải khoảng thời gian ISO 8601 (ví dụ PT2H, P5D)")
    else:
        first = _moment(text)
    _within_horizon(first, now, text)
    return TimerPlan(first)


def _plan_cycle(text: str, now: datetime) -> TimerPlan:
    match = _CYCLE.match(text.upper())
    if match is None:
        raise TimerSpecError(f"Chu kỳ hẹn giờ '{text}' phải có dạng R[số lần]/khoảng (ví dụ R3/PT1H)")
    count = match.group("count")
    if len(count) > 6:
        raise TimerSpecError(f"Chu kỳ hẹn giờ '{text}' lặp quá nhiều lần")
    cycles = int(count) if count else -1
    parts = match.group("rest").split("/")
    if len(parts) == 1 and parts[0].startswith("P"):
        start, period_text = None, parts[0]
    elif len(parts) == 2 and parts[1].startswith("P") and not parts[0].startswith("P"):
        start, period_text = _moment(text.split("/")[1]), parts[1]
    else:
        raise TimerSpecError(
            f"Chu kỳ hẹn giờ '{text}' không được hỗ trợ: dùng R[n]/khoảng hoặc R[n]/thời điểm bắt đầu/khoảng"
        )
    duration = parse_duration(period_text)
    base = start or now
    following = _after(base, duration, text)
    period = following - base
    if period <= timedelta(0):
        raise TimerSpecError(f"Chu kỳ hẹn giờ '{text}' có khoảng bằng 0: hẹn giờ sẽ lặp không ngừng")
    first = start or following
    _within_horizon(first, now, text)
    return TimerPlan(first, period, cycles)


def bare_timer_value(kind: str, text: str) -> str | None:
    """``text`` itself when it is a bare ISO 8601 value for that timer kind, else None (an expression)."""
    value = text.strip()
    if len(value) > _MAX_ISO_CHARS * 3:
        return None
    upper = value.upper()
    if kind == "timeCycle":
        return value if _CYCLE.match(upper) else None
    return value if _DURATION.match(upper) or _MOMENT.match(upper) else None


def _timer_value(my_task: Task, kind: str, expression: str) -> Any:
    bare = bare_timer_value(kind, expression)
    if bare is not None:
        return bare
    return my_task.workflow.script_engine.evaluate(my_task, expression)


def _plan_for(my_task: Task, kind: str, expression: str, now: datetime) -> TimerPlan:
    try:
        return plan_timer(kind, _timer_value(my_task, kind, expression), now)
    except TimerSpecError as exc:
        element = my_task.task_spec.bpmn_id or my_task.task_spec.name
        raise TimerSpecError(f"Hẹn giờ '{element}': {exc.message}", details={"element_id": element}) from exc


class ClockTimeDateEventDefinition(TimeDateEventDefinition):  # type: ignore[misc]
    """A ``timeDate`` timer whose value is computed once and compared with our clock."""

    def has_fired(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = _engine_now(my_task)
        if event_value is None:
            event_value = _plan_for(my_task, "timeDate", self.expression, now).first.isoformat()
            my_task._set_internal_data(event_value=event_value)
        if parse_moment(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockDurationTimerEventDefinition(DurationTimerEventDefinition):  # type: ignore[misc]
    """A ``timeDuration`` timer counting wall time from our clock (business time uses timeDate)."""

    def has_fired(self, my_task: Task) -> bool:
        event_value = my_task._get_internal_data("event_value")
        now = _engine_now(my_task)
        if event_value is None:
            event_value = _plan_for(my_task, "timeDuration", self.expression, now).first.isoformat()
            my_task._set_internal_data(event_value=event_value)
        if parse_moment(event_value) <= now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockCycleTimerEventDefinition(CycleTimerEventDefinition):  # type: ignore[misc]
    """A ``timeCycle`` timer stepped by our clock."""

    def cycle_complete(self, my_task: Task) -> bool:
        now = _engine_now(my_task)
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            plan = _plan_for(my_task, "timeCycle", self.expression, now)
            assert plan.period is not None
            event_value = {
                "cycles": plan.cycles,
                "next": plan.first.isoformat(),
                "duration": plan.period.total_seconds(),
            }
        ready = False
        if event_value["cycles"] != 0:
            next_event = parse_moment(event_value["next"])
            if next_event <= now:
                event_value["next"] = (next_event + timedelta(seconds=event_value["duration"])).isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


_CLOCK_TIMERS: dict[type, type] = {
    TimeDateEventDefinition: ClockTimeDateEventDefinition,
    DurationTimerEventDefinition: ClockDurationTimerEventDefinition,
    CycleTimerEventDefinition: ClockCycleTimerEventDefinition,
}


class MotcuaScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Script engine that carries the clock so timers and business-time functions can read it."""

    def __init__(self, clock: Clock, environment: Any) -> None:
        super().__init__(environment=environment)
        self.clock = clock


class AutomaticServiceTask(ServiceTask):  # type: ignore[misc]
    """A ``serviceTask`` with no implementation motcua knows: an automatic step that completes at
    once (the service is done outside the engine); SpiffWorkflow's own would wait for ever."""

    def _run_hook(self, my_task: Task) -> bool:
        return True


class _CalledProcessParser(ProcessParser):  # type: ignore[misc]
    """Modelling tools export every pool with ``isExecutable="false"`` unless told otherwise; motcua
    decides what runs (the procedure's process and what it calls), so the flag does not stop a call."""

    def create_spec(self) -> Any:
        self.process_executable = True
        return super().create_spec()


class MotcuaParser(BpmnParser):  # type: ignore[misc]
    PROCESS_PARSER_CLASS = _CalledProcessParser
    OVERRIDE_PARSER_CLASSES = {
        **BpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (TaskParser, AutomaticServiceTask),
    }


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(DEFAULT_CONFIG)
    for clock_class in _CLOCK_TIMERS.values():
        config[clock_class] = TimerConditionalEventDefinitionConverter
    config[AutomaticServiceTask] = BpmnTaskSpecConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _serializer()


@dataclass(frozen=True)
class CompiledSpecs:
    """Parsed specs of one procedure version, shared by all its cases (specs are read-only at run time)."""

    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]

    def new_workflow(self, script_engine: MotcuaScriptEngine) -> BpmnWorkflow:
        return BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=script_engine)

    def spec_names(self) -> dict[str, tuple[str | None, str | None]]:
        """Each user task's own BPMN name and lane (for steps that carry no ``motcua:step`` name)."""
        names: dict[str, tuple[str | None, str | None]] = {}
        for one in [self.spec, *self.subprocess_specs.values()]:
            for task_spec in one.task_specs.values():
                if getattr(task_spec, "manual", False):
                    names[task_spec.name] = (task_spec.bpmn_name, task_spec.lane)
        return names

    @cached_property
    def has_timers(self) -> bool:
        """Whether any element waits on a timer (a case of a version without one never has a BPMN timer)."""
        return any(
            _has_timer(getattr(task_spec, "event_definition", None))
            for one in [self.spec, *self.subprocess_specs.values()]
            for task_spec in one.task_specs.values()
        )

    def to_json(self) -> str:
        """Serialised specs, stored with the version so a case can be restored without the BPMN."""
        try:
            return _specs_json(
                {
                    "spec": self.spec,
                    "subprocess_specs": self.subprocess_specs,
                }
            )
        except (TypeError, ValueError, RecursionError) as exc:
            element, name = _unserialisable_element([self.spec, *self.subprocess_specs.values()])
            where = f", phần tử {element_label(element, name)}" if element else ""
            reason = explain(exc)
            raise ProcedureError(
                f"Không lưu được quy trình '{self.process_id}'{where}: {reason.message}",
                details={"element_id": element, "detail": reason.detail},
            ) from exc

    @classmethod
    def from_json(cls, process_id: str, text: str) -> CompiledSpecs:
        payload = json.loads(text)
        spec = SERIALIZER.registry.restore(payload["spec"])
        subs = {k: SERIALIZER.registry.restore(v) for k, v in payload["subprocess_specs"].items()}
        return cls(process_id, spec, subs)


def _specs_json(value: Any) -> str:
    SERIALIZER.registry._encoder_mode = True
    try:
        converted = SERIALIZER.registry.convert(value)
    finally:
        SERIALIZER.registry._encoder_mode = False
    return json.dumps(converted, cls=SERIALIZER._encoder_cls)


def _unserialisable_element(process_specs: Iterable[Any]) -> tuple[str | None, str | None]:
    """The first task spec the serializer cannot write (id, name), to name it in the deploy error."""
    for process_spec in process_specs:
        for task_spec in process_spec.task_specs.values():
            try:
                _specs_json(task_spec)
            except (TypeError, ValueError, RecursionError):
                return _spec_label(task_spec)
    return None, None


def _spec_label(task_spec: Any) -> tuple[str, str | None]:
    return str(getattr(task_spec, "bpmn_id", None) or task_spec.name), getattr(task_spec, "bpmn_name", None)


def compile_specs(files: Mapping[str, etree._Element], process_id: str) -> CompiledSpecs:
    """Parse already-hardened XML trees with SpiffWorkflow and switch timers to our clock."""
    parser = MotcuaParser()
    try:
        for name, root in files.items():
            parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        reason = explain(exc)
        element = getattr(exc, "id", "") or None
        where = f" ở phần tử {element_label(element, getattr(exc, 'name', ''))}" if element else ""
        raise ProcedureError(
            f"BPMN không hợp lệ{where}: {reason.message}",
            details={"element_id": element, "detail": reason.detail},
        ) from exc
    except Exception as exc:  # SpiffWorkflow raises bare exceptions for some modelling errors
        reason = explain(exc)
        raise ProcedureError(
            f"Không đọc được quy trình '{process_id}': {reason.message}", details={"detail": reason.detail}
        ) from exc
    for one in [spec, *subprocess_specs.values()]:
        _use_clock_timers(one)
    return CompiledSpecs(process_id, spec, dict(subprocess_specs))


def _clock_timer(definition: Any) -> Any:
    replacement = _CLOCK_TIMERS.get(type(definition))
    if replacement is None:
        # An event-based gateway (or a multiple event) holds its branches' definitions itself.
        inner = getattr(definition, "event_definitions", None)
        if isinstance(inner, list):
            inner[:] = [_clock_timer(d) for d in inner]
        return definition
    return replacement(definition.name, definition.expression, description=definition.description)


def _use_clock_timers(process_spec: Any) -> None:
    for task_spec in process_spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        if definition is not None:
            task_spec.event_definition = _clock_timer(definition)


def _has_timer(definition: Any) -> bool:
    if isinstance(definition, TimerEventDefinition):
        return True
    inner = getattr(definition, "event_definitions", None)
    return isinstance(inner, list) and any(_has_timer(d) for d in inner)


def _workflow_converter() -> Any:
    registry = SERIALIZER.registry
    # register() keeps partial(_obj_to_dict, typename, converter.to_dict): the converter is its owner.
    return registry.convert_to_dict[registry.typenames[BpmnWorkflow]].args[1].__self__


_WORKFLOW_CONVERTER = _workflow_converter()


def dump_state(workflow: BpmnWorkflow) -> str:
    """The workflow's runtime state as JSON, without its specs (those live with the version).

    Mirrors SpiffWorkflow's ``BpmnWorkflowConverter.to_dict`` without converting the specs, which it
    would do on every write only for them to be dropped (most of the cost of serialising a case).
    """
    return json.dumps(_state_dict(workflow), cls=SERIALIZER._encoder_cls, separators=(",", ":"))


def dump_state_checked(workflow: BpmnWorkflow) -> tuple[str, bool]:
    """:func:`dump_state`, and whether the workflow in memory is what :func:`load_state` would rebuild
    from that text.

    It is when the text parses back to the very structure that was written: every value in the task
    data is then plain JSON (a tuple, a set or a dict with int keys is not, and would come back as a
    list or with str keys). Only such a workflow may be kept in memory for the case's next operation
    (``engine.cases.WorkflowCache``) instead of being reloaded: keeping any other one could make the
    next operation behave unlike a reload, and so unlike a faithful replay.
    """
    dct = _state_dict(workflow)
    text = json.dumps(dct, cls=SERIALIZER._encoder_cls, separators=(",", ":"))
    try:
        faithful = bool(json.loads(text) == dct)
    except Exception:  # a comparison of exotic values may itself fail: then it is not plain JSON
        faithful = False
    return text, faithful


def _state_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    converter, registry = _WORKFLOW_CONVERTER, SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct: dict[str, Any] = WorkflowConverter.to_dict(converter, workflow)
        dct["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        dct["typename"] = converter.typename
    finally:
        registry._encoder_mode = False
    dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
    return dct


def load_state(text: str, specs: CompiledSpecs, script_engine: MotcuaScriptEngine) -> BpmnWorkflow:
    """Rebuild a workflow from its state and the version's shared, already-restored specs.

    Mirrors SpiffWorkflow's ``BpmnWorkflowConverter.from_dict`` except that the specs are not
    restored again for every load: that is most of the cost of deserialising a case.
    """
    dct = json.loads(text)
    SERIALIZER.migrate(dct)
    registry = SERIALIZER.registry
    workflow = BpmnWorkflow(
        specs.spec, specs.subprocess_specs, script_engine=script_engine, deserializing=True
    )
    workflow.tasks = {UUID(k): registry.restore(v, workflow=workflow) for k, v in dct["tasks"].items()}
    workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.get("correlations", {})
    if isinstance(dct["last_task"], str):
        workflow.last_task = workflow.tasks.get(UUID(dct["last_task"]))
    workflow.data = registry.restore(dct.get("data", {}))
    _restore_subprocesses(registry, dct["subprocesses"], workflow, workflow)
    workflow.bpmn_events = registry.restore(dct.get("bpmn_events", []))
    return workflow


def _restore_subprocesses(registry: Any, dct: dict[str, Any], workflow: Any, top: Any) -> None:
    # Parents first: a sub-process is attached to a task that must already exist.
    for task in list(workflow.tasks.values()):
        if isinstance(task.task_spec, SubWorkflowTask) and str(task.id) in dct:
            sub = registry.restore(dct.pop(str(task.id)), task=task, top_workflow=top)
            top.subprocesses[task.id] = sub
            sub.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
            _restore_subprocesses(registry, dct, sub, top)


def all_tasks(workflow: BpmnWorkflow) -> Iterable[Task]:
    """Every task of the case, including those inside called sub-processes."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return [t for t in all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual]


def waiting_timers(workflow: BpmnWorkflow) -> list[tuple[Task, datetime]]:
    """Waiting timer tasks with the moment they fire, as computed (once) by our clock timers."""
    found: list[tuple[Task, datetime]] = []
    for task in workflow.event_manager.tasks.values() if hasattr(workflow, "event_manager") else []:
        definition = getattr(task.task_spec, "event_definition", None)
        if not _has_timer(definition):
            continue
        value = task._get_internal_data("event_value")
        if isinstance(value, dict):
            value = value.get("next")
        if isinstance(value, str):
            found.append((task, parse_moment(value)))
    return found


#: The calendar walks day by day, in the server process (not the sandbox worker): keep it short.
MAX_WORKING_DAYS = 3_660


def _bounded(value: Any, limit: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SandboxError(f"{name}() cần một số, không phải {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or abs(number) > limit:
        raise SandboxError(f"{name}({value:g}) vượt quá giới hạn 10 năm")
    return number


def business_functions(
    clock: Clock,
    add_hours: Callable[[datetime, float], datetime],
    add_days: Callable[[datetime, float], datetime],
) -> dict[str, Callable[..., Any]]:
    """Functions offered to BPMN expressions; they count from the clock, so replays agree."""

    def working_hours(hours: float) -> str:
        return add_hours(clock.now(), _bounded(hours, MAX_WORKING_DAYS * 24, "working_hours")).isoformat()

    def working_days(days: float) -> str:
        return add_days(clock.now(), _bounded(days, MAX_WORKING_DAYS, "working_days")).isoformat()

    def now() -> str:
        return clock.now().isoformat()

    return {"working_hours": working_hours, "working_days": working_days, "now": now}


# --------------------------------------------------------------------------- run-time errors


def element_of(error: BaseException) -> str | None:
    """The BPMN element a failure happened in: SpiffWorkflow's task, else the innermost frame
    that was working on a task (a bare Python error from deep inside SpiffWorkflow)."""
    return _failed_element(error)[0]


def _failed_element(error: BaseException) -> tuple[str | None, str | None]:
    task = getattr(error, "task", None)
    found: Task | None = task if isinstance(task, Task) else None
    if found is None:
        traceback = error.__traceback__
        while traceback is not None:
            for value in traceback.tb_frame.f_locals.values():
                if isinstance(value, Task):
                    found = value
            traceback = traceback.tb_next
    if found is None:
        return None, None
    return _spec_label(found.task_spec)


def _motcua_cause(error: BaseException) -> MotcuaError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MotcuaError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


@contextmanager
def spiff_errors() -> Iterator[None]:
    """Turn any failure while SpiffWorkflow runs (a sandbox stop, a bad expression, a bug hit by a
    foreign diagram) into an engine error naming the element; the unit of work then rolls back, so
    the case is unchanged."""
    try:
        yield
    except MotcuaError as exc:
        element = element_of(exc)
        if element is not None:
            exc.details.setdefault("element_id", element)
        raise
    except Exception as exc:  # SpiffWorkflowException, or TypeError/NameError/… from deep inside
        cause = _motcua_cause(exc)
        element, name = _failed_element(exc)
        if cause is not None:
            if element is not None:
                cause.details.setdefault("element_id", element)
            raise cause from exc
        where = f" tại phần tử {element_label(element, name)}" if element else ""
        reason = explain(exc)
        detail = str(exc) if isinstance(exc, SpiffWorkflowException) else f"{type(exc).__name__}: {exc}"
        _log.warning("case operation failed at %s: %s", element, detail)
        raise ProcedureError(
            f"Quy trình gặp lỗi khi chạy{where}: {reason.message}",
            details={"element_id": element, "detail": detail},
        ) from exc
