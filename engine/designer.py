"""The designer's checks on an edited procedure, and what changed between two versions.

Pure: takes BPMN bytes (the edited main file and the library's shared files) and returns values.
Every problem is collected in one report, each pointing at the element to fix, so the browser can
mark the shapes in the diagram; nothing here stores anything (the engine deploys only a clean report).

Layers, in the order a file meets them:

1. the hardened XML parser (:mod:`engine.xmlsafe`: DTD, entities, size) and our metadata reader;
2. our lint (:func:`engine.lint.lint_bundle`);
3. the sandbox's static check of every condition, script task and timer expression;
4. structural rules borrowed from bpmnlint's recommended set (disconnected nodes, implicit splits,
   implicit joins, superfluous gateways, missing labels);
5. SpiffWorkflow's own parser (what would fail at deploy time).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .definitions import (
    BPMN_NS,
    NSMAP,
    ProcedureBundle,
    XmlElement,
    build_bundle,
    flow_nodes,
    processes,
)
from .errors import MotcuaError, ProcedureError, UnsafeXmlError
from .lint import lint_bundle
from .refusals import element_label
from .sandbox import check_source
from .spiff import bare_timer_value, compile_specs
from .xmlsafe import MAX_BPMN_BYTES, parse_xml

Severity = Literal["error", "warning"]
Source = Literal["xml", "definition", "lint", "sandbox", "structure", "spiff"]

_TIMER_TAGS = ("timeDate", "timeDuration", "timeCycle")
_GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"})
_LABELLED = frozenset({"userTask", "task", "manualTask", "serviceTask", "scriptTask", "callActivity"})
# An element id quoted in a ProcedureError message ("Bước 'verify_register' thiếu ...").
_QUOTED_ID = re.compile(r"'([A-Za-z_][\w.-]*)'")
# ... or named by name and id ("Bước 'Đối chiếu sổ gốc' (verify_register) thiếu ...").
_NAMED_ID = re.compile(r"'[^']*' \(([A-Za-z_][\w.-]*)\)")


@dataclass(frozen=True)
class Issue:
    """One finding; ``element_id`` is the shape to highlight (None: the file or the procedure)."""

    element_id: str | None
    message: str
    severity: Severity
    source: Source


@dataclass
class ValidationReport:
    """Everything wrong with an upload, errors and warnings; deployable when there are no errors."""

    procedure_id: str | None
    issues: list[Issue] = field(default_factory=list)
    bundle: ProcedureBundle | None = None

    @property
    def ok(self) -> bool:
        """True when nothing blocks deployment (warnings are allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[Issue]:
        """The blocking issues."""
        return [i for i in self.issues if i.severity == "error"]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the designer page."""
        return {
            "procedure_id": self.procedure_id,
            "ok": self.ok,
            "issues": [i.__dict__ for i in self.issues],
        }


def library_shared(library_dir: Path) -> dict[str, bytes]:
    """The library's shared files (called processes), as a deployment reads them."""
    shared_dir = library_dir / "shared"
    return {f"shared/{path.name}": path.read_bytes() for path in sorted(shared_dir.glob("*.bpmn"))}


def validate_upload(
    main_name: str, main: bytes, shared: Mapping[str, bytes], *, max_bytes: int = MAX_BPMN_BYTES
) -> ValidationReport:
    """Check an edited procedure file against every rule a deployment meets; bad input is reported."""
    try:
        parse_xml(main, max_bytes=max_bytes, source=main_name)
        bundle = build_bundle(main, main_name, shared)
    except UnsafeXmlError as exc:
        return ValidationReport(None, [Issue(None, exc.message, "error", "xml")])
    except ProcedureError as exc:
        # Everything else the metadata lacks, in the same round (the first error stops the reader).
        from .importer import missing_metadata

        element_id = exc.details.get("element_id")
        if not isinstance(element_id, str):
            element_id = _quoted_id(exc.message)
        issues = [Issue(element_id, exc.message, "error", "definition")]
        issues += [
            Issue(f.element_id, f"{f.message} (thuộc tính {f.attribute})", "error", "definition")
            for f in missing_metadata(main_name, main)
            if f.attribute is not None and f.attribute != "motcua:procedure"
        ]
        return ValidationReport(None, issues)
    report = ValidationReport(bundle.meta.id, bundle=bundle)
    report.issues += [Issue(i.element_id, i.message, i.severity, "lint") for i in lint_bundle(bundle)]
    report.issues += sandbox_issues(bundle)
    report.issues += structure_issues(bundle)
    if report.ok:
        # SpiffWorkflow runs last: its messages are less precise than ours for the same mistakes.
        report.issues += spiff_issues(bundle, main_name)
    return report


def _quoted_id(message: str) -> str | None:
    match = _NAMED_ID.search(message) or _QUOTED_ID.search(message)
    return match.group(1) if match else None


def _bundle_processes(bundle: ProcedureBundle) -> Iterator[XmlElement]:
    yield from processes(bundle.main)
    seen = {id(bundle.main)}
    for root in bundle.called.values():
        if id(root) not in seen:
            seen.add(id(root))
            yield from processes(root)


def _local(node: XmlElement) -> str:
    tag = node.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# ------------------------------------------------------------------------------------ sandbox


def _sandbox(node: XmlElement, what: str, source: str, mode: Literal["eval", "exec"]) -> list[Issue]:
    element_id = node.get("id")
    label = element_label(element_id, node.get("name"))
    return [
        Issue(element_id, f"{what} {label}: {problem}", "error", "sandbox")
        for problem in check_source(source, mode=mode)
    ]


def sandbox_issues(bundle: ProcedureBundle) -> list[Issue]:
    """The sandbox's static verdict on every condition, script task and timer expression."""
    issues: list[Issue] = []
    for process in _bundle_processes(bundle):
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            condition = flow.find("bpmn:conditionExpression", NSMAP)
            text = (condition.text or "").strip() if condition is not None else ""
            if text:
                issues += _sandbox(flow, "Điều kiện của luồng", text, "eval")
        for task in process.iter(f"{{{BPMN_NS}}}scriptTask"):
            script = task.find("bpmn:script", NSMAP)
            text = (script.text or "") if script is not None else ""
            if text.strip():
                issues += _sandbox(task, "Kịch bản của bước", text, "exec")
        for timer in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
            owner = timer.getparent()
            for tag in _TIMER_TAGS:
                spec = timer.find(f"bpmn:{tag}", NSMAP)
                text = (spec.text or "").strip() if spec is not None else ""
                if text and bare_timer_value(tag, text) is None:
                    issues += _sandbox(owner, "Biểu thức hẹn giờ của", text, "eval")
    return issues


# ------------------------------------------------------------------------------------ structure


def structure_issues(bundle: ProcedureBundle) -> list[Issue]:
    """bpmnlint-like rules (recommended set) that fit our engine, per process of the bundle."""
    issues: list[Issue] = []
    for process in _bundle_processes(bundle):
        flows = list(process.iter(f"{{{BPMN_NS}}}sequenceFlow"))
        incoming: dict[str, list[XmlElement]] = {}
        outgoing: dict[str, list[XmlElement]] = {}
        for flow in flows:
            outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
            incoming.setdefault(flow.get("targetRef") or "", []).append(flow)
        for node in flow_nodes(process):
            issues += _node_rules(
                node, incoming.get(node.get("id") or "", []), outgoing.get(node.get("id") or "", [])
            )
    return issues


def _node_rules(node: XmlElement, incoming: list[XmlElement], outgoing: list[XmlElement]) -> list[Issue]:
    node_id = node.get("id")
    tag = _local(node)
    label = node.get("name") or node_id
    issues: list[Issue] = []
    is_start = tag == "startEvent" or tag == "boundaryEvent"
    sub_start = tag == "startEvent" and _local(node.getparent()) in {"subProcess", "transaction"}
    # An event sub-process starts on its event and a compensation handler when compensation is
    # thrown: BPMN draws neither with sequence flows.
    unflowed = (
        node.get("triggeredByEvent") == "true"
        or node.get("isForCompensation") == "true"
        or (tag == "boundaryEvent" and node.find("bpmn:compensateEventDefinition", NSMAP) is not None)
    )
    # A link catch event continues the flow of its link throw event (an off-page connector).
    is_start = is_start or (
        tag == "intermediateCatchEvent" and node.find("bpmn:linkEventDefinition", NSMAP) is not None
    )
    if unflowed and not incoming and not outgoing:
        pass
    elif not incoming and not outgoing and not sub_start:
        issues.append(Issue(node_id, f"Phần tử '{label}' không được nối với luồng nào", "error", "structure"))
    elif not incoming and not is_start:
        issues.append(
            Issue(
                node_id, f"Phần tử '{label}' không có luồng vào nên không bao giờ chạy", "error", "structure"
            )
        )
    elif not outgoing and tag != "endEvent" and tag not in _GATEWAYS and not sub_start:
        issues.append(
            Issue(
                node_id,
                f"Phần tử '{label}' không có luồng ra (nên nối tới sự kiện kết thúc)",
                "warning",
                "structure",
            )
        )
    if tag not in _GATEWAYS:
        unconditioned = [f for f in outgoing if f.find("bpmn:conditionExpression", NSMAP) is None]
        if len(outgoing) > 1:
            # Every outgoing flow of a task runs: a hidden parallel split; use a gateway instead.
            kind = "không điều kiện" if len(unconditioned) == len(outgoing) else "có điều kiện"
            issues.append(
                Issue(
                    node_id,
                    f"Phần tử '{label}' tách luồng ngầm ({len(outgoing)} luồng ra {kind}); "
                    "hãy dùng cổng (gateway)",
                    "error",
                    "structure",
                )
            )
        if len(incoming) > 1:
            issues.append(
                Issue(
                    node_id,
                    f"Phần tử '{label}' hợp luồng ngầm ({len(incoming)} luồng vào); nên hợp luồng bằng cổng",
                    "warning",
                    "structure",
                )
            )
    elif len(incoming) <= 1 and len(outgoing) <= 1 and (incoming or outgoing):
        issues.append(
            Issue(node_id, f"Cổng '{label}' thừa (chỉ một luồng vào và một luồng ra)", "warning", "structure")
        )
    if tag in _LABELLED and not (node.get("name") or "").strip():
        issues.append(Issue(node_id, f"Bước '{node_id}' chưa có tên", "warning", "structure"))
    return issues


# ------------------------------------------------------------------------------------ SpiffWorkflow


def spiff_issues(bundle: ProcedureBundle, main_name: str) -> list[Issue]:
    """What SpiffWorkflow's parser refuses (the same parse the engine does at deploy)."""
    roots = {main_name: bundle.main, **{f"{pid}.bpmn": root for pid, root in bundle.called.items()}}
    try:
        compile_specs(roots, bundle.meta.id)
    except MotcuaError as exc:
        element_id = exc.details.get("element_id")
        return [Issue(element_id if isinstance(element_id, str) else None, exc.message, "error", "spiff")]
    return []


# ------------------------------------------------------------------------------------ version diff


@dataclass(frozen=True)
class ElementChange:
    """One element added, removed or changed between two versions (``fields``: what changed)."""

    element_id: str
    name: str
    kind: str
    fields: tuple[str, ...] = ()


@dataclass
class VersionDiff:
    """What a version changed compared with the previous one, for people (not a patch)."""

    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    procedure_fields: list[str] = field(default_factory=list)
    layout_only: bool = False
    first: bool = False

    def summary(self) -> str:
        """One Vietnamese line, e.g. "Thêm 1 phần tử (check_stamp); Thông tin thủ tục: fee"."""
        if self.first:
            return "Phiên bản đầu tiên"
        parts = []
        for verb, items in (("Thêm", self.added), ("Xóa", self.removed), ("Sửa", self.changed)):
            if items:
                names = ", ".join(_describe(c) for c in items[:5]) + (", …" if len(items) > 5 else "")
                parts.append(f"{verb} {len(items)} phần tử ({names})")
        if self.procedure_fields:
            parts.append("Thông tin thủ tục: " + ", ".join(self.procedure_fields))
        if not parts:
            return "Chỉ thay đổi bố cục sơ đồ" if self.layout_only else "Không có thay đổi"
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "summary": self.summary(),
            "added": [c.__dict__ for c in self.added],
            "removed": [c.__dict__ for c in self.removed],
            "changed": [c.__dict__ for c in self.changed],
            "procedure_fields": self.procedure_fields,
        }


