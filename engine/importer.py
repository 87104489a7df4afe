"""The import assistant: what a diagram from another modelling tool lacks to run in motcua.

A foreign BPMN file has the flow but none of the metadata motcua runs on: the statutory facts of the
procedure (``motcua:procedure``), who does each step and how long it may take (``motcua:step``),
and which steps report which national status (``motcua:status``). :func:`assess` lists everything
missing in one report, in the XML's own names (``legalTime``, not ``legal_time``), proposes a value
for each, writes a copy of the diagram with those defaults filled in, and validates that copy
exactly as a deployment would. The designer confirms or edits the defaults; nothing is deployed here.
"""

from __future__ import annotations

import copy
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from .definitions import BPMN_NS, MOTCUA_NS, NSMAP, XmlElement, flow_nodes, lanes_by_node, processes
from .errors import MotcuaError
from .import_decisions import propose_decisions
from .import_repairs import Finding, Kind, repair
from .lint import MAX_FLOW_NODES
from .refusals import explain
from .xmlsafe import MAX_BPMN_BYTES, parse_xml

#: Attributes of motcua:procedure without which the procedure cannot be read.
REQUIRED_PROCEDURE = frozenset({"code", "field", "legalTime", "legalUnit", "onlineLevel", "resultType"})

#: What a procedure needs, in XML attribute names, with the default the assistant proposes.
PROCEDURE_DEFAULTS: dict[str, str] = {
    "code": "",
    "field": "Chưa phân loại",
    "legalTime": "",  # computed from the steps' hours
    "legalUnit": "working_days",
    "fee": "0",
    "onlineLevel": "partial",
    "resultType": "paper",
}
#: Steps a person completes in motcua: the assistant proposes a role and hours for each.
MANUAL_TAGS = frozenset({"userTask", "manualTask", "task"})
DEFAULT_HOURS = 4.0
HOURS_PER_DAY = 8.0
FIRST_STEP_STATUS = 4
END_STATUS = 10

#: Words in a lane's name -> motcua role (Vietnamese and English, without diacritics).
_ROLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("citizen", ("cong dan", "nguoi dan", "citizen", "customer", "client", "applicant", "khach")),
    ("desk_clerk", ("mot cua", "tiep nhan", "van thu", "clerk", "desk", "reception", "front")),
    ("director", ("giam doc", "lanh dao", "chu tich", "director", "ceo", "board", "executive")),
    ("head_of_department", ("truong phong", "head", "manager", "supervisor", "lead", "approv")),
    ("other_department", ("phong khac", "phoi hop", "partner", "external", "other")),
)


@dataclass(frozen=True)
class StepChoice:
    """What the designer confirmed for one step (None: keep the diagram's value or the proposal)."""

    role: str | None = None
    hours: float | None = None
    status: int | None = None


@dataclass(frozen=True)
class ImportChoices:
    """The designer's answers to the report: procedure attributes (XML names) and steps by element id."""

    procedure: Mapping[str, str] = field(default_factory=dict)
    steps: Mapping[str, StepChoice] = field(default_factory=dict)


NO_CHOICES = ImportChoices()
#: Procedure facts the designer may set through the assistant (``name`` is the process's name).
CHOOSABLE_PROCEDURE = frozenset(PROCEDURE_DEFAULTS) | {"name"}
_XML_ID = re.compile(r"^[A-Za-z_][\w.-]*$")


@dataclass(frozen=True)
class StepProposal:
    element_id: str
    name: str
    type: str
    lane: str | None
    role: str
    hours: float
    status: int | None
    proposed: bool  # False: the diagram already says so


