"""Decisions a foreign diagram leaves to its reader, made explicit for motcua.

Modelling tools label a gateway's branches ("Yes", "No") without conditions, or write conditions in
their own language (JUEL ``${approved}``, FEEL ``= not(approved)`` or ``Vacation Approval =
"Approved"``, XPath ``bpmn:getDataObject('clarified') = 'yes'``). motcua evaluates Python
conditions on the dossier's data, so for each such gateway the assistant proposes:

- the condition in Python (``approved``, ``not approved``, ``vacation_approval == "Approved"``);
- for unconditioned branches, a decision field (named after the gateway) with one value per
  branch: ``decision == 'Yes'``; the last branch (one that loops back, if any) is the default;
- every field a condition reads, asked on the form of the step just before the gateway (the person
  who decides), unless a script or a form already provides it.

A gateway whose deciding step cannot be found is left as it is (the validator's reason stays).
Pure: lxml trees in, findings out.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from .definitions import BPMN_NS, MOTCUA_NS, NSMAP, XmlElement, processes
from .import_repairs import Finding, add_form_fields, field_name
from .refusals import element_label
from .sandbox import check_source

_FEEL_WORDS = frozenset(
    {"some", "every", "satisfies", "in", "for", "return", "if", "then", "else", "and", "or", "not", "between"}
)
_SYSTEM_NAMES = frozenset({"working_hours", "working_days", "now", "True", "False", "None"})
_MANUAL = frozenset({"userTask", "manualTask", "task"})
# Steps a decision passes through unchanged on its way to the gateway.
_PASS_THROUGH = frozenset(
    {
        "exclusiveGateway",
        "inclusiveGateway",
        "scriptTask",
        "serviceTask",
        "businessRuleTask",
        "sendTask",
        "intermediateThrowEvent",
    }
)
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@dataclass
class _Field:
    kind: str  # "string" | "boolean" | "number"
    values: list[str] = field(default_factory=list)


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _local(node: XmlElement) -> str:
    return str(etree.QName(node).localname) if isinstance(node.tag, str) else ""


def python_condition(text: str) -> str | None:
    """The Python condition for a JUEL, FEEL or XPath one as modelling tools write them (None: not
    translatable, e.g. FEEL's ``some … satisfies``)."""
    expr = text.strip()
    wrapped = re.fullmatch(r"[$#]\{(.*)\}", expr, re.DOTALL)
    if wrapped:
        expr = wrapped.group(1).strip()
    if expr.startswith("=") and not expr.startswith("=="):
        expr = expr[1:].strip()
    expr = re.sub(r"bpmn:getDataObject\(\s*'([^']*)'\s*\)", lambda m: field_name(m.group(1)) or "_", expr)
    expr = expr.replace("&&", " and ").replace("||", " or ")
    expr = re.sub(r"!(?!=)", " not ", expr)
    expr = re.sub(r"(?<![=!<>])=(?!=)", "==", expr)
    expr = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", expr))
    spaced = re.fullmatch(r"([A-Za-z][\w ]*?)\s*(==|!=)\s*(.+)", expr)
    if spaced and " " in spaced.group(1).strip():
        words = spaced.group(1).lower().split()
        if len(words) > 4 or _FEEL_WORDS & set(words):
            return None  # a FEEL quantifier or loop, not a name with spaces
        expr = f"{field_name(spaced.group(1))} {spaced.group(2)} {spaced.group(3)}"
    expr = " ".join(expr.split())
    if not expr or check_source(expr, mode="eval"):
        return None
    return expr


def _read_fields(expr: str, found: dict[str, _Field]) -> None:
    """The names a condition reads, with the kind of value each needs (and the strings compared)."""
    tree = ast.parse(expr, mode="eval")
    compared: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name):
            compared.add(id(node.left))
            constant = node.comparators[0]
            if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                entry = found.setdefault(node.left.id, _Field("string"))
                if constant.value not in entry.values:
                    entry.values.append(constant.value)
            elif isinstance(constant, ast.Constant) and isinstance(constant.value, bool):
                found.setdefault(node.left.id, _Field("boolean"))
            else:
                found.setdefault(node.left.id, _Field("number"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in compared and node.id not in _SYSTEM_NAMES:
            found.setdefault(node.id, _Field("boolean"))


def _is_python(text: str) -> bool:
    return not check_source(text, mode="eval")


class _Graph:
    def __init__(self, process: XmlElement) -> None:
        self.nodes = {n.get("id"): n for n in process.iter() if isinstance(n.tag, str) and n.get("id")}
        self.flows = list(process.iter(_q("sequenceFlow")))
        self.outgoing: dict[str, list[XmlElement]] = {}
        self.incoming: dict[str, list[XmlElement]] = {}
        for flow in self.flows:
            self.outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
            self.incoming.setdefault(flow.get("targetRef") or "", []).append(flow)

    def reaches(self, start: str, goal: str) -> bool:
        seen, pending = set(), [start]
        while pending:
            current = pending.pop()
            if current == goal:
                return True
            if current in seen:
                continue
            seen.add(current)
            pending += [f.get("targetRef") or "" for f in self.outgoing.get(current, [])]
        return False

    def before(self, node_id: str) -> set[str]:
        """Every node with a path to ``node_id``."""
        seen: set[str] = set()
        pending = [node_id]
        while pending:
            current = pending.pop()
            for flow in self.incoming.get(current, []):
                source = flow.get("sourceRef") or ""
                if source not in seen:
                    seen.add(source)
                    pending.append(source)
        return seen

    def decider(self, gateway: XmlElement) -> XmlElement | None:
        """The manual step whose person decides at ``gateway``: the one just before it, through
        automatic steps and gateways, as long as there is a single way in."""
        current = gateway.get("id") or ""
        for _ in range(20):
            incoming = self.incoming.get(current, [])
            if len(incoming) != 1:
                return None
            source = self.nodes.get(incoming[0].get("sourceRef"))
            if source is None:
                return None
            if _local(source) in _MANUAL:
                return source
            if _local(source) not in _PASS_THROUGH:
                return None
            current = source.get("id") or ""
        return None


def _provided(process: XmlElement, graph: _Graph, gateway: XmlElement) -> set[str]:
    """Names the diagram provides before ``gateway``: assigned by a script, or asked by the form
    of a step on a way into the gateway (a step after it does not count)."""
    names: set[str] = set()
    for script in process.iter(_q("script")):
        names |= set(re.findall(r"^\s*([A-Za-z_]\w*)\s*=(?!=)", script.text or "", re.MULTILINE))
    for node_id in graph.before(gateway.get("id") or ""):
        node = graph.nodes.get(node_id)
        form = node.find("bpmn:extensionElements/motcua:form", NSMAP) if node is not None else None
        if form is None:
            continue
        try:
            names |= set(json.loads(form.text or "{}").get("properties", {}))
        except (ValueError, AttributeError):
            continue
    return names


def _branch_label(flow: XmlElement, graph: _Graph) -> str:
    target = graph.nodes.get(flow.get("targetRef"))
    text = flow.get("name") or (target.get("name") if target is not None else None) or flow.get("id") or ""
    return " ".join(text.split())


def _set_condition(flow: XmlElement, expr: str, prefix: str | None) -> None:
    condition = flow.find("bpmn:conditionExpression", NSMAP)
    if condition is None:
        condition = etree.SubElement(flow, _q("conditionExpression"))
        condition.set(_XSI_TYPE, f"{prefix}:tFormalExpression" if prefix else "tFormalExpression")
    condition.attrib.pop("language", None)
    condition.text = expr


DECIDER_HOURS = 1.0
_DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
_DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
_DD_NS = "http://www.omg.org/spec/DD/20100524/DI"


def _insert_decider(gateway: XmlElement, graph: _Graph) -> XmlElement | None:
    """A step where a person chooses the branch, just before an exclusive gateway (or a gateway with
    one way in: before a joining inclusive gateway it would change when the join fires)."""
    gateway_id = gateway.get("id") or ""
    incoming = graph.incoming.get(gateway_id, [])
    if not incoming or (_local(gateway) != "exclusiveGateway" and len(incoming) > 1):
        return None
    taken = set(graph.nodes) | {f.get("id") for f in graph.flows}
    step_id = _fresh(f"{gateway_id}_decide", taken)
    link_id = _fresh(f"{gateway_id}_decided", taken)
    title = " ".join((gateway.get("name") or "").split()) or "chọn nhánh"
    container = gateway.getparent()
    step = etree.Element(_q("userTask"), id=step_id, name=f"Quyết định: {title}")
    extensions = etree.SubElement(step, _q("extensionElements"))
    etree.SubElement(
        extensions,
        f"{{{MOTCUA_NS}}}step",
        nsmap={"motcua": MOTCUA_NS},
        role="specialist",
        hours=f"{DECIDER_HOURS:g}",
    )
    container.insert(container.index(gateway), step)
    link = etree.Element(_q("sequenceFlow"), id=link_id, sourceRef=step_id, targetRef=gateway_id)
    container.insert(container.index(incoming[0]), link)
    for flow in incoming:
        flow.set("targetRef", step_id)
    for ref in gateway.findall("bpmn:incoming", NSMAP):
        gateway.remove(ref)
    graph.nodes[step_id] = step
    graph.flows.append(link)
    graph.incoming[step_id] = incoming
    graph.incoming[gateway_id] = [link]
    graph.outgoing[step_id] = [link]
    _draw_decider(gateway.getroottree().getroot(), gateway_id, step_id, link_id)
    return step


def _fresh(base: str, taken: set[str | None]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _draw_decider(root: XmlElement, gateway_id: str, step_id: str, link_id: str) -> None:
    for shape in root.iter(f"{{{_DI_NS}}}BPMNShape"):
        if shape.get("bpmnElement") != gateway_id:
            continue
        bounds = shape.find(f"{{{_DC_NS}}}Bounds")
        try:
            x, y = float(bounds.get("x")), float(bounds.get("y"))
            h = float(bounds.get("height"))
        except (AttributeError, TypeError, ValueError):
            return
        plane = shape.getparent()
        sx, sy = x - 130, y + h / 2 - 40
        new = etree.SubElement(plane, f"{{{_DI_NS}}}BPMNShape", id=f"{step_id}_di", bpmnElement=step_id)
        etree.SubElement(new, f"{{{_DC_NS}}}Bounds", x=f"{sx:g}", y=f"{sy:g}", width="100", height="80")
        edge = etree.SubElement(plane, f"{{{_DI_NS}}}BPMNEdge", id=f"{link_id}_di", bpmnElement=link_id)
        etree.SubElement(edge, f"{{{_DD_NS}}}waypoint", x=f"{sx + 100:g}", y=f"{y + h / 2:g}")
        etree.SubElement(edge, f"{{{_DD_NS}}}waypoint", x=f"{x:g}", y=f"{y + h / 2:g}")
        return


def _property(spec: _Field, title: str) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": spec.kind, "title": title}
    if spec.kind == "string" and spec.values:
        prop["enum"] = list(spec.values)
    return prop


def propose_decisions(root: XmlElement) -> list[Finding]:
    """Python conditions and decision fields for the gateways of every process (in place): the
    validator and SpiffWorkflow read the other pools too."""
    prefix = next((p for p, ns in root.nsmap.items() if ns == BPMN_NS and p), None)
    findings: list[Finding] = []
    for process in processes(root):
        graph = _Graph(process)
        for gateway in list(process.iter(_q("exclusiveGateway"), _q("inclusiveGateway"))):
            findings += _gateway(gateway, graph, _provided(process, graph, gateway), prefix)
            _offer_values(process, gateway, graph)
    return findings


def _offer_values(process: XmlElement, gateway: XmlElement, graph: _Graph) -> None:
    """A form field some step already asks (e.g. a decision table's output turned into a person's
    choice) that a condition compares with strings offers exactly those strings, way forward first."""
    fields: dict[str, _Field] = {}
    looping: set[str] = set()
    for flow in graph.outgoing.get(gateway.get("id") or "", []):
        text = (flow.findtext("bpmn:conditionExpression", default="", namespaces=NSMAP) or "").strip()
        if not text or not _is_python(text):
            continue
        mine: dict[str, _Field] = {}
        _read_fields(text, mine)
        if graph.reaches(flow.get("targetRef") or "", gateway.get("id") or ""):
            looping |= {v for spec in mine.values() for v in spec.values}
        for name, spec in mine.items():
            entry = fields.setdefault(name, _Field(spec.kind))
            entry.values += [v for v in spec.values if v not in entry.values]
    for form in process.iter(f"{{{MOTCUA_NS}}}form"):
        try:
            schema = json.loads(form.text or "{}")
        except ValueError:
            continue
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if not isinstance(properties, dict):
            continue
        changed = False
        for name, spec in fields.items():
            prop = properties.get(name)
            if isinstance(prop, dict) and prop.get("type") == "string" and spec.values and "enum" not in prop:
                prop["enum"] = sorted(spec.values, key=lambda v: v in looping)
                changed = True
        if changed:
            form.text = json.dumps(schema, ensure_ascii=False)


def _gateway(gateway: XmlElement, graph: _Graph, provided: set[str], prefix: str | None) -> list[Finding]:
    outgoing = graph.outgoing.get(gateway.get("id") or "", [])
    if len(outgoing) < 2:
        return []
    label = element_label(gateway.get("id"), gateway.get("name"))
    fields: dict[str, _Field] = {}
    conditions: dict[str, str] = {}  # flow id -> new Python condition
    for flow in outgoing:
        condition = flow.find("bpmn:conditionExpression", NSMAP)
        text = (condition.text or "").strip() if condition is not None else ""
        if not text:
            continue
        expr = text if _is_python(text) else python_condition(text)
        if expr is None:
            return []  # one branch we cannot read: leave the gateway to the designer
        if expr != text:
            conditions[flow.get("id") or ""] = expr
        _read_fields(expr, fields)
    bare = [
        f
        for f in outgoing
        if f.find("bpmn:conditionExpression", NSMAP) is None and f.get("id") != gateway.get("default")
    ]
    decision = None
    default_flow = next((f for f in outgoing if f.get("id") == gateway.get("default")), None)
    if len(bare) >= 2 or (bare and default_flow is not None):
        decision = field_name(gateway.get("name") or "")
        decision = decision or f"quyet_dinh_{field_name(gateway.get('id') or '') or 'cong'}"
        # Branches that loop back last: the first value is the way forward.
        bare.sort(key=lambda f: graph.reaches(f.get("targetRef") or "", gateway.get("id") or ""))
        # The default branch is a choice too (it is taken when no condition holds).
        choices = [*bare, default_flow] if default_flow is not None else list(bare)
        values: list[str] = []
        for flow in choices:
            value = _branch_label(flow, graph)
            values.append(value if value not in values else f"{value} ({flow.get('id')})")
        fields[decision] = _Field("string", values)
        for flow, value in zip(bare, values, strict=False):
            if default_flow is None and flow is bare[-1]:
                continue
            conditions[flow.get("id") or ""] = f"{decision} == {value!r}"
    needed = {name: spec for name, spec in fields.items() if name not in provided}
    if not conditions and not needed:
        return []
    step = graph.decider(gateway) if needed else None
    findings: list[Finding] = []
    if needed and step is None:
        step = _insert_decider(gateway, graph)
        if step is None:
            return [
                Finding(
                    gateway.get("id"),
                    f"Cổng {label}: không tìm thấy bước do người xử lý ngay trước cổng để hỏi quyết định; "
                    "hãy viết điều kiện Python cho các luồng ra",
                    "note",
                )
            ]
        findings.append(
            Finding(
                step.get("id"),
                f"Cổng {label}: không có bước do người xử lý ngay trước cổng; thêm bước "
                f"{element_label(step.get('id'), step.get('name'))} (chuyên viên, {DECIDER_HOURS:g} giờ) "
                "để người xử lý chọn nhánh",
                "changed",
                "motcua:step",
                f"specialist {DECIDER_HOURS:g}",
            )
        )
    by_id = {f.get("id"): f for f in outgoing}
    for flow_id, expr in conditions.items():
        flow = by_id[flow_id]
        before = flow.find("bpmn:conditionExpression", NSMAP)
        was = (before.text or "").strip() if before is not None else ""
        _set_condition(flow, expr, prefix)
        said = f"viết lại điều kiện '{was}' thành" if was else "đặt điều kiện"
        findings.append(
            Finding(
                flow_id,
                f"Luồng {element_label(flow_id, flow.get('name'))} ra từ cổng {label}: {said} {expr}",
                "changed",
                "conditionExpression",
                expr,
            )
        )
    if decision is not None and gateway.get("default") is None:
        gateway.set("default", bare[-1].get("id"))
        findings.append(
            Finding(
                gateway.get("id"),
                f"Cổng {label}: luồng {element_label(bare[-1].get('id'), bare[-1].get('name'))} "
                "là luồng mặc định",
                "changed",
                "default",
                bare[-1].get("id"),
            )
        )
    if step is not None:
        title = " ".join((gateway.get("name") or "Quyết định").split())
        add_form_fields(step, {name: _property(spec, title) for name, spec in needed.items()})
        asked = ", ".join(
            f"{name} ({' / '.join(spec.values)})" if spec.values else f"{name} ({spec.kind})"
            for name, spec in needed.items()
        )
        findings.append(
            Finding(
                step.get("id"),
                f"Bước {element_label(step.get('id'), step.get('name'))} hỏi thêm {asked} "
                f"cho cổng {label} (biểu mẫu motcua:form)",
                "changed",
                "motcua:form",
                ", ".join(needed),
            )
        )
    return findings