def _describe(change: ElementChange) -> str:
    text = f"{change.name} [{change.element_id}]" if change.name else change.element_id
    return f"{text}: {', '.join(change.fields)}" if change.fields else text


def _fingerprint(node: XmlElement) -> dict[str, Any]:
    """The facts of an element a designer cares about: type, name, our metadata, flow wiring, expressions."""
    facts: dict[str, Any] = {"loại": _local(node), "tên": node.get("name") or ""}
    for attr, label in (
        ("sourceRef", "nguồn"),
        ("targetRef", "đích"),
        ("default", "luồng mặc định"),
        ("calledElement", "quy trình được gọi"),
        ("attachedToRef", "gắn vào"),
        ("cancelActivity", "ngắt bước"),
    ):
        if node.get(attr) is not None:
            facts[label] = node.get(attr)
    ext = node.find("bpmn:extensionElements", NSMAP)
    if ext is not None:
        step = ext.find("motcua:step", NSMAP)
        if step is not None:
            facts["vai trò"] = step.get("role")
            facts["số giờ"] = step.get("hours")
            facts["loại bước"] = step.get("kind")
        status = ext.find("motcua:status", NSMAP)
        if status is not None:
            facts["mã trạng thái"] = status.get("code")
        form = ext.find("motcua:form", NSMAP)
        if form is not None:
            try:
                facts["biểu mẫu"] = json.dumps(json.loads(form.text or ""), sort_keys=True)
            except ValueError:
                facts["biểu mẫu"] = (form.text or "").strip()
    condition = node.find("bpmn:conditionExpression", NSMAP)
    if condition is not None:
        facts["điều kiện"] = (condition.text or "").strip()
    for tag in _TIMER_TAGS:
        spec = node.find(f"bpmn:timerEventDefinition/bpmn:{tag}", NSMAP)
        if spec is not None:
            facts["hẹn giờ"] = (spec.text or "").strip()
    script = node.find("bpmn:script", NSMAP)
    if script is not None:
        facts["kịch bản"] = (script.text or "").strip()
    return facts


