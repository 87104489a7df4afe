"""Static checks of a procedure bundle before it is deployed.

A modelling error found here costs a modeller a minute; the same error found at run time strands a
citizen's dossier. Every issue is reported at once (not just the first) so one round of fixes is
enough. Errors block deployment; warnings are shown but allowed.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import jsonschema

from .definitions import (
    BPMN_NS,
    NSMAP,
    ROLES,
    ElementMeta,
    ProcedureBundle,
    XmlElement,
    flow_nodes,
    processes,
)
from .domain.vocab import DESK_STEP_KINDS
from .refusals import element_label, schema_reason
from .spiff import TimerSpecError, bare_timer_value, plan_timer

#: Step kinds at the desk: they happen outside the statutory processing clock.
DESK_KINDS = DESK_STEP_KINDS
_EMBEDDED = frozenset({"subProcess", "transaction", "adHocSubProcess"})


@dataclass(frozen=True)
class LintIssue:
    """One finding; ``element_id`` points the modeller at the shape to fix (None: whole bundle)."""

    element_id: str | None
    message: str
    severity: Literal["error", "warning"]


def lint_bundle(
    bundle: ProcedureBundle, *, hours_per_day: float = 8.0, now: datetime | None = None
) -> list[LintIssue]:
    """All issues of a bundle, errors and warnings, in a stable order (``now``: for timer horizons)."""
    issues: list[LintIssue] = []
    issues += _check_size(bundle)
    issues += _check_unique_ids(bundle)
    issues += _check_events(bundle)
    issues += _check_steps(bundle)
    issues += _check_statuses(bundle)
    issues += _check_forms(bundle)
    issues += _check_due_extensions(bundle)
    issues += _check_timers(bundle, now)
    issues += _check_conditions(bundle)
    issues += _check_conditional_events(bundle)
    issues += _check_gateways(bundle)
    issues += _check_budget(bundle, hours_per_day)
    issues += _check_data_stores(bundle)
    issues += _check_legal_time(bundle)
    return issues


def _check_data_stores(bundle: ProcedureBundle) -> list[LintIssue]:
    """A data store needs an implementation registered with the engine; motcua offers none (the
    dossier's data is the case data), so a diagram using one is refused here, not at run time."""
    issues = []
    for root in _roots(bundle):
        names = {s.get("id"): s.get("name") or s.get("id") for s in root.iter(f"{{{BPMN_NS}}}dataStore")}
        for ref in root.iter(f"{{{BPMN_NS}}}dataStoreReference"):
            store = ref.get("dataStoreRef")
            label = names.get(store, store) or ref.get("id")
            issues.append(
                _error(
                    ref.get("id"),
                    f"Kho dữ liệu '{label}' (dataStoreReference '{ref.get('id')}') chưa được hỗ trợ: "
                    "hãy dùng dữ liệu hồ sơ (biến của biểu mẫu) hoặc đối tượng dữ liệu (dataObject)",
                )
            )
    return issues


def _roots(bundle: ProcedureBundle) -> list[XmlElement]:
    roots = [bundle.main]
    for root in bundle.called.values():
        if all(root is not seen for seen in roots):
            roots.append(root)
    return roots


def _processes(bundle: ProcedureBundle) -> Iterator[XmlElement]:
    """The main process first, then the called ones (only those actually called)."""
    main_id = bundle.meta.id
    for process in processes(bundle.main):
        if process.get("id") == main_id:
            yield process
    for pid, root in bundle.called.items():
        for process in processes(root):
            if process.get("id") == pid:
                yield process


def _error(element_id: str | None, message: str) -> LintIssue:
    return LintIssue(element_id, message, "error")


def _warning(element_id: str | None, message: str) -> LintIssue:
    return LintIssue(element_id, message, "warning")


#: Flow nodes in one bundle. SpiffWorkflow parses and predicts a process recursively (about two
#: Python frames per node in a chain), so much longer chains die of RecursionError; real procedures
#: have a few dozen steps, and a larger model should be split into called processes.
MAX_FLOW_NODES = 400


def _check_size(bundle: ProcedureBundle) -> list[LintIssue]:
    count = sum(1 for root in _roots(bundle) for process in processes(root) for _ in flow_nodes(process))
    if count <= MAX_FLOW_NODES:
        return []
    return [
        _error(
            bundle.meta.id,
            f"Bộ quy trình có {count} phần tử (tối đa {MAX_FLOW_NODES}): hãy tách thành các quy trình con "
            "được gọi (callActivity) ở tệp dùng chung",
        )
    ]


def _check_unique_ids(bundle: ProcedureBundle) -> list[LintIssue]:
    # The engine finds metadata, tasks and history by element id alone, across all processes of
    # the bundle. (Ids outside processes - definitions, diagrams - are never looked up, nor those
    # of other tools' extension elements.)
    counts = Counter(
        node.get("id")
        for root in _roots(bundle)
        for process in processes(root)
        for node in process.iter(f"{{{BPMN_NS}}}*")
        if node.get("id") is not None
    )
    return [
        _error(node_id, f"Mã phần tử '{node_id}' bị trùng ({n} lần) trong bộ quy trình")
        for node_id, n in sorted(counts.items())
        if n > 1
    ]


def _children(process: XmlElement, tag: str) -> list[XmlElement]:
    return list(process.findall(f"bpmn:{tag}", NSMAP))


def _check_events(bundle: ProcedureBundle) -> list[LintIssue]:
    issues = []
    for process in _processes(bundle):
        pid = process.get("id")
        starts = _children(process, "startEvent")
        if len(starts) != 1:
            issues.append(
                _error(pid, f"Quy trình '{pid}' phải có đúng một sự kiện bắt đầu (có {len(starts)})")
            )
        if not _children(process, "endEvent"):
            issues.append(_error(pid, f"Quy trình '{pid}' không có sự kiện kết thúc"))
    return issues


def _named(meta: ElementMeta) -> str:
    return element_label(meta.id, meta.name)


def _check_steps(bundle: ProcedureBundle) -> list[LintIssue]:
    issues = []
    for meta in bundle.elements.values():
        if meta.type == "userTask":
            if meta.role is None:
                issues.append(_error(meta.id, f"Bước {_named(meta)} thiếu thông tin bước (motcua:step)"))
                continue
            if meta.hours is None or meta.hours <= 0:
                issues.append(_error(meta.id, f"Bước {_named(meta)} phải có số giờ phân bổ lớn hơn 0"))
            if meta.lane is None:
                issues.append(_warning(meta.id, f"Bước {_named(meta)} không thuộc làn (lane) nào"))
        if meta.role is not None and meta.role not in ROLES:
            issues.append(_error(meta.id, f"Bước {_named(meta)} có vai trò không xác định '{meta.role}'"))
        if meta.hours is not None and meta.hours < 0:
            issues.append(_error(meta.id, f"Bước {_named(meta)} có số giờ phân bổ âm"))
    return issues


def _check_statuses(bundle: ProcedureBundle) -> list[LintIssue]:
    issues = [
        _error(m.id, f"Bước {_named(m)} có mã trạng thái {m.status} ngoài khoảng 1..10")
        for m in bundle.elements.values()
        if m.status is not None and not 1 <= m.status <= 10
    ]
    if not bundle.meta.code and "code" not in bundle.meta.configurable:
        issues.append(_warning(bundle.meta.id, "Thiếu mã thủ tục quốc gia (motcua:procedure code)"))
    if not any(m.status == 9 for m in bundle.elements.values()):
        # Status 9 stops the statutory clock; without it every case would end up late.
        issues.append(_warning(bundle.meta.id, "Không có bước nào đặt trạng thái 9 (đã xử lý xong)"))
    return issues


def _check_forms(bundle: ProcedureBundle) -> list[LintIssue]:
    issues = []
    for meta in bundle.elements.values():
        if meta.form is None:
            continue
        try:
            jsonschema.Draft202012Validator.check_schema(meta.form)
        except jsonschema.SchemaError as exc:
            reason = schema_reason(exc.path, exc.validator)
            issues.append(_error(meta.id, f"Biểu mẫu của bước {_named(meta)} không hợp lệ: {reason}"))
            continue
        if meta.form.get("type") != "object":
            issues.append(_error(meta.id, f'Biểu mẫu của bước \'{meta.id}\' phải có "type": "object"'))
    return issues


def _check_due_extensions(bundle: ProcedureBundle) -> list[LintIssue]:
    """An extension must hang on a yes/no field some step asks, or it could never be granted."""
    asked = {
        name
        for meta in bundle.elements.values()
        if meta.form
        for name, prop in (meta.form.get("properties") or {}).items()
        if isinstance(prop, dict) and prop.get("type") == "boolean"
    }
    return [
        _error(
            bundle.meta.id,
            f"Gia hạn thời hạn theo trường '{ext.field}' nhưng không bước nào hỏi trường này (kiểu có/không)",
        )
        for ext in bundle.meta.due_extensions
        if ext.field not in asked
    ]


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True


def _check_timers(bundle: ProcedureBundle, now: datetime | None = None) -> list[LintIssue]:
    issues = []
    for process in _processes(bundle):
        for timer in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
            owner = timer.getparent().get("id")
            label = element_label(owner, timer.getparent().get("name"))
            specs = [c for c in timer if c.tag in {f"{{{BPMN_NS}}}{t}" for t in _TIMER_TAGS}]
            if not specs:
                issues.append(
                    _error(owner, f"Hẹn giờ {label} thiếu biểu thức (timeDate/timeDuration/timeCycle)")
                )
            for spec in specs:
                expr = (spec.text or "").strip()
                kind = spec.tag.rsplit("}", 1)[-1]
                if not expr:
                    issues.append(_error(owner, f"Hẹn giờ {label} có biểu thức rỗng"))
                    continue
                parent = timer.getparent()
                repeats = (
                    parent.tag == f"{{{BPMN_NS}}}boundaryEvent" and parent.get("cancelActivity") == "false"
                )
                problem = _timer_problem(kind, expr, now, repeats)
                if problem is not None:
                    issues.append(_error(owner, f"Hẹn giờ {label}: {problem}"))
    return issues


#: Durations and cycles are checked from this moment when no clock is given (their length is what counts).
_LINT_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)