@dataclass
class ImportReport:
    """Everything about one foreign diagram, and the copy with the defaults filled in."""

    source: str
    process_id: str | None = None
    process_name: str = ""
    findings: list[Finding] = field(default_factory=list)
    procedure: dict[str, str] = field(default_factory=dict)
    steps: list[StepProposal] = field(default_factory=list)
    prepared: bytes | None = None
    problems: list[str] = field(default_factory=list)  # what still blocks deployment of ``prepared``
    warnings: list[str] = field(default_factory=list)

    @property
    def deployable(self) -> bool:
        return self.prepared is not None and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "process_id": self.process_id,
            "process_name": self.process_name,
            "deployable": self.deployable,
            "findings": [asdict(f) for f in self.findings],
            "procedure": dict(self.procedure),
            "steps": [asdict(s) for s in self.steps],
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "prepared": self.prepared.decode("utf-8") if self.prepared is not None else None,
        }


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def role_for_lane(lane: str | None) -> str:
    """A sensible role from a lane's name; a specialist when the name says nothing we know."""
    words = _plain(lane or "")
    for role, keys in _ROLE_WORDS:
        if any(key in words for key in keys):
            return role
    return "specialist"


def _local(node: XmlElement) -> str:
    return str(etree.QName(node).localname) if isinstance(node.tag, str) else ""


def _ext(node: XmlElement, name: str) -> XmlElement | None:
    found = node.find(f"bpmn:extensionElements/motcua:{name}", NSMAP)
    return found


def _extension_elements(node: XmlElement) -> XmlElement:
    """The node's ``bpmn:extensionElements``, created where the schema wants it (after documentation)."""
    existing = node.find("bpmn:extensionElements", NSMAP)
    if existing is not None:
        return existing
    created = etree.Element(f"{{{BPMN_NS}}}extensionElements")
    position = sum(1 for child in node if isinstance(child.tag, str) and _local(child) == "documentation")
    node.insert(position, created)
    return created


def _add_motcua(node: XmlElement, name: str, attributes: Mapping[str, str]) -> XmlElement:
    element = etree.SubElement(
        _extension_elements(node), f"{{{MOTCUA_NS}}}{name}", nsmap={"motcua": MOTCUA_NS}
    )
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _called_ids(root: XmlElement) -> set[str]:
    return {c.get("calledElement") or "" for c in root.iter(f"{{{BPMN_NS}}}callActivity")}


def _choose_process(root: XmlElement, report: ImportReport) -> XmlElement | None:
    """The procedure's process: the executable one not called by another; else the biggest."""
    candidates = [p for p in processes(root) if any(True for _ in flow_nodes(p))]
    if not candidates:
        report.problems.append("Tệp không có quy trình (bpmn:process) nào có phần tử để chạy")
        return None
    called = _called_ids(root)
    executable = [p for p in candidates if p.get("isExecutable") == "true" and p.get("id") not in called]
    pool = executable or [p for p in candidates if p.get("id") not in called] or candidates
    chosen = max(pool, key=lambda p: sum(1 for _ in flow_nodes(p)))
    if len(pool) > 1:
        others = ", ".join(sorted(str(p.get("id")) for p in pool if p is not chosen))
        report.findings.append(
            Finding(
                chosen.get("id"),
                f"Tệp có {len(pool)} quy trình; chọn '{chosen.get('id')}' (nhiều phần tử nhất), "
                f"các quy trình khác ({others}) được đánh dấu không thực thi",
                "changed",
                "isExecutable",
                "true",
            )
        )
    return chosen


def _manual_nodes(root: XmlElement, process: XmlElement) -> list[XmlElement]:
    """Manual steps of the procedure's process, its embedded parts and the processes it calls (in file)."""
    by_id = {p.get("id"): p for p in processes(root)}
    seen: set[str] = set()
    # The procedure's own steps first (the first one gets status 4), then those of other pools:
    # they are never run but are read (and checked) with the file.
    pending = [process, *(p for p in processes(root) if p is not process)]
    found: list[XmlElement] = []
    while pending:
        current = pending.pop(0)
        if current.get("id") in seen:
            continue
        seen.add(current.get("id") or "")
        for node in flow_nodes(current):
            if _local(node) in MANUAL_TAGS:
                found.append(node)
            elif _local(node) == "callActivity" and node.get("calledElement") in by_id:
                pending.append(by_id[node.get("calledElement")])
    return found


