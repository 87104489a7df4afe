"""Procedure definitions: our metadata read from the BPMN library.

The BPMN file is the single source of truth for a procedure (see ``bpmn/README.md``); this module
turns its ``motcua:`` extension elements into typed values the runtime and the linter share. It is
pure: it takes bytes or lxml trees and returns values, apart from :func:`load_library`, which only
reads files. Semantic rules (known roles, time budgets, expressions) belong to :mod:`engine.lint`;
here we reject only what cannot be read at all, so the linter can report everything else at once.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import jsonschema
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from .domain.vocab import STEP_ROLES
from .errors import ProcedureError, UnsafeXmlError
from .messages import vietnamese
from .refusals import element_label, json_reason, schema_reason, translate

#: An ``lxml.etree._Element``; lxml ships no type information, so it is ``Any`` to mypy.
XmlElement: TypeAlias = Any

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MOTCUA_NS = "urn:motcua:bpmn:1"
NSMAP = {"bpmn": BPMN_NS, "motcua": MOTCUA_NS}

#: Who may hold a step; lanes are named after these (glossary: desk, specialist, head, director...).
ROLES = STEP_ROLES

_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_TASKS = {"task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask"}
_ACTIVITIES = {"businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
_GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
#: BPMN elements that are flow nodes (things a token can sit on), by local name.
FLOW_NODE_TAGS = frozenset(_EVENTS | _TASKS | _ACTIVITIES | _GATEWAYS)


class DocumentSpec(BaseModel):
    """One component of the dossier (thành phần hồ sơ) the desk checks at receipt."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    name: str
    kind: Literal["original", "copy", "certified_copy"]
    count: int = 1
    required: bool = True
    # Reuse (kho dữ liệu điện tử): components with the same dataCode in any procedure are the same
    # paper (e.g. "CCCD"); without one, only the same component of the same procedure matches.
    data_code: str = Field(default="", max_length=50, pattern=r"^[A-Za-z0-9_.-]*$")
    # How long a digitised copy stays reusable (months); None: until replaced.
    valid_months: int | None = Field(default=None, ge=1, le=600)


class DueExtension(BaseModel):
    """A step answer that lengthens the statutory time, as the law allows for some requests
    (e.g. bulk or complex copy requests: up to 2 more working days); granted once per case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    working_days: float = Field(gt=0, le=30)
    note: str = ""


class ProcedureMeta(BaseModel):
    """Statutory facts of a procedure, as published (or chosen by us and marked configurable)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    code: str
    field: str
    legal_time: float
    legal_unit: Literal["same_working_day", "working_days", "working_hours", "calendar_days"]
    fee: int = 0
    # Whether the applicant's wait for a fee (status 6) counts toward the processing time.
    fee_wait_counts: bool = False
    # The fee can be paid online through the payment gateway (Decision 766 indicator 3.5).
    payment_integrated: bool = False
    online_level: Literal["full", "partial"]
    result_type: Literal["paper", "electronic"]
    receipt_cutoff: datetime.time | None = None
    clock_mode: Literal["restart", "extend"] = "restart"
    # A second supplementation request (at the desk or through it): refused by law (rules.md), or, where
    # the province allows it, made after a head of department's approval and flagged.
    repeat_supplement: Literal["refuse", "head_approval"] = "refuse"
    documents: tuple[DocumentSpec, ...] = ()
    configurable: dict[str, str] = {}
    legal_basis: tuple[str, ...] = ()
    due_extensions: tuple[DueExtension, ...] = ()

    def legal_hours(self, hours_per_day: float = 8.0) -> float:
        """Statutory time in working hours, the unit step allocations are written in.

        A same-working-day procedure has at most its days (the day of receipt counts as the first):
        one accepted at 07:30 has the whole day. Calendar days include days off, so only the
        working share of them (5 of 7) can hold allocated work; counting them as full working days
        would let a model promise more work than the calendar allows.
        """
        if self.legal_unit == "working_hours":
            return self.legal_time
        if self.legal_unit in ("working_days", "same_working_day"):
            return self.legal_time * hours_per_day
        return self.legal_time * hours_per_day * 5 / 7