def _timer_problem(kind: str, expr: str, now: datetime | None, repeats: bool = False) -> str | None:
    """What is wrong with a timer's text: a bare ISO value is planned as at run time, a quoted
    constant too; any other expression must at least parse (its value is checked when it runs)."""
    value: object = bare_timer_value(kind, expr)
    if value is None and _is_expression(expr):
        try:
            value = ast.literal_eval(expr)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None  # computed at run time, where plan_timer checks it
        if not isinstance(value, str):
            return f"biểu thức «{expr}» phải cho ra chuỗi ISO 8601"
    if value is None:
        return f"biểu thức «{expr}» không hợp lệ (không phải giá trị ISO 8601 hay biểu thức Python)"
    if kind == "timeDate" and now is None and not str(value).upper().startswith("P"):
        try:
            plan_timer(kind, value, _LINT_REFERENCE)  # the form; the 10-year horizon needs a clock
        except TimerSpecError as exc:
            if "10 năm" not in exc.message:
                return exc.message
        return None
    try:
        plan_timer(kind, value, now or _LINT_REFERENCE)
    except TimerSpecError as exc:
        return exc.message
    return None


_TIMER_TAGS = ("timeDate", "timeDuration", "timeCycle")


def _check_conditions(bundle: ProcedureBundle) -> list[LintIssue]:
    issues = []
    for process in _processes(bundle):
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            condition = flow.find("bpmn:conditionExpression", NSMAP)
            if condition is None:
                continue
            flow_id = flow.get("id")
            label = element_label(flow_id, flow.get("name"))
            expr = (condition.text or "").strip()
            if not expr:
                issues.append(_error(flow_id, f"Điều kiện của luồng {label} rỗng"))
            elif not _is_expression(expr):
                issues.append(
                    _error(
                        flow_id, f"Điều kiện của luồng {label} không phải biểu thức Python hợp lệ: «{expr}»"
                    )
                )
    return issues