def _lanes(root: XmlElement) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for process in processes(root):
        lanes.update(lanes_by_node(process))
    participants = {
        p.get("processRef"): p.get("name") or ""
        for p in root.iter(f"{{{BPMN_NS}}}participant")
        if p.get("processRef")
    }
    for process in processes(root):
        pool = participants.get(process.get("id"))
        if pool:
            for node in flow_nodes(process):
                lanes.setdefault(node.get("id") or "", pool)
    return lanes


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _propose_steps(
    root: XmlElement, process: XmlElement, report: ImportReport, choices: ImportChoices
) -> None:
    lanes = _lanes(root)
    nodes = _manual_nodes(root, process)
    any_status = any(True for _ in root.iter(f"{{{MOTCUA_NS}}}status"))
    for index, node in enumerate(nodes):
        node_id = node.get("id") or ""
        label = node.get("name") or node_id
        chosen = choices.steps.get(node_id, StepChoice())
        step = _ext(node, "step")
        status_node = _ext(node, "status")
        lane = lanes.get(node_id)
        role = (step.get("role") if step is not None else None) or role_for_lane(lane)
        hours = _number(step.get("hours")) if step is not None else None
        proposed = step is None or not step.get("role") or hours is None or hours <= 0
        required: Kind = "missing" if _local(node) == "userTask" else "proposed"
        if step is None:
            step = _add_motcua(node, "step", {})
        if not step.get("role"):
            why = f"theo làn '{lane}'" if lane else "mặc định"
            report.findings.append(
                Finding(
                    node_id,
                    f"Bước '{label}' chưa có vai trò; đề xuất '{chosen.role or role}' ({why})",
                    required,
                    "motcua:step role",
                    chosen.role or role,
                )
            )
        role = chosen.role or role
        step.set("role", role)
        if hours is None or hours <= 0:
            hours = DEFAULT_HOURS
            report.findings.append(
                Finding(
                    node_id,
                    f"Bước '{label}' chưa có số giờ phân bổ; đề xuất {chosen.hours or hours:g}",
                    required,
                    "motcua:step hours",
                    f"{chosen.hours or hours:g}",
                )
            )
        hours = chosen.hours or hours
        step.set("hours", f"{hours:g}")
        status = _number(status_node.get("code")) if status_node is not None else None
        if index == 0 and not any_status and status is None:
            status = FIRST_STEP_STATUS
            status_node = _add_motcua(node, "status", {"code": str(status)})
            report.findings.append(
                Finding(
                    node_id,
                    f"Bước xử lý đầu tiên '{label}' đặt trạng thái "
                    f"{chosen.status or status} (đang giải quyết)",
                    "proposed",
                    "motcua:status code",
                    str(chosen.status or status),
                )
            )
        if chosen.status is not None:
            status = chosen.status
            if status_node is None:
                status_node = _add_motcua(node, "status", {})
            status_node.set("code", str(status))
        report.steps.append(
            StepProposal(
                node_id,
                node.get("name") or "",
                _local(node),
                lane,
                role,
                hours,
                int(status) if status is not None else None,
                proposed,
            )
        )
    if not any_status:
        for end in process.findall("bpmn:endEvent", NSMAP):
            if _ext(end, "status") is None and end.find("bpmn:errorEventDefinition", NSMAP) is None:
                _add_motcua(end, "status", {"code": str(END_STATUS)})
                report.findings.append(
                    Finding(
                        end.get("id"),
                        f"Sự kiện kết thúc '{end.get('name') or end.get('id')}' đặt trạng "
                        f"thái {END_STATUS} (đã trả kết quả)",
                        "proposed",
                        "motcua:status code",
                        str(END_STATUS),
                    )
                )