class ElementMeta(BaseModel):
    """What the engine needs to know about one flow node: who does it, how long, which status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    type: str
    process_id: str
    lane: str | None = None
    unit: str | None = None
    role: str | None = None
    hours: float | None = None
    kind: str | None = None
    status: int | None = None
    form: dict[str, Any] | None = None


@dataclass
class ProcedureBundle:
    """One deployable version of a procedure: its file plus the shared files it calls."""

    meta: ProcedureMeta
    main: XmlElement
    called: dict[str, XmlElement]
    elements: dict[str, ElementMeta]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def process_id(self) -> str:
        """The procedure id (the main process id), the key the engine deploys and starts cases by."""
        return self.meta.id


# --------------------------------------------------------------------------------------------- XML


def _local_parse(data: bytes) -> XmlElement:
    """Hardened fallback parser: no entities, no DTD, no network (BPMN may come from uploads)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        reason = translate(str(exc)) or "cấu trúc XML sai"
        raise UnsafeXmlError(
            f"Tệp BPMN không phải XML hợp lệ: {reason}", details={"detail": str(exc)}
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise UnsafeXmlError("Tệp BPMN không được chứa khai báo DOCTYPE")
    return root


def _pick_parser() -> Callable[[bytes], XmlElement]:
    # engine.xmlsafe is the project's one hardened parser; fall back while it does not exist.
    try:
        from . import xmlsafe  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return _local_parse
    parse: Callable[[bytes], XmlElement] = xmlsafe.parse_xml
    return parse


#: ``parse_xml(data: bytes) -> element``: the hardened parser every BPMN goes through.
parse_xml = _pick_parser()


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _ns(tag: Any) -> str:
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


def _ext(node: XmlElement, name: str) -> XmlElement | None:
    """The motcua extension ``name`` directly under the node's extensionElements."""
    return node.find(f"bpmn:extensionElements/motcua:{name}", NSMAP)


def processes(root: XmlElement) -> list[XmlElement]:
    """Process elements of a definitions document, in document order."""
    return list(root.findall("bpmn:process", NSMAP))


def flow_nodes(process: XmlElement) -> Iterable[XmlElement]:
    """Flow nodes of a process, including those inside embedded sub-processes."""
    for node in process.iter():
        if _ns(node.tag) == BPMN_NS and _local(node.tag) in FLOW_NODE_TAGS:
            yield node


def lanes_by_node(process: XmlElement) -> dict[str, str]:
    """Flow node id → name of the innermost lane that lists it (lanes are roles, named in Vietnamese)."""
    found: dict[str, str] = {}
    # iter() is document order, so a nested lane overrides its parent.
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        label = lane.get("name") or lane.get("id") or ""
        for ref in lane.findall("bpmn:flowNodeRef", NSMAP):
            if ref.text:
                found[ref.text.strip()] = label
    return found


def units_by_node(process: XmlElement) -> dict[str, str]:
    """Flow node id → the unit its innermost lane is assigned to (``<motcua:assignment unit="…"/>``
    in the lane's extensionElements): the department whose staff work the lane's steps."""
    found: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        assignment = _ext(lane, "assignment")
        unit = (assignment.get("unit") or "").strip() if assignment is not None else ""
        for ref in lane.findall("bpmn:flowNodeRef", NSMAP):
            if ref.text:
                if unit:
                    found[ref.text.strip()] = unit
                else:  # a nested lane without its own unit does not inherit its parent's
                    found.pop(ref.text.strip(), None)
    return found


# ---------------------------------------------------------------------------------------- metadata


def _executable_process(root: XmlElement, process_id: str | None) -> XmlElement:
    candidates = processes(root)
    if process_id is not None:
        for process in candidates:
            if process.get("id") == process_id:
                return process
        raise ProcedureError(f"Không tìm thấy quy trình '{process_id}' trong tệp BPMN")
    executable = [p for p in candidates if p.get("isExecutable") == "true"] or candidates
    if len(executable) != 1:
        raise ProcedureError(
            f"Tệp thủ tục phải có đúng một quy trình thực thi (isExecutable), tìm thấy {len(executable)}"
        )
    return executable[0]


#: Field names of :class:`ProcedureMeta` and its parts as the modeller writes them in the XML.
XML_ATTRIBUTES = {
    "legal_time": "legalTime",
    "legal_unit": "legalUnit",
    "online_level": "onlineLevel",
    "result_type": "resultType",
    "payment_integrated": "paymentIntegrated",
    "receipt_cutoff": "receiptCutoff",
    "clock_mode": "clockMode",
    "repeat_supplement": "repeatSupplement",
    "due_extensions": "motcua:dueExtension",
    "working_days": "workingDays",
    "documents": "motcua:document",
    "data_code": "dataCode",
    "valid_months": "validMonths",
    "configurable": "motcua:configurable",
}


_DOCUMENT_FIELDS = {"dataCode": "data_code", "validMonths": "valid_months"}


def xml_name(field_name: str) -> str:
    return XML_ATTRIBUTES.get(field_name, field_name)


def _validation_message(exc: PydanticValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(xml_name(str(p)) for p in err["loc"])
        parts.append(f"{field}: {vietnamese(err, field)}")
    return "; ".join(parts)


def read_procedure_meta(root: XmlElement, process_id: str | None = None) -> ProcedureMeta:
    """Read ``motcua:procedure`` of the procedure's process (the only executable one by default)."""
    process = _executable_process(root, process_id)
    pid = process.get("id") or ""
    proc = _ext(process, "procedure")
    if proc is None:
        raise ProcedureError(f"Quy trình '{pid}' thiếu thông tin thủ tục (motcua:procedure)")
    attrs = proc.attrib
    data: dict[str, Any] = {
        "id": pid,
        "name": process.get("name") or "",
        "code": attrs.get("code"),
        "field": attrs.get("field"),
        "legal_time": attrs.get("legalTime"),
        "legal_unit": attrs.get("legalUnit"),
        "online_level": attrs.get("onlineLevel"),
        "result_type": attrs.get("resultType"),
    }
    optional = {
        "fee": "fee",
        "receipt_cutoff": "receiptCutoff",
        "clock_mode": "clockMode",
        "repeat_supplement": "repeatSupplement",
        "fee_wait_counts": "feeWaitCounts",
        "payment_integrated": "paymentIntegrated",
    }
    data.update({key: attrs[attr] for key, attr in optional.items() if attr in attrs})
    data["documents"] = tuple(
        {_DOCUMENT_FIELDS.get(k, k): v for k, v in doc.attrib.items()}
        for doc in proc.findall("motcua:document", NSMAP)
    )
    data["due_extensions"] = tuple(
        {"field": e.get("field"), "working_days": e.get("workingDays"), "note": e.get("note", "")}
        for e in proc.findall("motcua:dueExtension", NSMAP)
    )
    bases = (" ".join((b.text or "").split()) for b in proc.findall("motcua:legalBasis", NSMAP))
    data["legal_basis"] = tuple(text for text in bases if text)
    data["configurable"] = {
        c.get("field", ""): c.get("note", "") for c in proc.findall("motcua:configurable", NSMAP)
    }
    missing = [k for k, v in data.items() if v is None]
    if missing:
        names = ", ".join(sorted(map(xml_name, missing)))
        raise ProcedureError(f"Quy trình '{pid}': motcua:procedure thiếu thuộc tính {names}")
    try:
        return ProcedureMeta.model_validate(data)
    except PydanticValidationError as exc:
        raise ProcedureError(
            f"Quy trình '{pid}': thông tin thủ tục không hợp lệ ({_validation_message(exc)})"
        ) from exc


def _read_form(node: XmlElement, text: str | None) -> dict[str, Any]:
    node_id, label = node.get("id"), _label(node)
    try:
        form = json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ProcedureError(
            f"Biểu mẫu của bước {label} không phải JSON hợp lệ: "
            f"{json_reason(exc.msg, exc.lineno, exc.colno)}",
            details={"element_id": node_id, "detail": str(exc)},
        ) from exc
    if not isinstance(form, dict):
        raise ProcedureError(
            f"Biểu mẫu của bước {label} phải là một JSON Schema dạng đối tượng",
            details={"element_id": node_id},
        )
    try:
        # The engine validates task data against it; a broken schema would fail every submission.
        jsonschema.Draft202012Validator.check_schema(form)
    except jsonschema.SchemaError as exc:
        raise ProcedureError(
            f"Biểu mẫu của bước {label} không phải JSON Schema hợp lệ: "
            f"{schema_reason(exc.path, exc.validator)}",
            details={"element_id": node_id, "detail": exc.message},
        ) from exc
    return form


def _read_number(node: XmlElement, value: str | None, what: str, convert: Callable[[str], Any]) -> Any:
    if value is None:
        return None
    try:
        return convert(value)
    except ValueError as exc:
        raise ProcedureError(
            f"Bước {_label(node)}: {what} '{value}' không phải là số hợp lệ",
            details={"element_id": node.get("id")},
        ) from exc


def _label(node: XmlElement) -> str:
    return element_label(node.get("id"), node.get("name"))


def read_elements(root: XmlElement) -> dict[str, ElementMeta]:
    """Metadata of every flow node that carries a step, status or form, plus every user task."""
    found: dict[str, ElementMeta] = {}
    for process in processes(root):
        pid = process.get("id") or ""
        lanes, units = lanes_by_node(process), units_by_node(process)
        for node in flow_nodes(process):
            node_id = node.get("id") or ""
            tag = _local(node.tag)
            step, status, form = _ext(node, "step"), _ext(node, "status"), _ext(node, "form")
            if step is None and status is None and form is None and tag != "userTask":
                continue
            data: dict[str, Any] = {
                "id": node_id,
                "name": node.get("name") or "",
                "type": tag,
                "process_id": pid,
                "lane": lanes.get(node_id),
                # A step's own unit wins over its lane's (an assignment rule on one task).
                "unit": ((step.get("unit") if step is not None else None) or "").strip()
                or units.get(node_id),
            }
            if step is not None:
                role = step.get("role")
                if not role:
                    raise ProcedureError(
                        f"Bước {_label(node)} thiếu vai trò (motcua:step role)",
                        details={"element_id": node_id},
                    )
                data["role"] = role
                data["hours"] = _read_number(node, step.get("hours"), "số giờ", float)
                data["kind"] = step.get("kind")
            if status is not None:
                data["status"] = _read_number(node, status.get("code"), "mã trạng thái", int)
                if data["status"] is None:
                    raise ProcedureError(
                        f"Bước {_label(node)} thiếu mã trạng thái (motcua:status code)",
                        details={"element_id": node_id},
                    )
            if form is not None:
                data["form"] = _read_form(node, form.text)
            found[node_id] = ElementMeta.model_validate(data)
    return found


# ------------------------------------------------------------------------------------------ bundle


def called_elements(root: XmlElement) -> list[tuple[str, str]]:
    """(call activity id, calledElement) pairs of a document, in document order."""
    return [
        (call.get("id") or "", call.get("calledElement") or "")
        for call in root.iter(f"{{{BPMN_NS}}}callActivity")
    ]


def build_bundle(main_bytes: bytes, main_name: str, shared: Mapping[str, bytes]) -> ProcedureBundle:
    """Assemble what one procedure version deploys: its file and, transitively, the shared files it calls.

    Only the shared files actually called are included, so editing an unrelated shared file does
    not create a new version of every procedure.
    """
    main = parse_xml(main_bytes)
    meta = read_procedure_meta(main)
    by_process: dict[str, tuple[str, XmlElement]] = {}
    for name, data in shared.items():
        root = parse_xml(data)
        for process in processes(root):
            pid = process.get("id") or ""
            if pid in by_process and by_process[pid][0] != name:
                raise ProcedureError(
                    f"Quy trình dùng chung '{pid}' được định nghĩa hai lần ({by_process[pid][0]}, {name})"
                )
            by_process[pid] = (name, root)
    own = {p.get("id") for p in processes(main)}
    called: dict[str, XmlElement] = {}
    files: dict[str, bytes] = {main_name: main_bytes}
    pending = called_elements(main)
    while pending:
        call_id, target = pending.pop(0)
        if target in own or target in called:
            continue
        if target not in by_process:
            raise ProcedureError(
                f"Bước '{call_id}' gọi quy trình '{target}' không tồn tại", details={"element_id": call_id}
            )
        name, root = by_process[target]
        called[target] = root
        files[name] = shared[name]
        pending.extend(called_elements(root))
    elements = read_elements(main)
    seen_roots = {id(main)}
    for root in called.values():
        if id(root) not in seen_roots:  # one shared file may hold several called processes
            seen_roots.add(id(root))
            elements.update(read_elements(root))
    return ProcedureBundle(meta=meta, main=main, called=called, elements=elements, files=files)


def load_library(directory: Path) -> list[ProcedureBundle]:
    """Every top-level ``*.bpmn`` is a procedure; ``shared/*.bpmn`` are the parts they call."""
    shared = {
        f"shared/{path.name}": path.read_bytes() for path in sorted((directory / "shared").glob("*.bpmn"))
    }
    return [build_bundle(path.read_bytes(), path.name, shared) for path in sorted(directory.glob("*.bpmn"))]