def _check_conditional_events(bundle: ProcedureBundle) -> list[LintIssue]:
    """A conditional event is evaluated when the case reaches it: without a condition it would fail
    there, so it is refused here."""
    issues = []
    for process in _processes(bundle):
        for definition in process.iter(f"{{{BPMN_NS}}}conditionalEventDefinition"):
            owner = definition.getparent()
            text = (definition.findtext("bpmn:condition", default="", namespaces=NSMAP) or "").strip()
            label = element_label(owner.get("id"), owner.get("name"))
            if not text:
                issues.append(_error(owner.get("id"), f"Sự kiện điều kiện {label} thiếu biểu thức điều kiện"))
            elif not _is_expression(text):
                issues.append(
                    _error(
                        owner.get("id"),
                        f"Điều kiện của sự kiện {label} không phải biểu thức Python hợp lệ: «{text}»",
                    )
                )
    return issues


def _check_gateways(bundle: ProcedureBundle) -> list[LintIssue]:
    issues = []
    for process in _processes(bundle):
        graph = _ProcessGraph(process)
        by_source: dict[str, list[XmlElement]] = {}
        by_target: dict[str, list[XmlElement]] = {}
        for flow in process.findall("bpmn:sequenceFlow", NSMAP):
            by_source.setdefault(flow.get("sourceRef"), []).append(flow)
            by_target.setdefault(flow.get("targetRef"), []).append(flow)
        for node_id, node in graph.nodes.items():
            tag = node.tag.rsplit("}", 1)[-1]
            outgoing = by_source.get(node_id, [])
            incoming = by_target.get(node_id, [])
            if tag in {"exclusiveGateway", "inclusiveGateway"} and len(outgoing) > 1:
                issues += [
                    _error(
                        flow.get("id"),
                        f"Luồng {element_label(flow.get('id'), flow.get('name'))} ra từ cổng "
                        f"{element_label(node_id, node.get('name'))} thiếu điều kiện "
                        "và không phải luồng mặc định",
                    )
                    for flow in outgoing
                    if flow.get("id") != node.get("default")
                    and flow.find("bpmn:conditionExpression", NSMAP) is None
                ]
            if tag != "parallelGateway" or len(incoming) < 2:
                continue
            # A parallel gateway with several inputs is a join: it waits for all of them, so a loop
            # coming back into it waits for a token that never comes.
            if any((f.get("sourceRef"), node_id) in graph.back_edges for f in incoming):
                issues.append(
                    _error(
                        node_id,
                        f"Vòng lặp quay về cổng song song {element_label(node_id, node.get('name'))} "
                        "sẽ chờ mãi; "
                        "hãy hợp luồng bằng cổng loại trừ (exclusiveGateway) trước",
                    )
                )
            elif len(outgoing) > 1:
                issues.append(
                    _warning(
                        node_id,
                        f"Cổng song song {element_label(node_id, node.get('name'))} vừa hợp vừa tách luồng; "
                        "nên tách thành hai cổng",
                    )
                )
    return issues