def _propose_procedure(process: XmlElement, report: ImportReport, choices: ImportChoices) -> None:
    proc = _ext(process, "procedure")
    if proc is None:
        proc = _add_motcua(process, "procedure", {})
        report.findings.append(
            Finding(
                process.get("id"),
                "Quy trình chưa có thông tin thủ tục (motcua:procedure)",
                "missing",
                "motcua:procedure",
            )
        )
    counted = sum(s.hours for s in report.steps if s.role != "citizen")
    defaults = dict(PROCEDURE_DEFAULTS, legalTime=f"{max(1, math.ceil(counted / HOURS_PER_DAY))}")
    for attribute, value in defaults.items():
        if proc.get(attribute) is None:
            proc.set(attribute, value)
            shown = f"'{value}'" if value else "(để trống)"
            report.findings.append(
                Finding(
                    process.get("id"),
                    f"motcua:procedure thiếu {attribute}; đề xuất {shown}",
                    "missing" if attribute in REQUIRED_PROCEDURE else "proposed",
                    attribute,
                    value,
                )
            )
    for attribute, value in choices.procedure.items():
        if attribute in PROCEDURE_DEFAULTS:
            proc.set(attribute, value)
        elif attribute == "name" and value.strip():
            process.set("name", value.strip())
        else:
            report.problems.append(f"motcua:procedure không có thuộc tính '{attribute}'")
    report.procedure = {k: str(v) for k, v in proc.attrib.items()}
    if not (process.get("name") or "").strip():
        process.set("name", process.get("id") or "Quy trình")
        report.findings.append(
            Finding(
                process.get("id"),
                "Quy trình chưa có tên; tạm dùng mã quy trình",
                "proposed",
                "name",
                process.get("name"),
            )
        )


def _mark_executable(root: XmlElement, process: XmlElement, report: ImportReport) -> None:
    for other in processes(root):
        # Called processes too: motcua runs what the procedure calls, whatever the flag says.
        wanted = "true" if other is process else "false"
        if other.get("isExecutable") != wanted:
            if other is process:
                report.findings.append(
                    Finding(
                        process.get("id"),
                        "Quy trình được đánh dấu thực thi (isExecutable)",
                        "changed",
                        "isExecutable",
                        "true",
                    )
                )
            other.set("isExecutable", wanted)


def _propose_defaults(process: XmlElement, report: ImportReport) -> None:
    """A gateway whose branches all have conditions but one: that one is the default (otherwise)."""
    flows = process.findall(".//bpmn:sequenceFlow", NSMAP)
    for gateway in process.iter(f"{{{BPMN_NS}}}exclusiveGateway", f"{{{BPMN_NS}}}inclusiveGateway"):
        outgoing = [f for f in flows if f.get("sourceRef") == gateway.get("id")]
        bare = [f for f in outgoing if f.find("bpmn:conditionExpression", NSMAP) is None]
        if len(outgoing) > 1 and len(bare) == 1 and not gateway.get("default"):
            gateway.set("default", bare[0].get("id"))
            report.findings.append(
                Finding(
                    gateway.get("id"),
                    f"Cổng '{gateway.get('name') or gateway.get('id')}': luồng không điều kiện "
                    f"'{bare[0].get('id')}' được đặt làm luồng mặc định",
                    "changed",
                    "default",
                    bare[0].get("id"),
                )
            )


def _notes(process: XmlElement, report: ImportReport) -> None:
    for node in flow_nodes(process):
        tag = _local(node)
        if tag == "serviceTask" and not len(node.findall("bpmn:extensionElements", NSMAP)):
            report.findings.append(
                Finding(
                    node.get("id"),
                    f"Tác vụ dịch vụ '{node.get('name') or node.get('id')}' chạy như "
                    "một bước tự động (không gọi dịch vụ nào)",
                    "note",
                )
            )
        if tag in {"sendTask", "receiveTask"}:
            report.findings.append(
                Finding(
                    node.get("id"),
                    f"'{node.get('name') or node.get('id')}' ({tag}) chỉ được ghi nhận, "
                    "motcua không trao đổi thông điệp với bên ngoài",
                    "note",
                )
            )


def _rename_process(root: XmlElement, process: XmlElement, procedure_id: str, report: ImportReport) -> bool:
    """Give the procedure's process the id of the procedure it becomes a version of (and its references)."""
    old = process.get("id") or ""
    if old == procedure_id:
        return True
    if not _XML_ID.match(procedure_id):
        report.problems.append(f"Mã thủ tục '{procedure_id}' không dùng được làm mã quy trình BPMN")
        return False
    if any(node.get("id") == procedure_id for node in root.iter()):
        report.problems.append(
            f"Tệp đã có phần tử mang mã '{procedure_id}'; không đổi được mã quy trình '{old}' thành mã đó"
        )
        return False
    process.set("id", procedure_id)
    for node in root.iter():
        for attribute in ("processRef", "bpmnElement", "calledElement"):
            if node.get(attribute) == old:
                node.set(attribute, procedure_id)
    report.findings.append(
        Finding(
            procedure_id,
            f"Mã quy trình '{old}' đổi thành '{procedure_id}' để triển khai "
            "thành phiên bản mới của thủ tục này",
            "changed",
            "id",
            procedure_id,
        )
    )
    return True


