"""The expression/script sandbox: known escapes are refused, BPMN conditions and scripts still work."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import SandboxError
from engine.sandbox import SandboxedEnvironment, check_source, find_sandbox_error, make_script_engine


@pytest.fixture
def env() -> SandboxedEnvironment:
    return SandboxedEnvironment({"working_days": lambda days: f"+{days}d", "now": lambda: "2026-01-05T08:00"})


def rejected(env: SandboxedEnvironment, source: str, mode: str, data: dict[str, Any] | None = None) -> str:
    context = dict(data or {"x": 1})
    before = dict(context)
    with pytest.raises(SandboxError) as caught:
        if mode == "eval":
            env.evaluate(source, context)
        else:
            env.execute(source, context)
    assert context == before, "a rejected script must leave the task data alone"
    return caught.value.message


# ----------------------------------------------------------------------------- escapes

ESCAPES = [
    ("eval", "().__class__.__bases__[0].__subclasses__()", "'_' (__"),
    ("eval", "__import__('os').system('id')", "(__import__)"),
    ("eval", "[c for c in ().__class__.__base__.__subclasses__()]", "'_' (__"),
    ("eval", "getattr((), '__cl' + 'ass__')", "'getattr'"),
    ("eval", "open('/etc/passwd').read()", "'open'"),
    ("eval", "eval('1')", "'eval'"),
    ("exec", "exec('x=1')", "'exec'"),
    ("exec", "import os", "'import'"),
    ("exec", "from os import system", "'import'"),
    ("eval", "(lambda: 0).__globals__", "(__globals__)"),
    ("eval", "type(1)", "'type'"),
    ("eval", "_private", "(_private)"),
    ("exec", "def f(__x): pass", "(__x)"),
    ("exec", "global x", "'global'"),
    ("exec", "class A: pass", "'class'"),
    ("exec", "async def f(): pass", "'async'"),
    ("exec", "def g():\n    yield 1", "'yield'"),
    ("exec", "try:\n    x = 1\nexcept Exception:\n    pass", "'try'"),
    ("exec", "with x:\n    pass", "'with'"),
    ("exec", "x.y = 1", "gán hoặc xóa thuộc tính"),
    ("eval", "(x for x in [1]).gi_frame.f_globals", "'gi_frame'"),
    ("eval", "'{0.__class__}'.format(1)", "'format'"),
    ("eval", "(1).to_bytes(10**9, 'big')", "'to_bytes'"),
    ("eval", "str.mro()", "'mro'"),
    ("eval", "len.__self__", "(__self__)"),
]


@pytest.mark.parametrize(("mode", "source", "fragment"), ESCAPES, ids=[s for _, s, _ in ESCAPES])
def test_escape_payloads_are_rejected(
    env: SandboxedEnvironment, mode: str, source: str, fragment: str
) -> None:
    assert fragment in rejected(env, source, mode)


def test_attribute_message_is_specific(env: SandboxedEnvironment) -> None:
    message = rejected(env, "().__class__", "eval")
    assert message == "Biểu thức không được truy cập thuộc tính bắt đầu bằng '_' (__class__)"


def test_builtins_are_only_the_whitelist(env: SandboxedEnvironment) -> None:
    with pytest.raises(NameError):
        env.evaluate("compile", {})  # not callable here, but not reachable either
    with pytest.raises(NameError):
        env.evaluate("isinstance(1, int)", {})


def test_forbidden_names_are_usable_as_task_data(env: SandboxedEnvironment) -> None:
    assert env.evaluate("type == 'ca_nhan'", {"type": "ca_nhan"}) is True


def test_side_effect_payload_never_runs(env: SandboxedEnvironment, tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    rejected(env, f"open({str(target)!r}, 'w').write('x')", "exec")
    rejected(env, f"__import__('pathlib').Path({str(target)!r}).touch()", "exec")
    assert not target.exists()


# ----------------------------------------------------------------------------- resource bombs


def test_infinite_loop_is_stopped(env: SandboxedEnvironment) -> None:
    assert "bước xử lý" in rejected(env, "while True: pass", "exec")


def test_multiline_infinite_loop_is_stopped(env: SandboxedEnvironment) -> None:
    assert "bước xử lý" in rejected(env, "i = 0\nwhile True:\n    i += 1", "exec")


def test_cpu_budget_stops_slow_steps() -> None:
    env = SandboxedEnvironment(max_steps=10**9, cpu_seconds=0.2)
    message = rejected(env, "while True:\n    sorted(range(100_000))", "exec")
    assert message.startswith("Vượt quá giới hạn thời gian xử lý của kịch bản")


def test_step_budget_is_configurable() -> None:
    env = SandboxedEnvironment(max_steps=10)
    assert "10 bước" in rejected(env, "for i in range(100):\n    y = i", "exec")


@pytest.mark.parametrize(
    ("mode", "source", "fragment"),
    [
        ("exec", "x = 10**10**10", "Số nguyên quá lớn"),
        ("eval", "2 ** 100_000", "Số nguyên quá lớn"),
        ("eval", "1 << 10**9", "Số nguyên quá lớn"),
        ("exec", "n = 2**5000\nn = n * n * n", "Số nguyên quá lớn"),
        ("eval", "'a' * 10**10", "Kết quả quá lớn"),
        ("eval", "[0] * 10**9", "Kết quả quá lớn"),
        ("exec", "s = 'a' * 1_000_000\nfor i in range(30):\n    s = s + s", "Kết quả quá lớn"),
        ("exec", "s = 'a'\nfor i in range(30):\n    s += s", "Kết quả quá lớn"),
        ("exec", "d = {'k': 'a'}\nfor i in range(30):\n    d['k'] *= 2", "Kết quả quá lớn"),
        ("exec", "l = [1]\nfor i in range(40):\n    l.extend(l)", "Kết quả quá lớn"),
        ("eval", "('a' * 1000).replace('', 'b' * 1000)", "Kết quả quá lớn"),
        ("eval", "('b' * 1000).join(['a' * 1000] * 10_000)", "Kết quả quá lớn"),
        ("eval", "'a'.ljust(10**9)", "Kết quả quá lớn"),
        ("eval", "list(range(10**12))", "range() vượt quá"),
        ("exec", "a = list(range(400_000))\nb = [*a, *a, *a]", "Kết quả quá lớn"),
        ("eval", "len((*range(600_000), *range(600_000)))", "Kết quả quá lớn"),
        ("eval", "list(zip(*[range(10**6)] * 1000))", "Kết quả quá lớn"),
        ("eval", "sum([[1]] * 1000, [])", "sum() chỉ dùng"),
        ("eval", "'%s%s' % ('a', 'b')", "'%'"),
        ("eval", "f'{1:10000000}'", "f-string quá rộng"),
        ("eval", "f'{1:{width}}'", "f-string động"),
        ("exec", "x = []\nfor i in range(100):\n    x = [x, x]", "Dữ liệu quá lớn"),
        ("exec", "x = []\nfor i in range(100):\n    x = [x, x]\ny = str(x)", "Dữ liệu quá lớn"),
        ("exec", "x = []\nx.append(x)", "tham chiếu vòng"),
    ],
)
def test_single_operation_bombs_are_refused(
    env: SandboxedEnvironment, mode: str, source: str, fragment: str
) -> None:
    assert fragment in rejected(env, source, mode)


def test_recursion_bomb_is_stopped(env: SandboxedEnvironment) -> None:
    assert "lồng nhau quá sâu" in rejected(env, "def f():\n    return f()\nf()", "exec")
    assert "lồng nhau quá sâu" in rejected(env, "f = lambda: f()\nf()", "exec")


def test_previous_trace_function_is_restored(env: SandboxedEnvironment) -> None:
    calls: list[str] = []

    def tracer(frame: Any, event: str, arg: Any) -> None:
        calls.append(event)

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        env.evaluate("1 + 1", {})
        with pytest.raises(SandboxError):
            env.execute("while True: pass", {})
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)


# ----------------------------------------------------------------------------- what works


@pytest.fixture
def data() -> dict[str, Any]:
    return {"decision": "accept", "amount": 150_000, "found": True, "fee": 50_000, "count": 3, "name": "Lan"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('decision == "accept"', True),
        ('decision == "supplement"', False),
        ("amount > 0 and found", True),
        ("fee * count", 150_000),
        ("2 ** 10 + 7 % 3", 1025),
        ("f'{name!r}: {fee:>8,}'", "'Lan':   50,000"),
        ("name.upper().replace('L', 'Đ')", "ĐAN"),
        ("sorted([3, 1, 2], key=lambda v: -v)", [3, 2, 1]),
        ("sum(i for i in range(10))", 45),
        ("len(str([1, 2]))", 6),
        ("working_days(5)", "+5d"),
        ("now()", "2026-01-05T08:00"),
    ],
)
def test_gateway_conditions_and_expressions(
    env: SandboxedEnvironment, data: dict[str, Any], expression: str, expected: Any
) -> None:
    assert env.evaluate(expression, data) == expected


def test_expression_with_surrounding_whitespace_from_bpmn(env: SandboxedEnvironment) -> None:
    assert env.evaluate('\n      decision == "accept"\n    ', {"decision": "accept"}) is True


def test_script_sets_variables_in_task_data(env: SandboxedEnvironment, data: dict[str, Any]) -> None:
    script = "total = fee * count\nitems = [1]\nitems += [2]\nd = {'k': 2}\nd['k'] **= 3\nhelper = lambda: 1"
    assert env.execute(script, data) is True
    assert data["total"] == 150_000
    assert data["items"] == [1, 2]
    assert data["d"] == {"k": 8}
    # As in SpiffWorkflow: functions and engine helpers do not end up in the task data.
    assert "helper" not in data and "working_days" not in data and "__builtins__" not in data
    assert not any(key.startswith("__sb") for key in data)


def test_script_can_delete_variables(env: SandboxedEnvironment) -> None:
    data = {"temp": 1, "keep": 2}
    env.execute("del temp", data)
    assert data == {"keep": 2}


def test_failed_script_leaves_task_data_untouched(env: SandboxedEnvironment) -> None:
    data = {"items": [1], "n": 0}
    with pytest.raises(ZeroDivisionError):
        env.execute("items.append(2)\nn = 1\nn = 1 / 0", data)
    assert data == {"items": [1], "n": 0}


def test_engine_functions_callable_from_scripts(env: SandboxedEnvironment) -> None:
    data: dict[str, Any] = {}
    env.execute("deadline = working_days(10)", data)
    assert data == {"deadline": "+10d"}


def test_task_data_hiding_an_engine_function_is_reported(env: SandboxedEnvironment) -> None:
    with pytest.raises(SandboxError, match="working_days"):
        env.execute("x = 1", {"working_days": 3})


def test_function_names_must_be_public() -> None:
    with pytest.raises(SandboxError):
        SandboxedEnvironment({"__import__": __import__})


# ----------------------------------------------------------------------------- lint helper


def test_check_source_lists_problems_without_running() -> None:
    problems = check_source("import os\nx = ().__class__\nopen('f')", mode="exec")
    assert problems == [
        "Kịch bản không được dùng 'import' (dòng 1)",
        "Kịch bản không được truy cập thuộc tính bắt đầu bằng '_' (__class__) (dòng 2)",
        "Kịch bản không được gọi hàm 'open' (dòng 3)",
    ]


def test_check_source_accepts_valid_sources() -> None:
    assert check_source('decision == "accept"', mode="eval") == []
    assert check_source("total = fee * count", mode="exec") == []


def test_compiled_sources_are_cached() -> None:
    from engine import sandbox

    source = "cached_probe == 1"
    check_source(source, mode="eval")
    hits = sandbox._compile.cache_info().hits
    SandboxedEnvironment().evaluate(source, {"cached_probe": 1})
    assert sandbox._compile.cache_info().hits == hits + 1


def test_syntax_errors_are_sandbox_errors(env: SandboxedEnvironment) -> None:
    assert check_source("x ==", mode="eval")[0].startswith("Biểu thức sai cú pháp: dòng 1")
    with pytest.raises(SandboxError, match="^Biểu thức sai cú pháp"):
        env.evaluate("decision = 'accept'", {})


# ----------------------------------------------------------------------------- SpiffWorkflow


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="t">
  <bpmn:process id="doubling" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>SCRIPT</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="gate">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>to_big</bpmn:outgoing><bpmn:outgoing>to_small</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_big"><bpmn:incoming>to_big</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end_small"><bpmn:incoming>to_small</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute"/>
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="gate"/>
    <bpmn:sequenceFlow id="to_big" sourceRef="gate" targetRef="end_big">
      <bpmn:conditionExpression>BIG</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_small" sourceRef="gate" targetRef="end_small">
      <bpmn:conditionExpression>y &lt;= 10</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>
</bpmn:definitions>
"""