# ------------------------------------------------------------------------------ time budget


def processing_hours(bundle: ProcedureBundle) -> tuple[float, list[str]]:
    """Allocated hours on the longest path of the processing part, and that path's counted steps.

    The processing part is every step not done by the citizen and not at the desk (receipt,
    return): those run outside the statutory clock. Loops are ignored (a loop is a repetition,
    not the plan), parallel branches count as alternatives (they run at the same time), and a call
    activity or embedded sub-process without its own allocation counts as its inner longest path.
    """
    return _ProcessGraph.longest(bundle, bundle.meta.id, frozenset())


def _counted_hours(meta: ElementMeta | None) -> float:
    if meta is None or meta.hours is None or meta.role == "citizen" or meta.kind in DESK_KINDS:
        return 0.0
    return meta.hours


class _ProcessGraph:
    """Flow graph of one process, with back edges (loops) removed by a depth-first search."""

    def __init__(self, process: XmlElement) -> None:
        nodes = [n for n in flow_nodes(process) if n.getparent() is process]
        self.nodes = {n.get("id"): n for n in nodes}
        self.succ: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for flow in process.findall("bpmn:sequenceFlow", NSMAP):
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in self.succ and target in self.nodes:
                self.succ[source].append(target)
        for node_id, node in self.nodes.items():
            attached = node.get("attachedToRef")
            if attached in self.succ:
                self.succ[attached].append(node_id)
        self.back_edges: set[tuple[str, str]] = set()
        self._drop_back_edges()

    def _drop_back_edges(self) -> None:
        state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done
        incoming = {t for targets in self.succ.values() for t in targets}
        roots = [n for n in self.nodes if n not in incoming] + list(self.nodes)
        for root in roots:
            if root in state:
                continue
            state[root] = 1
            stack: list[tuple[str, Iterator[str]]] = [(root, iter(list(self.succ[root])))]
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                elif state.get(nxt) == 1:
                    self.succ[node].remove(nxt)
                    self.back_edges.add((node, nxt))
                elif nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, iter(list(self.succ[nxt]))))

    @classmethod
    def longest(
        cls, bundle: ProcedureBundle, process_id: str, calling: frozenset[str]
    ) -> tuple[float, list[str]]:
        process = next((p for p in _processes(bundle) if p.get("id") == process_id), None)
        if process is None or process_id in calling:
            return 0.0, []  # unresolved or recursive calls are reported elsewhere, not counted twice
        return cls.longest_in(bundle, process, calling | {process_id})

    @classmethod
    def longest_in(
        cls, bundle: ProcedureBundle, container: XmlElement, calling: frozenset[str]
    ) -> tuple[float, list[str]]:
        graph = cls(container)
        best: dict[str, tuple[float, list[str]]] = {}

        def weight(node_id: str) -> tuple[float, list[str]]:
            meta = bundle.elements.get(node_id)
            node = graph.nodes[node_id]
            tag = node.tag.rsplit("}", 1)[-1]
            if meta is None or meta.hours is None:
                if tag == "callActivity":
                    return cls.longest(bundle, node.get("calledElement") or "", calling)
                if tag in _EMBEDDED:
                    return cls.longest_in(bundle, node, calling)
            hours = _counted_hours(meta)
            return hours, [node_id] if hours else []

        # Reverse topological order over the DAG, computed iteratively to survive long chains.
        order: list[str] = []
        visited: set[str] = set()
        for start in graph.nodes:
            if start in visited:
                continue
            visited.add(start)
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(graph.succ[start]))]
            while stack:
                node_id, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    order.append(node_id)
                    stack.pop()
                elif nxt not in visited:
                    visited.add(nxt)
                    stack.append((nxt, iter(graph.succ[nxt])))
        for node_id in order:
            own_hours, own_path = weight(node_id)
            tail = max((best[s] for s in graph.succ[node_id]), key=lambda hp: hp[0], default=(0.0, []))
            best[node_id] = (own_hours + tail[0], own_path + tail[1])
        return max(best.values(), key=lambda hp: hp[0], default=(0.0, []))


