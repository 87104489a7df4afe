"""Each lint rule, shown by a small model that is clean except for the one thing the test breaks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.definitions import ProcedureBundle, build_bundle
from engine.errors import ProcedureError
from engine.lint import LintIssue, lint_bundle, processing_hours

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:motcua="urn:motcua:bpmn:1" id="defs" targetNamespace="urn:test">'
)
FORM = '{"type": "object", "properties": {"ok": {"type": "boolean", "title": "Đồng ý"}}, "required": ["ok"]}'


def step(task_id: str, role: str, hours: float, extra: str = "") -> str:
    return (
        f'<bpmn:userTask id="{task_id}" name="Bước {task_id}"><bpmn:extensionElements>'
        f'<motcua:step role="{role}" hours="{hours:g}"/>{extra}<motcua:form>{FORM}</motcua:form>'
        "</bpmn:extensionElements></bpmn:userTask>"
    )


def flow(source: str, target: str, condition: str | None = None) -> str:
    flow_id = f"flow_{source}_{target}"
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


# start → review (4 h, with a deadline timer) → gw → sign (2 h) → done (status 9) → end;
# gw loops back to review by default. Budget: 6 of 8 hours.
CLEAN = (
    HEAD + '<bpmn:process id="demo" name="Thủ tục mẫu" isExecutable="true"><bpmn:extensionElements>'
    '<motcua:procedure code="1.000001" field="Thử nghiệm" legalTime="1" legalUnit="working_days" '
    'onlineLevel="full" resultType="electronic"/></bpmn:extensionElements>'
    '<bpmn:laneSet id="lanes"><bpmn:lane id="lane_specialist" name="Chuyên viên">'
    "<bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>"
    '<bpmn:lane id="lane_head" name="Lãnh đạo phòng"><bpmn:flowNodeRef>sign</bpmn:flowNodeRef></bpmn:lane>'
    "</bpmn:laneSet>"
    '<bpmn:startEvent id="start"/>'
    + step("review", "specialist", 4, '<motcua:status code="4"/>')
    + '<bpmn:boundaryEvent id="review_deadline" attachedToRef="review">'
    '<bpmn:timerEventDefinition id="review_timer"><bpmn:timeDate>working_hours(4)</bpmn:timeDate>'
    "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    '<bpmn:exclusiveGateway id="gw" default="flow_gw_review"/>'
    + step("sign", "head_of_department", 2)
    + '<bpmn:intermediateThrowEvent id="done"><bpmn:extensionElements><motcua:status code="9"/>'
    "</bpmn:extensionElements></bpmn:intermediateThrowEvent>"
    '<bpmn:endEvent id="end"/>'
    '<bpmn:endEvent id="end_late"><bpmn:extensionElements><motcua:status code="8"/>'
    "</bpmn:extensionElements></bpmn:endEvent>"
    + flow("start", "review")
    + flow("review", "gw")
    + flow("gw", "sign", "ok == True")
    + flow("gw", "review")
    + flow("sign", "done")
    + flow("done", "end")
    + flow("review_deadline", "end_late")
    + "</bpmn:process></bpmn:definitions>"
)


def bundle_of(xml: str, shared: dict[str, str] | None = None) -> ProcedureBundle:
    return build_bundle(xml.encode(), "demo.bpmn", {k: v.encode() for k, v in (shared or {}).items()})


def lint(xml: str, shared: dict[str, str] | None = None) -> list[LintIssue]:
    return lint_bundle(bundle_of(xml, shared))


def broken(xml: str, old: str, new: str) -> str:
    assert old in xml, old
    return xml.replace(old, new, 1)


def only(issues: list[LintIssue]) -> LintIssue:
    assert len(issues) == 1, issues
    return issues[0]


def test_the_clean_model_is_clean() -> None:
    assert lint(CLEAN) == []


# ------------------------------------------------------------------------------------ events


def test_two_start_events() -> None:
    issue = only(
        lint(
            broken(
                CLEAN,
                '<bpmn:startEvent id="start"/>',
                '<bpmn:startEvent id="start"/><bpmn:startEvent id="start_2"/>',
            )
        )
    )
    assert (issue.element_id, issue.severity) == ("demo", "error")
    assert "sự kiện bắt đầu" in issue.message


def test_no_start_event() -> None:
    xml = broken(broken(CLEAN, '<bpmn:startEvent id="start"/>', ""), flow("start", "review"), "")
    assert "sự kiện bắt đầu" in only(lint(xml)).message


def test_no_end_event() -> None:
    xml = broken(CLEAN, '<bpmn:endEvent id="end"/>', '<bpmn:task id="end"/>')
    xml = broken(xml, '<bpmn:endEvent id="end_late">', '<bpmn:intermediateThrowEvent id="end_late">')
    xml = broken(
        xml,
        "</bpmn:extensionElements></bpmn:endEvent>",
        "</bpmn:extensionElements></bpmn:intermediateThrowEvent>",
    )
    issue = only(lint(xml))
    assert issue.severity == "error" and "kết thúc" in issue.message


# ------------------------------------------------------------------------------------- steps


def test_user_task_without_step() -> None:
    xml = broken(CLEAN, '<motcua:step role="head_of_department" hours="2"/>', "")
    issue = only(lint(xml))
    assert (issue.element_id, issue.severity) == ("sign", "error")


def test_unknown_role() -> None:
    issue = only(lint(broken(CLEAN, 'role="head_of_department"', 'role="janitor"')))
    assert issue.element_id == "sign" and "janitor" in issue.message


@pytest.mark.parametrize("hours", ['hours="0"', ""])
def test_user_task_needs_positive_hours(hours: str) -> None:
    issue = only(lint(broken(CLEAN, 'hours="2"', hours)))
    assert (issue.element_id, issue.severity) == ("sign", "error")


def test_user_task_outside_any_lane_is_a_warning() -> None:
    issue = only(lint(broken(CLEAN, "<bpmn:flowNodeRef>sign</bpmn:flowNodeRef>", "")))
    assert (issue.element_id, issue.severity) == ("sign", "warning")


# ---------------------------------------------------------------------------- statuses, forms


@pytest.mark.parametrize("code", ["0", "11"])
def test_status_out_of_range(code: str) -> None:
    issue = only(lint(broken(CLEAN, '<motcua:status code="8"/>', f'<motcua:status code="{code}"/>')))
    assert (issue.element_id, issue.severity) == ("end_late", "error")


def test_no_status_9_is_a_warning() -> None:
    issue = only(lint(broken(CLEAN, '<motcua:status code="9"/>', '<motcua:status code="4"/>')))
    assert issue.severity == "warning" and "9" in issue.message


def test_missing_national_code_is_a_warning() -> None:
    issue = only(lint(broken(CLEAN, 'code="1.000001"', 'code=""')))
    assert (issue.element_id, issue.severity) == ("demo", "warning")


def test_form_must_be_an_object() -> None:
    xml = broken(CLEAN, f"<motcua:form>{FORM}</motcua:form>", '<motcua:form>{"type": "array"}</motcua:form>')
    issue = only(lint(xml))
    assert (issue.element_id, issue.severity) == ("review", "error")


def test_form_must_be_a_valid_schema() -> None:
    # build_bundle already refuses broken schemas; lint still checks bundles assembled elsewhere.
    bundle = bundle_of(CLEAN)
    bad = bundle.elements["sign"].model_copy(update={"form": {"type": "object", "required": "ok"}})
    issue = only(lint_bundle(replace(bundle, elements={**bundle.elements, "sign": bad})))
    assert (issue.element_id, issue.severity) == ("sign", "error")


# -------------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(
    "timer",
    [
        "<bpmn:timeDate>working_hours(4)</bpmn:timeDate>",
        "<bpmn:timeDuration>PT2H</bpmn:timeDuration>",
        "<bpmn:timeDuration>P1DT12H</bpmn:timeDuration>",
        '<bpmn:timeDuration>"PT2H"</bpmn:timeDuration>',
        "<bpmn:timeCycle>R3/PT1H</bpmn:timeCycle>",
    ],
)
def test_valid_timers(timer: str) -> None:
    assert lint(broken(CLEAN, "<bpmn:timeDate>working_hours(4)</bpmn:timeDate>", timer)) == []


@pytest.mark.parametrize(
    "timer",
    [
        "<bpmn:timeDate>  </bpmn:timeDate>",
        "<bpmn:timeDate>working_hours(4</bpmn:timeDate>",
        "<bpmn:timeDuration>2 giờ</bpmn:timeDuration>",
        "",
    ],
)
def test_broken_timers(timer: str) -> None:
    issue = only(lint(broken(CLEAN, "<bpmn:timeDate>working_hours(4)</bpmn:timeDate>", timer)))
    assert (issue.element_id, issue.severity) == ("review_deadline", "error")


@pytest.mark.parametrize("condition", ["ok ==", "  "])
def test_broken_gateway_condition(condition: str) -> None:
    issue = only(lint(broken(CLEAN, "ok == True", condition)))
    assert (issue.element_id, issue.severity) == ("flow_gw_sign", "error")


# ----------------------------------------------------------------------------------- gateways


def test_unconditional_flow_that_is_not_the_default() -> None:
    issue = only(lint(broken(CLEAN, ' default="flow_gw_review"', "")))
    assert (issue.element_id, issue.severity) == ("flow_gw_review", "error")


PARALLEL = (
    '<bpmn:parallelGateway id="fork"/><bpmn:parallelGateway id="join"/>'
    + step("left", "specialist", 3)
    + step("right", "other_department", 5)
)


def parallel(xml: str) -> str:
    """review → fork → (left ∥ right) → join → gw, with 2 working days to fit the extra steps."""
    xml = broken(xml, 'legalTime="1"', 'legalTime="2"')
    xml = broken(
        xml,
        flow("review", "gw"),
        flow("review", "fork")
        + flow("fork", "left")
        + flow("fork", "right")
        + flow("left", "join")
        + flow("right", "join")
        + flow("join", "gw"),
    )
    xml = broken(xml, '<bpmn:startEvent id="start"/>', '<bpmn:startEvent id="start"/>' + PARALLEL)
    return broken(
        xml,
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>left</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>right</bpmn:flowNodeRef>",
    )


def test_loop_back_into_a_parallel_join() -> None:
    xml = broken(parallel(CLEAN), flow("gw", "review"), flow("gw", "fork").replace("gw_fork", "gw_review"))
    issues = lint(xml)
    assert [(i.element_id, i.severity) for i in issues] == [("fork", "error")]


def test_mixed_parallel_gateway_is_a_warning() -> None:
    xml = parallel(CLEAN)
    xml = broken(
        xml, '<bpmn:startEvent id="start"/>', '<bpmn:startEvent id="start"/>' + step("side", "specialist", 1)
    )
    xml = broken(
        xml, flow("review", "fork"), flow("review", "fork") + flow("review", "side") + flow("side", "fork")
    )
    xml = broken(
        xml,
        "<bpmn:flowNodeRef>left</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>left</bpmn:flowNodeRef><bpmn:flowNodeRef>side</bpmn:flowNodeRef>",
    )
    issue = only(lint(xml))
    assert (issue.element_id, issue.severity) == ("fork", "warning")


# ---------------------------------------------------------------------------------- ids, budget


def test_duplicate_ids_across_the_bundle() -> None:
    xml = broken(
        CLEAN,
        '<bpmn:endEvent id="end"/>',
        '<bpmn:callActivity id="call_shared" calledElement="shared_part"/><bpmn:endEvent id="end"/>',
    )
    xml = broken(xml, flow("done", "end"), flow("done", "call_shared") + flow("call_shared", "end"))
    shared = (
        HEAD + '<bpmn:process id="shared_part" isExecutable="true"><bpmn:startEvent id="start"/>'
        '<bpmn:endEvent id="shared_end"/>'
        + flow("start", "shared_end")
        + "</bpmn:process></bpmn:definitions>"
    )
    issue = only(lint(xml, {"shared/part.bpmn": shared}))
    assert (issue.element_id, issue.severity) == ("start", "error")


def test_budget_counts_the_longest_path_once_around_loops() -> None:
    assert processing_hours(bundle_of(CLEAN)) == (6.0, ["review", "sign"])


def test_budget_exceeded() -> None:
    issue = only(lint(broken(CLEAN, 'hours="2"', 'hours="4.5"')))
    assert (issue.element_id, issue.severity) == ("demo", "error")
    assert "8.5" in issue.message and "8 giờ" in issue.message


def test_budget_uses_the_working_day_length() -> None:
    bundle = bundle_of(CLEAN)
    assert only(lint_bundle(bundle, hours_per_day=5)).element_id == "demo"
    assert lint_bundle(bundle, hours_per_day=6) == []


def test_parallel_branches_count_once() -> None:
    # 4 (review) + max(3, 5) + 2 (sign) = 11, not 4 + 3 + 5 + 2.
    xml = broken(
        parallel(CLEAN), 'legalTime="2" legalUnit="working_days"', 'legalTime="11" legalUnit="working_hours"'
    )
    assert processing_hours(bundle_of(xml)) == (11.0, ["review", "right", "sign"])
    assert lint(xml) == []


def test_citizen_and_desk_steps_do_not_count() -> None:
    xml = broken(
        CLEAN,
        '<bpmn:startEvent id="start"/>',
        '<bpmn:startEvent id="start"/>'
        + step("pay", "citizen", 40)
        + step("receive", "desk_clerk", 8).replace('hours="8"', 'hours="8" kind="receipt"'),
    )
    xml = broken(
        xml,
        flow("start", "review"),
        flow("start", "receive") + flow("receive", "pay") + flow("pay", "review"),
    )
    xml = broken(
        xml,
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>pay</bpmn:flowNodeRef>"
        "<bpmn:flowNodeRef>receive</bpmn:flowNodeRef>",
    )
    assert processing_hours(bundle_of(xml))[0] == 6.0
    assert lint(xml) == []


def test_called_process_steps_count() -> None:
    xml = broken(
        CLEAN,
        '<bpmn:endEvent id="end"/>',
        '<bpmn:callActivity id="call_review" calledElement="shared_review"/><bpmn:endEvent id="end"/>',
    )
    xml = broken(xml, flow("sign", "done"), flow("sign", "call_review") + flow("call_review", "done"))
    shared = (
        HEAD
        + '<bpmn:process id="shared_review" isExecutable="true"><bpmn:startEvent id="sr_start"/>'
        + step("sr_check", "director", 3)
        + '<bpmn:endEvent id="sr_end"/>'
        + flow("sr_start", "sr_check")
        + flow("sr_check", "sr_end")
        + "</bpmn:process></bpmn:definitions>"
    )
    bundle = bundle_of(xml, {"shared/review.bpmn": shared})
    assert processing_hours(bundle) == (9.0, ["review", "sign", "sr_check"])
    issues = lint_bundle(bundle)
    assert [(i.element_id, i.severity) for i in issues] == [("sr_check", "warning"), ("demo", "error")]


def test_embedded_sub_process_steps_count() -> None:
    inner = (
        '<bpmn:subProcess id="sign"><bpmn:startEvent id="sign_start"/>'
        + step("sign_inner", "head_of_department", 5)
        + '<bpmn:endEvent id="sign_end"/>'
        + flow("sign_start", "sign_inner")
        + flow("sign_inner", "sign_end")
        + "</bpmn:subProcess>"
    )
    xml = broken(CLEAN, step("sign", "head_of_department", 2), inner)
    xml = broken(
        xml,
        "<bpmn:flowNodeRef>sign</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>sign</bpmn:flowNodeRef><bpmn:flowNodeRef>sign_inner</bpmn:flowNodeRef>",
    )
    assert processing_hours(bundle_of(xml)) == (9.0, ["review", "sign_inner"])
    assert only(lint(xml)).element_id == "demo"


def test_due_extension_on_a_field_no_step_asks() -> None:
    asked = broken(
        CLEAN,
        'resultType="electronic"/>',
        'resultType="electronic"><motcua:dueExtension field="ok" workingDays="2"/></motcua:procedure>',
    )
    assert lint(asked) == []
    assert bundle_of(asked).meta.due_extensions[0].working_days == 2
    issue = only(lint(asked.replace('field="ok"', 'field="bulk"')))
    assert issue.severity == "error" and "'bulk'" in issue.message


def test_due_extension_needs_a_positive_bounded_number_of_days() -> None:
    extension = '<motcua:dueExtension field="ok" workingDays="0"/>'
    closed = f'resultType="electronic">{extension}</motcua:procedure>'
    xml = broken(CLEAN, 'resultType="electronic"/>', closed)
    with pytest.raises(ProcedureError):
        bundle_of(xml)