def _elements(files: Mapping[str, bytes]) -> dict[str, tuple[str, dict[str, Any]]]:
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for data in files.values():
        for process in processes(parse_xml(data)):
            nodes = [*flow_nodes(process), *process.iter(f"{{{BPMN_NS}}}sequenceFlow")]
            for node in nodes:
                if node.get("id"):
                    found[node.get("id")] = (node.get("name") or "", _fingerprint(node))
    return found


def _procedure_attrs(files: Mapping[str, bytes]) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for data in files.values():
        for process in processes(parse_xml(data)):
            proc = process.find("bpmn:extensionElements/motcua:procedure", NSMAP)
            if proc is None:
                continue
            attrs.update(dict(proc.attrib))
            attrs["name"] = process.get("name")
            for child in proc:
                if isinstance(child.tag, str):
                    key = f"{_local(child)}:{child.get('code') or child.get('field') or ''}"
                    attrs[key] = sorted(child.attrib.items())
    return attrs


def diff_versions(old: Mapping[str, bytes] | None, new: Mapping[str, bytes]) -> VersionDiff:
    """Elements added, removed and changed (by id, with name), and procedure metadata fields changed."""
    if old is None:
        return VersionDiff(first=True)
    before, after = _elements(old), _elements(new)
    diff = VersionDiff()
    for element_id, (name, facts) in after.items():
        if element_id not in before:
            diff.added.append(ElementChange(element_id, name, facts["loại"]))
            continue
        old_facts = before[element_id][1]
        changed = tuple(k for k in sorted(set(facts) | set(old_facts)) if facts.get(k) != old_facts.get(k))
        if changed:
            diff.changed.append(ElementChange(element_id, name, facts["loại"], changed))
    diff.removed = [
        ElementChange(element_id, name, facts["loại"])
        for element_id, (name, facts) in before.items()
        if element_id not in after
    ]
    old_attrs, new_attrs = _procedure_attrs(old), _procedure_attrs(new)
    diff.procedure_fields = sorted(
        k for k in set(old_attrs) | set(new_attrs) if old_attrs.get(k) != new_attrs.get(k)
    )
    diff.layout_only = dict(old) != dict(new)
    return diff
