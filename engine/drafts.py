"""Designer drafts: save an edit without deploying it, reopen it later, drop it on deployment.

A draft is stored even when it does not validate yet (that is what drafts are for), but only after
the hardened XML parser accepted it and only for the procedure it claims to be: nothing unsafe or
misfiled is ever stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .definitions import processes
from .errors import ValidationError
from .models import ProcedureDraft
from .xmlsafe import parse_xml


@dataclass(frozen=True)
class DraftView:
    procedure_id: str
    xml: str
    base_version: int
    valid: bool
    saved_at: datetime
    saved_by: str


def check_draft(procedure_id: str, xml: bytes) -> str:
    """The draft's text once it parsed safely and holds the procedure's process; raises otherwise."""
    root = parse_xml(xml, source=f"{procedure_id}.bpmn")
    if procedure_id not in {p.get("id") for p in processes(root)}:
        raise ValidationError(f"Tệp BPMN không chứa quy trình '{procedure_id}'; bản nháp không được lưu")
    try:
        return xml.decode("utf-8")
    except UnicodeDecodeError as exc:  # the parser accepts declared encodings; drafts are stored as UTF-8
        raise ValidationError("Bản nháp phải được mã hoá UTF-8") from exc


def save(
    session: Session, procedure_id: str, text: str, base_version: int, valid: bool, by: str, now: datetime
) -> DraftView:
    row = session.get(ProcedureDraft, procedure_id)
    if row is None:
        row = ProcedureDraft(procedure_id=procedure_id)
        session.add(row)
    row.xml, row.base_version, row.valid, row.saved_by, row.saved_at = text, base_version, valid, by, now
    session.flush()
    return view(row)


def load(session: Session, procedure_id: str) -> DraftView | None:
    row = session.get(ProcedureDraft, procedure_id)
    return view(row) if row is not None else None


def discard(session: Session, procedure_id: str) -> bool:
    result = session.execute(delete(ProcedureDraft).where(ProcedureDraft.procedure_id == procedure_id))
    return bool(getattr(result, "rowcount", 0))


def view(row: ProcedureDraft) -> DraftView:
    return DraftView(row.procedure_id, row.xml, row.base_version, row.valid, row.saved_at, row.saved_by)
