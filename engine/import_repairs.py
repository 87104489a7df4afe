"""Repairs the import assistant proposes for what other modelling tools leave open.

Each repair changes the assistant's copy of a foreign diagram (never the file) and says so in a
finding the designer reads before applying it:

- a call activity whose called process is not in the file (or names none, or names a global task)
  becomes a step done by a person, with the call's name;
- data store references (an external system drawn for the reader) are dropped with their data
  associations: motcua keeps a dossier's data in the case;
- empty conditions are removed (the flow is then an unconditioned branch, see
  :mod:`engine.import_decisions`);
- a timer with no expression waits one day (``P1D``; a cycle fires once, ``R1/P1D``).

Pure: lxml trees in, findings out.
"""

from __future__ import annotations

import json
import keyword
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from .definitions import BPMN_NS, FLOW_NODE_TAGS, MOTCUA_NS, NSMAP, XmlElement, processes
from .refusals import element_label

#: missing: motcua cannot deploy without it; proposed: optional, filled for convenience;
#: changed: the copy differs from the file; note: how motcua will treat an element.
Kind = Literal["missing", "proposed", "changed", "note"]
DEFAULT_WAIT = "P1D"
DEFAULT_CYCLE = "R1/P1D"
_DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
_TIMER_TAGS = ("timeDate", "timeDuration", "timeCycle")
# Names the business functions and Python literals take in expressions.
_RESERVED = frozenset({"working_hours", "working_days", "now", "true", "false", "none"})


@dataclass(frozen=True)
class Finding:
    """One thing the designer must know; ``attribute`` is the XML name to fill in."""

    element_id: str | None
    message: str
    kind: Kind
    attribute: str | None = None
    default: str | None = None


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _label(node: XmlElement) -> str:
    return element_label(node.get("id"), node.get("name"))


def repair(root: XmlElement, shared_ids: frozenset[str]) -> list[Finding]:
    """Every repair, on every process of the file (the validator reads them all), in place on the
    assistant's copy; ``shared_ids``: processes of the library's shared files a call may use."""
    findings: list[Finding] = _prefixed_references(root)
    for process in processes(root):
        findings += _unresolved_calls(root, process, shared_ids)
        findings += _empty_subprocesses(root, process)
        findings += _decision_tables(process)
        findings += _implicit_splits(root, process)
        findings += _data_stores(root, process)
        findings += _empty_conditions(process)
        findings += _empty_timers(process)
        findings += _empty_conditional_events(process)
        findings += _unbounded_multi_instance(process)
        findings += _messages_from_outside(root, process)
        findings += _alternative_starts(root, process)
    findings += _dangling_data_associations(root)
    findings += _unnamed_definitions(root)
    _unused_data_stores(root)
    findings += _data_object_names(root)
    for process in processes(root):
        findings += _services_writing_data(root, process)
        findings += _data_written_by_people(root, process)
        findings += _automatic_io(process)
    return findings


_AUTOMATIC = (
    "serviceTask",
    "scriptTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
)


def _services_writing_data(root: XmlElement, process: XmlElement) -> list[Finding]:
    """A service task that writes a data object calls a system motcua has no connection to: a
    person fetches the data and enters it (the step's form, see below)."""
    objects = {r.get("id") for r in root.iter(_q("dataObjectReference"))}
    findings = []
    for task in list(process.iter(_q("serviceTask"), _q("sendTask"))):
        targets = {
            (t.text or "").strip() for t in task.findall("bpmn:dataOutputAssociation/bpmn:targetRef", NSMAP)
        }
        if not targets & objects or task.find("bpmn:extensionElements/motcua:service", NSMAP) is not None:
            continue
        task.tag = _q("userTask")
        task.attrib.pop("implementation", None)
        task.attrib.pop("operationRef", None)
        findings.append(
            Finding(
                task.get("id"),
                f"Bước tự động {_label(task)} ghi đối tượng dữ liệu từ một hệ thống motcua chưa kết nối; "
                "thành bước do người xử lý nhập dữ liệu (userTask)",
                "changed",
                None,
            )
        )
    return findings