def _check_budget(bundle: ProcedureBundle, hours_per_day: float) -> list[LintIssue]:
    used, path = processing_hours(bundle)
    legal = bundle.meta.legal_hours(hours_per_day)
    if used > legal + 1e-9:
        return [
            _error(
                bundle.meta.id,
                f"Tổng thời gian phân bổ trên đường xử lý dài nhất ({used:g} giờ: {', '.join(path)}) "
                f"vượt thời hạn giải quyết ({legal:g} giờ làm việc)",
            )
        ]
    return []


def _check_legal_time(bundle: ProcedureBundle) -> list[LintIssue]:
    """The legal time must read as the law writes it (see bpmn/README.md, "Legal time")."""
    meta = bundle.meta
    issues: list[LintIssue] = []
    if meta.legal_time <= 0:
        issues.append(_error(meta.id, "Thời hạn giải quyết (legalTime) phải lớn hơn 0"))
    if meta.legal_unit == "same_working_day":
        if meta.legal_time != int(meta.legal_time):
            issues.append(
                _error(
                    meta.id,
                    "Thời hạn “trong ngày làm việc” (same_working_day) tính bằng số nguyên ngày "
                    "(1 = trả trong ngày tiếp nhận)",
                )
            )
        if meta.receipt_cutoff is None:
            issues.append(
                _warning(
                    meta.id,
                    "Thủ tục trả trong ngày nên có giờ chốt tiếp nhận (receiptCutoff, ví dụ 15:00): "
                    "hồ sơ nhận sau giờ này trả trong ngày làm việc tiếp theo",
                )
            )
    return issues