def _shared_ids(shared: Mapping[str, bytes]) -> frozenset[str]:
    ids: set[str] = set()
    for name, data in shared.items():
        try:
            ids |= {p.get("id") or "" for p in processes(parse_xml(data, source=name))}
        except MotcuaError:
            continue  # the validator reports a broken shared file
    return frozenset(ids)


def _prepare(
    source: str,
    data: bytes,
    max_bytes: int,
    procedure_id: str | None,
    choices: ImportChoices,
    shared: Mapping[str, bytes],
) -> ImportReport:
    report = ImportReport(source)
    try:
        root = parse_xml(data, max_bytes=max_bytes, source=source)
    except MotcuaError as exc:
        report.problems.append(exc.message)
        return report
    prepared = copy.deepcopy(root)
    process = _choose_process(prepared, report)
    if process is None:
        return report
    if procedure_id is not None and not _rename_process(prepared, process, procedure_id, report):
        return report
    report.process_id = process.get("id")
    try:
        _mark_executable(prepared, process, report)
        # Repairs walk the graph per gateway; a file too big to deploy anyway is not repaired.
        size = sum(1 for p in processes(prepared) for _ in flow_nodes(p))
        repairable = size <= MAX_FLOW_NODES
        if repairable:
            report.findings += repair(prepared, _shared_ids(shared))
        _propose_defaults(process, report)
        if repairable:
            # Before the steps: a step it adds to ask a decision is a step like the others.
            report.findings += propose_decisions(prepared)
        _propose_steps(prepared, process, report, choices)
        _propose_procedure(process, report, choices)
        _notes(process, report)
        report.prepared = etree.tostring(prepared, xml_declaration=True, encoding="UTF-8")
    except (ValueError, TypeError) as exc:  # e.g. an attribute lxml refuses
        report.problems.append(f"Không điền được giá trị mặc định: {explain(exc).message}")
    report.process_name = process.get("name") or ""
    return report


def assess(
    source: str,
    data: bytes,
    *,
    procedure_id: str | None = None,
    choices: ImportChoices = NO_CHOICES,
    shared: Mapping[str, bytes] | None = None,
    max_bytes: int = MAX_BPMN_BYTES,
) -> ImportReport:
    """One report for a foreign diagram: never raises for a bad file, the reasons are in ``problems``.

    ``procedure_id``: the procedure the diagram becomes a version of (its process is renamed);
    ``choices``: the designer's confirmed values, used instead of the proposals; ``shared``: the
    library's shared files, for call activities (the same validation a deployment meets).
    """
    from .designer import validate_upload

    report = _prepare(source, data, max_bytes, procedure_id, choices, shared or {})
    if report.prepared is None or report.problems:
        report.prepared = report.prepared if not report.problems else None
        return report
    validation = validate_upload(_deployed_name(report), report.prepared, shared or {})
    report.problems = [_issue_text(i.element_id, i.message) for i in validation.errors]
    report.warnings = [
        _issue_text(i.element_id, i.message) for i in validation.issues if i.severity != "error"
    ]
    return report


def _issue_text(element_id: str | None, message: str) -> str:
    return f"{element_id}: {message}" if element_id and element_id not in message else message


def _deployed_name(report: ImportReport) -> str:
    return f"{report.process_id or 'imported'}.bpmn"


def missing_metadata(source: str, data: bytes) -> list[Finding]:
    """What a diagram lacks (procedure attributes, steps, statuses) for the validator's one-round list."""
    return [
        f
        for f in _prepare(source, data, MAX_BPMN_BYTES, None, NO_CHOICES, {}).findings
        if f.kind == "missing"
    ]