def run_workflow(x: int, script: str = "y = x * 2", big: str = "y &gt; 10") -> BpmnWorkflow:
    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.replace("SCRIPT", script).replace("BIG", big).encode(), filename="doubling.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("doubling"), script_engine=make_script_engine())
    workflow.get_tasks(spec_name="start")[0].data["x"] = x
    workflow.do_engine_steps()
    return workflow


def finished_ends(workflow: BpmnWorkflow) -> list[str]:
    return [
        t.task_spec.name
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.name.startswith("end")
    ]


@pytest.mark.parametrize(("x", "end", "y"), [(7, "end_big", 14), (3, "end_small", 6)])
def test_workflow_runs_script_and_gateway_in_sandbox(x: int, end: str, y: int) -> None:
    workflow = run_workflow(x)
    assert workflow.completed
    assert finished_ends(workflow) == [end]
    assert workflow.last_task.data == {"x": x, "y": y}


@pytest.mark.parametrize(
    ("script", "big", "fragment"),
    [
        ("y = ().__class__.__bases__[0].__subclasses__()", "y &gt; 10", "'_'"),
        ("while True: pass", "y &gt; 10", "bước xử lý"),
        ("y = x * 2", "__import__('os').system('id')", "__import__"),
    ],
    ids=["script-escape", "script-loop", "gateway-escape"],
)
def test_malicious_workflow_is_stopped_with_sandbox_error_reachable(
    script: str, big: str, fragment: str
) -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        run_workflow(7, script=script, big=big)
    error = caught.value
    assert error.error_type == "SandboxError"
    assert isinstance(error.__context__, SandboxError)  # SpiffWorkflow raises its own while handling ours
    found = find_sandbox_error(error)
    assert found is not None and fragment in found.message