def _automatic_io(process: XmlElement) -> list[Finding]:
    """An automatic step's declared inputs and outputs (ioSpecification) name data nothing in motcua
    provides; the step reads and writes the dossier's data as it is."""
    findings = []
    for task in process.iter(*(_q(t) for t in _AUTOMATIC)):
        io = task.find("bpmn:ioSpecification", NSMAP)
        if io is None:
            continue
        task.remove(io)
        findings.append(
            Finding(
                task.get("id"),
                f"Bước {_label(task)}: bỏ khai báo vào/ra (ioSpecification); bước dùng dữ liệu hồ sơ",
                "changed",
                "ioSpecification",
                None,
            )
        )
    return findings


def field_name(text: str) -> str | None:
    """A name a dossier field may have (a Python identifier not starting with '_'), from a label."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    name = re.sub(r"[^a-z0-9]+", "_", plain).strip("_")[:40]
    if not name:
        return None
    if name[0].isdigit():
        name = f"q_{name}"
    if keyword.iskeyword(name) or name in _RESERVED:
        name = f"{name}_value"
    return name


def _data_object_names(root: XmlElement) -> list[Finding]:
    """Data objects are dossier fields at run time, named by their id: an id a field cannot have
    (``_d096…``, ``DataObject-1``) becomes one from the object's name."""
    taken = {n.get("id") for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    findings = []
    for data_object in root.iter(_q("dataObject")):
        old = data_object.get("id") or ""
        if old.isidentifier() and not old.startswith("_") and not keyword.iskeyword(old):
            continue
        base = field_name(data_object.get("name") or "") or "du_lieu"
        new, n = base, 1
        while new in taken:
            n += 1
            new = f"{base}_{n}"
        taken.add(new)
        data_object.set("id", new)
        for ref in root.iter(_q("dataObjectReference")):
            if ref.get("dataObjectRef") == old:
                ref.set("dataObjectRef", new)
        findings.append(
            Finding(
                new,
                f"Đối tượng dữ liệu {element_label(old, data_object.get('name'))} đổi mã thành '{new}' "
                "(tên trường dữ liệu hồ sơ)",
                "changed",
                "id",
                new,
            )
        )
    return findings


def add_form_fields(step: XmlElement, fields: dict[str, dict[str, Any]]) -> None:
    """Required fields added to the step's ``motcua:form`` (created when it has none)."""
    extensions = step.find("bpmn:extensionElements", NSMAP)
    if extensions is None:
        extensions = etree.Element(_q("extensionElements"))
        position = sum(
            1 for c in step if isinstance(c.tag, str) and etree.QName(c).localname == "documentation"
        )
        step.insert(position, extensions)
    form = extensions.find("motcua:form", NSMAP)
    schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    if form is None:
        form = etree.SubElement(extensions, f"{{{MOTCUA_NS}}}form", nsmap={"motcua": MOTCUA_NS})
    else:
        schema = json.loads(form.text or "{}")
        schema.setdefault("properties", {})
        schema.setdefault("required", [])
    for name, prop in fields.items():
        schema["properties"][name] = prop
        if name not in schema["required"]:
            schema["required"].append(name)
    form.text = json.dumps(schema, ensure_ascii=False)


def _data_written_by_people(root: XmlElement, process: XmlElement) -> list[Finding]:
    """A data object a person's step writes (dataOutputAssociation) is a field of that step's form:
    SpiffWorkflow takes its value from the step's data when the step completes."""
    references = {r.get("id"): r for r in root.iter(_q("dataObjectReference"))}
    objects = {o.get("id"): o for o in root.iter(_q("dataObject"))}
    findings = []
    for step in process.iter(_q("userTask"), _q("manualTask"), _q("task")):
        fields: dict[str, dict[str, Any]] = {}
        for target in step.findall("bpmn:dataOutputAssociation/bpmn:targetRef", NSMAP):
            ref = references.get((target.text or "").strip())
            if ref is None or ref.get("dataObjectRef") not in objects:
                continue
            data_object = objects[ref.get("dataObjectRef")]
            title = " ".join(
                (data_object.get("name") or ref.get("name") or data_object.get("id") or "").split()
            )
            fields[data_object.get("id") or ""] = {"type": "string", "title": title}
        io = step.find("bpmn:ioSpecification", NSMAP)
        if io is not None:
            # The step's own inputs and outputs: its form says what a person enters.
            for output in io.findall("bpmn:dataOutput", NSMAP):
                name = field_name(output.get("name") or output.get("id") or "")
                title = " ".join((output.get("name") or output.get("id") or "").split())
                if name is not None:
                    fields.setdefault(name, {"type": "string", "title": title})
            step.remove(io)
        if not fields and io is None:
            continue
        add_form_fields(step, fields)
        written = (
            f"ghi dữ liệu {', '.join(repr(p['title']) for p in fields.values())}: thêm trường vào "
            "biểu mẫu của bước (motcua:form)"
            if fields
            else ""
        )
        dropped = "bỏ khai báo vào/ra (ioSpecification) của bước" if io is not None else ""
        findings.append(
            Finding(
                step.get("id"),
                f"Bước {_label(step)} " + "; ".join(x for x in (written, dropped) if x),
                "changed",
                "motcua:form",
                ", ".join(fields),
            )
        )
    return findings


_REFERENCES = (
    "messageRef",
    "signalRef",
    "errorRef",
    "escalationRef",
    "dataObjectRef",
    "processRef",
    "attachedToRef",
    "sourceRef",
    "targetRef",
    "calledElement",
    "default",
)


def _prefixed_references(root: XmlElement) -> list[Finding]:
    """References written as qualified names (``semantic:_6840…``), as XML Schema allows, are
    matched by plain id when the diagram runs."""
    ids = {n.get("id") for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    changed = 0
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        for attribute in _REFERENCES:
            value = node.get(attribute) or ""
            local = value.rsplit(":", 1)[-1]
            if ":" in value and value not in ids and local in ids:
                node.set(attribute, local)
                changed += 1
    if not changed:
        return []
    return [
        Finding(
            None,
            f"{changed} tham chiếu viết kèm tiền tố không gian tên (ví dụ 'semantic:…') "
            "được viết lại bằng mã",
            "changed",
            None,
        )
    ]


def _unresolved_calls(root: XmlElement, process: XmlElement, shared_ids: frozenset[str]) -> list[Finding]:
    known = {p.get("id") for p in processes(root)} | shared_ids
    globals_ = {
        g.get("id"): g
        for g in root
        if isinstance(g.tag, str) and etree.QName(g).localname.startswith("global")
    }
    findings = []
    for call in list(process.iter(_q("callActivity"))):
        target = call.get("calledElement") or ""
        if target in known:
            continue
        global_task = globals_.get(target)
        name = call.get("name") or (global_task.get("name") if global_task is not None else None)
        label = element_label(call.get("id"), name)
        if global_task is not None:
            why = f"gọi tác vụ dùng chung '{global_task.get('name') or target}'"
        elif target:
            why = f"gọi quy trình '{target}' không có trong tệp"
        else:
            why = "không ghi quy trình được gọi"
        call.tag = _q("userTask")
        for attribute in ("calledElement", "calledElementBinding"):
            call.attrib.pop(attribute, None)
        if name and not call.get("name"):
            call.set("name", name)
        findings.append(
            Finding(
                call.get("id"),
                f"Bước {label} {why}; tạm thay bằng một bước do người xử lý (userTask), "
                "hãy sửa lại nếu cần gọi quy trình khác",
                "changed",
                "calledElement",
                None,
            )
        )
    return findings


def _decision_tables(process: XmlElement) -> list[Finding]:
    """A business rule task evaluates a decision table (DMN) motcua does not run: a person decides,
    and the table's outputs become the fields of that step's form."""
    findings = []
    for task in list(process.iter(_q("businessRuleTask"))):
        task.tag = _q("userTask")
        task.attrib.pop("implementation", None)
        findings.append(
            Finding(
                task.get("id"),
                f"Bước {_label(task)} dùng bảng quyết định (DMN), motcua không chạy bảng này; "
                "thành bước do người quyết định (userTask)",
                "changed",
                None,
            )
        )
    return findings


def _empty_subprocesses(root: XmlElement, process: XmlElement) -> list[Finding]:
    """A collapsed sub-process whose content was never modelled is one step a person does."""
    findings = []
    for sub in list(process.iter(_q("subProcess"))):
        inside = [c for c in sub if isinstance(c.tag, str) and etree.QName(c).localname in FLOW_NODE_TAGS]
        if inside or sub.get("triggeredByEvent") == "true":
            continue
        sub.tag = _q("userTask")
        sub.attrib.pop("triggeredByEvent", None)
        findings.append(
            Finding(
                sub.get("id"),
                f"Quy trình con {_label(sub)} chưa được vẽ chi tiết; "
                "thành một bước do người xử lý (userTask)",
                "changed",
                None,
            )
        )
    return findings


_GATEWAY_TAGS = frozenset(
    {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
)


def _implicit_splits(root: XmlElement, process: XmlElement) -> list[Finding]:
    """Several flows out of a step run together (BPMN's implicit split): the same split drawn with a
    gateway, parallel when no flow has a condition, inclusive otherwise."""
    findings = []
    taken = {n.get("id") for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    for container in [process, *process.iter(_q("subProcess"), _q("transaction"))]:
        flows = [
            f for f in container if isinstance(f.tag, str) and etree.QName(f).localname == "sequenceFlow"
        ]
        nodes = {
            n.get("id"): n
            for n in container
            if isinstance(n.tag, str) and etree.QName(n).localname in FLOW_NODE_TAGS
        }
        leaving: dict[str, list[XmlElement]] = {}
        for flow in flows:
            leaving.setdefault(flow.get("sourceRef") or "", []).append(flow)
        for node_id, node in nodes.items():
            kind = etree.QName(node).localname
            outgoing = leaving.get(node_id or "", [])
            if kind in _GATEWAY_TAGS or len(outgoing) < 2:
                continue
            conditioned = any(f.find("bpmn:conditionExpression", NSMAP) is not None for f in outgoing)
            gateway_kind = "inclusiveGateway" if conditioned else "parallelGateway"
            gateway_id = _fresh(f"{node_id}_split", taken)
            link_id = _fresh(f"{node_id}_to_split", taken)
            gateway = etree.Element(_q(gateway_kind), id=gateway_id)
            container.insert(container.index(node) + 1, gateway)
            link = etree.Element(_q("sequenceFlow"), id=link_id, sourceRef=node_id, targetRef=gateway_id)
            container.insert(container.index(outgoing[0]), link)
            for flow in outgoing:
                flow.set("sourceRef", gateway_id)
                if conditioned and flow.find("bpmn:conditionExpression", NSMAP) is None:
                    etree.SubElement(flow, _q("conditionExpression")).text = "True"
            _rewire_refs(node, gateway, link_id, [f.get("id") or "" for f in outgoing])
            _draw_split(root, node_id, gateway_id, link_id)
            what = "song song (parallelGateway)" if not conditioned else "bao hàm (inclusiveGateway)"
            findings.append(
                Finding(
                    node_id,
                    f"Phần tử {_label(node)} tách {len(outgoing)} luồng ngầm; "
                    f"thêm cổng {what} '{gateway_id}' ngay sau phần tử (cùng ý nghĩa)",
                    "changed",
                    None,
                )
            )
    return findings


def _fresh(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _rewire_refs(node: XmlElement, gateway: XmlElement, link_id: str, moved: list[str]) -> None:
    """The redundant ``bpmn:outgoing`` references kept in step with the flows (bpmn-js reads them)."""
    for ref in node.findall("bpmn:outgoing", NSMAP):
        if (ref.text or "").strip() in moved:
            node.remove(ref)
    position = len(
        [
            c
            for c in node
            if isinstance(c.tag, str)
            and etree.QName(c).localname in {"documentation", "extensionElements", "incoming"}
        ]
    )
    etree.SubElement(node, _q("outgoing")).text = link_id
    node.insert(position, node[-1])
    etree.SubElement(gateway, _q("incoming")).text = link_id
    for flow_id in moved:
        etree.SubElement(gateway, _q("outgoing")).text = flow_id


def _draw_split(root: XmlElement, node_id: str, gateway_id: str, link_id: str) -> None:
    """The new gateway drawn just right of the step, with its link, so the editor shows it."""
    dc = "http://www.omg.org/spec/DD/20100524/DC"
    di = "http://www.omg.org/spec/DD/20100524/DI"
    for shape in root.iter(f"{{{_DI_NS}}}BPMNShape"):
        if shape.get("bpmnElement") != node_id:
            continue
        bounds = shape.find(f"{{{dc}}}Bounds")
        if bounds is None:
            return
        try:
            x, y = float(bounds.get("x")), float(bounds.get("y"))
            w, h = float(bounds.get("width")), float(bounds.get("height"))
        except (TypeError, ValueError):
            return
        plane = shape.getparent()
        gx, gy = x + w + 15, y + h / 2 - 25
        new = etree.SubElement(plane, f"{{{_DI_NS}}}BPMNShape", id=f"{gateway_id}_di", bpmnElement=gateway_id)
        etree.SubElement(new, f"{{{dc}}}Bounds", x=f"{gx:g}", y=f"{gy:g}", width="50", height="50")
        edge = etree.SubElement(plane, f"{{{_DI_NS}}}BPMNEdge", id=f"{link_id}_di", bpmnElement=link_id)
        etree.SubElement(edge, f"{{{di}}}waypoint", x=f"{x + w:g}", y=f"{y + h / 2:g}")
        etree.SubElement(edge, f"{{{di}}}waypoint", x=f"{gx:g}", y=f"{y + h / 2:g}")
        return


def _data_stores(root: XmlElement, process: XmlElement) -> list[Finding]:
    stores = {s.get("id"): s.get("name") for s in root.iter(_q("dataStore"))}
    refs = list(process.iter(_q("dataStoreReference")))
    if not refs:
        return []
    ids = {r.get("id") for r in refs}
    dropped: set[str] = set()
    for association in list(process.iter(_q("dataInputAssociation"), _q("dataOutputAssociation"))):
        ends = {(e.text or "").strip() for e in association if isinstance(e.tag, str)}
        if ends & ids:
            dropped.add(association.get("id") or "")
            association.getparent().remove(association)
    findings = []
    for ref in refs:
        name = ref.get("name") or stores.get(ref.get("dataStoreRef")) or ref.get("id")
        ref.getparent().remove(ref)
        findings.append(
            Finding(
                ref.get("id"),
                f"Kho dữ liệu '{name}' ({ref.get('id')}) chỉ để minh họa hệ thống bên ngoài; bỏ khỏi bản "
                "nhập cùng các liên kết dữ liệu (motcua lưu dữ liệu trong hồ sơ)",
                "changed",
                "dataStoreReference",
                None,
            )
        )
    _drop_diagram(root, ids | dropped)
    return findings


def _dangling_data_associations(root: XmlElement) -> list[Finding]:
    """Data associations that point at no data object (e.g. a task's own ioSpecification in some
    tools' exports): SpiffWorkflow cannot resolve them and motcua does not need them."""
    references = {r.get("id"): r.get("dataObjectRef") for r in root.iter(_q("dataObjectReference"))}
    findings = []
    dropped: set[str] = set()
    for tag, end in (("dataInputAssociation", "sourceRef"), ("dataOutputAssociation", "targetRef")):
        for association in list(root.iter(_q(tag))):
            owner = association.getparent()
            # SpiffWorkflow looks a data object up in the step's own process or sub-process and
            # those around it, not in another pool.
            in_scope = {
                o.get("id")
                for scope in owner.iterancestors()
                for o in scope.findall("bpmn:dataObject", NSMAP)
            }
            refs = [(e.text or "").strip() for e in association.findall(f"bpmn:{end}", NSMAP)]
            if all(references.get(ref) in in_scope for ref in refs):
                continue
            owner.remove(association)
            dropped.add(association.get("id") or "")
            findings.append(
                Finding(
                    owner.get("id"),
                    f"Liên kết dữ liệu của {_label(owner)} không trỏ tới đối tượng dữ liệu nào; "
                    "bỏ khỏi bản nhập",
                    "changed",
                    tag,
                    None,
                )
            )
    _drop_diagram(root, dropped)
    return findings


def _unnamed_definitions(root: XmlElement) -> list[Finding]:
    """Messages, signals, errors and escalations are matched by name when they run: one without a
    name takes its id."""
    findings = []
    for tag, what in (
        ("message", "Thông điệp"),
        ("signal", "Tín hiệu"),
        ("error", "Lỗi"),
        ("escalation", "Leo thang"),
    ):
        for definition in root.findall(f"bpmn:{tag}", NSMAP):
            if (definition.get("name") or "").strip() or not definition.get("id"):
                continue
            definition.set("name", definition.get("id"))
            findings.append(
                Finding(
                    definition.get("id"),
                    f"{what} '{definition.get('id')}' chưa có tên; dùng mã làm tên",
                    "proposed",
                    "name",
                    definition.get("id"),
                )
            )
    return findings


def _unused_data_stores(root: XmlElement) -> None:
    used = {r.get("dataStoreRef") for r in root.iter(_q("dataStoreReference"))}
    for store in list(root.iter(_q("dataStore"))):
        if store.get("id") not in used:
            store.getparent().remove(store)


def _drop_diagram(root: XmlElement, element_ids: set[str]) -> None:
    for shape in list(root.iter(f"{{{_DI_NS}}}BPMNShape", f"{{{_DI_NS}}}BPMNEdge")):
        if shape.get("bpmnElement") in element_ids:
            shape.getparent().remove(shape)


def _empty_conditions(process: XmlElement) -> list[Finding]:
    findings = []
    for flow in process.iter(_q("sequenceFlow")):
        condition = flow.find("bpmn:conditionExpression", NSMAP)
        if condition is not None and not (condition.text or "").strip():
            flow.remove(condition)
            findings.append(
                Finding(
                    flow.get("id"),
                    f"Luồng {_label(flow)} có điều kiện rỗng; bỏ điều kiện (luồng không điều kiện)",
                    "changed",
                    "conditionExpression",
                    None,
                )
            )
    return findings


def _messages_from_outside(root: XmlElement, process: XmlElement) -> list[Finding]:
    """Only one process runs in motcua, so a message it waits for comes from outside (another pool,
    a citizen, an agency): a case starts at intake, and a person records the message's arrival."""
    thrown = {
        d.get("messageRef")
        for d in process.iter(_q("messageEventDefinition"))
        if etree.QName(d.getparent()).localname in {"intermediateThrowEvent", "endEvent"}
    }
    event_gateways = {g.get("id") for g in process.iter(_q("eventBasedGateway"))}
    after_event_gateway = {
        f.get("targetRef") for f in process.iter(_q("sequenceFlow")) if f.get("sourceRef") in event_gateways
    }
    findings = []
    for node in list(process.iter(_q("startEvent"), _q("intermediateCatchEvent"), _q("receiveTask"))):
        kind = etree.QName(node).localname
        definition = node.find("bpmn:messageEventDefinition", NSMAP)
        if kind != "receiveTask" and definition is None:
            continue
        ref = definition.get("messageRef") if definition is not None else node.get("messageRef")
        if ref and ref in thrown:
            continue
        if kind == "startEvent":
            if node.getparent() is not process:
                continue  # an event subprocess's start: it never fires, which is what motcua does too
            node.remove(definition)
            said = "chờ thông điệp; hồ sơ trong motcua bắt đầu khi được tiếp nhận, bỏ điều kiện thông điệp"
        elif node.get("id") in after_event_gateway:
            continue  # a branch of an event-based gateway: another branch (a timer) decides
        else:
            if definition is not None:
                node.remove(definition)
            node.tag = _q("userTask")
            node.attrib.pop("messageRef", None)
            node.attrib.pop("instantiate", None)
            _task_sized(root, node.get("id") or "")
            said = "chờ thông điệp từ bên ngoài; thành bước do người xử lý ghi nhận khi nhận được (userTask)"
        findings.append(Finding(node.get("id"), f"{_kind_name(kind)} {_label(node)} {said}", "changed", None))
    return findings


def _alternative_starts(root: XmlElement, process: XmlElement) -> list[Finding]:
    """Several start events are alternative ways in (a message, a signal, a date…); in motcua a
    case starts at intake, so one start leads to a gateway whose branches are the old starts'
    paths, and a person chooses the branch (see :mod:`engine.import_decisions`)."""
    starts = process.findall("bpmn:startEvent", NSMAP)
    if len(starts) < 2:
        return []
    kept, others = starts[0], starts[1:]
    flows = process.findall("bpmn:sequenceFlow", NSMAP)
    taken = {n.get("id") for n in root.iter() if isinstance(n.tag, str) and n.get("id")}
    gateway_id = _fresh(f"{kept.get('id')}_which", taken)
    link_id = _fresh(f"{kept.get('id')}_to_which", taken)
    gateway = etree.Element(_q("exclusiveGateway"), id=gateway_id, name="Hồ sơ bắt đầu theo cách nào?")
    process.insert(process.index(kept) + 1, gateway)
    for start in starts:
        label = " ".join((start.get("name") or start.get("id") or "").split())
        for flow in flows:
            if flow.get("sourceRef") == start.get("id"):
                flow.set("sourceRef", gateway_id)
                flow.set("name", flow.get("name") or label)
        for ref in start.findall("bpmn:outgoing", NSMAP):
            start.remove(ref)
    process.insert(
        process.index(flows[0]) if flows else len(process),
        etree.Element(_q("sequenceFlow"), id=link_id, sourceRef=kept.get("id"), targetRef=gateway_id),
    )
    for definition in list(kept):
        if isinstance(definition.tag, str) and etree.QName(definition).localname.endswith("EventDefinition"):
            kept.remove(definition)
    for start in others:
        process.remove(start)
    _drop_diagram(root, {s.get("id") or "" for s in others})
    _draw_split(root, kept.get("id") or "", gateway_id, link_id)
    names = ", ".join(_label(s) for s in starts)
    return [
        Finding(
            gateway_id,
            f"Quy trình {_label(process)} có {len(starts)} sự kiện bắt đầu ({names}); hồ sơ bắt đầu khi "
            f"tiếp nhận, nên giữ {_label(kept)} và thêm cổng '{gateway_id}' để chọn nhánh",
            "changed",
            None,
        )
    ]


def _kind_name(tag: str) -> str:
    return {"startEvent": "Sự kiện bắt đầu", "receiveTask": "Bước nhận"}.get(tag, "Sự kiện")


def _task_sized(root: XmlElement, element_id: str) -> None:
    """An event's circle redrawn as a task's box around the same centre."""
    for shape in root.iter(f"{{{_DI_NS}}}BPMNShape"):
        if shape.get("bpmnElement") != element_id:
            continue
        bounds = next(
            (c for c in shape if isinstance(c.tag, str) and etree.QName(c).localname == "Bounds"), None
        )
        if bounds is None:
            continue
        try:
            x, y = float(bounds.get("x")), float(bounds.get("y"))
            w, h = float(bounds.get("width")), float(bounds.get("height"))
        except (TypeError, ValueError):
            continue
        bounds.set("x", f"{x + w / 2 - 50:g}")
        bounds.set("y", f"{y + h / 2 - 40:g}")
        bounds.set("width", "100")
        bounds.set("height", "80")


def _unbounded_multi_instance(process: XmlElement) -> list[Finding]:
    """A multi-instance step that says neither how many times nor over which list runs once until
    the designer says otherwise (``loopCardinality`` 1)."""
    findings = []
    for loop in process.iter(_q("multiInstanceLoopCharacteristics")):
        known = {etree.QName(c).localname for c in loop if isinstance(c.tag, str)}
        if known & {"loopCardinality", "loopDataInputRef"}:
            continue
        cardinality = etree.Element(_q("loopCardinality"))
        cardinality.text = "1"
        loop.insert(0, cardinality)
        owner = loop.getparent()
        findings.append(
            Finding(
                owner.get("id"),
                f"Bước lặp nhiều lần {_label(owner)} chưa có số lần hay danh sách để lặp; "
                "đề xuất loopCardinality 1 (hãy sửa theo số mục cần xử lý)",
                "proposed",
                "loopCardinality",
                "1",
            )
        )
    return findings


def _empty_conditional_events(process: XmlElement) -> list[Finding]:
    """A conditional event without a condition: on a boundary it never fires (``False``); in the
    flow it lets the case pass (``True``). The designer writes the real condition."""
    findings = []
    for definition in process.iter(_q("conditionalEventDefinition")):
        condition = definition.find("bpmn:condition", NSMAP)
        if condition is not None and (condition.text or "").strip():
            continue
        if condition is None:
            condition = etree.SubElement(definition, _q("condition"))
        owner = definition.getparent()
        value = "False" if etree.QName(owner).localname == "boundaryEvent" else "True"
        condition.text = value
        findings.append(
            Finding(
                owner.get("id"),
                f"Sự kiện điều kiện {_label(owner)} chưa có điều kiện; đề xuất {value} "
                f"({'không bao giờ xảy ra' if value == 'False' else 'đi tiếp ngay'}), "
                "hãy viết điều kiện thật",
                "proposed",
                "condition",
                value,
            )
        )
    return findings


def _empty_timers(process: XmlElement) -> list[Finding]:
    findings = []
    for timer in process.iter(_q("timerEventDefinition")):
        specs = [c for c in timer if isinstance(c.tag, str) and etree.QName(c).localname in _TIMER_TAGS]
        if any((c.text or "").strip() for c in specs):
            continue
        cycle = any(etree.QName(c).localname == "timeCycle" for c in specs)
        for spec in specs:
            timer.remove(spec)
        tag, value = ("timeCycle", DEFAULT_CYCLE) if cycle else ("timeDuration", DEFAULT_WAIT)
        etree.SubElement(timer, _q(tag)).text = value
        owner = timer.getparent()
        findings.append(
            Finding(
                owner.get("id"),
                f"Hẹn giờ {_label(owner)} chưa có biểu thức; đề xuất {tag} '{value}' (một ngày)",
                "proposed",
                tag,
                value,
            )
        )
    return findings
