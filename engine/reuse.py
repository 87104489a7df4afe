"""Reuse of digitised data (khai thác, sử dụng lại dữ liệu số hóa, Decision 766 indicator 4.3).

The citizen's data store (kho dữ liệu điện tử của tổ chức, cá nhân) is keyed by CCCD. It fills
itself: a component digitised at the counter and a signed electronic result are remembered for the
dossier's applicant (the CCCD of the dossier's verified or overridden identity check), until the
component's validity ends. At receipt, online and at the counter, the
components of the new dossier that match an entry are offered; taking one files the stored PDF as
the component without a new upload and records ``document_reused``, which is what 4.3 counts.

Matching: a component with a ``dataCode`` matches entries with the same code from any procedure
(the same paper, e.g. the ID card); one without matches the same component of the same procedure.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .cases import CaseRuntime, find_case
from .digital_models import CitizenDataItem, DigitisedDocument, IdentityCheck
from .documents import STAFF_UPLOAD_ROLES, DocumentView, StoredFile, attach_stored, document_view
from .domain.vocab import EventKind
from .errors import Forbidden, NotFound, ValidationError
from .models import Case
from .sla import LOCAL_TZ
from .storage import FileStore
from .users import Actor

if TYPE_CHECKING:
    from .results import ResultView
    from .service import Engine

RESULT_PREFIX = "KQ."  # data code of a procedure's result: KQ.<procedure id>


class ReuseOffer(BaseModel):
    """A stored entry that can stand for a component of the dossier."""

    item_id: int
    document_code: str  # the component of the new dossier it matches
    component_name: str
    data_code: str
    filename: str
    sha256: str
    size: int
    source: str  # digitised | result
    source_case_code: str
    stored_at: datetime
    valid_until: date | None


def data_code_of(procedure_id: str, document: dict[str, Any]) -> str:
    """The catalogue key a component is remembered and matched under."""
    return str(document.get("data_code") or "") or f"{procedure_id}.{document.get('code')}"


def case_cccd(session: Session, case: Case) -> str | None:
    """The applicant's CCCD as far as reuse is concerned: that of the latest identity check, when it
    was verified (at the counter or by the portal) or overridden by the clerk with a reason.

    A declared number alone is not enough: the store would otherwise file one person's papers under,
    or offer them to, whoever typed their number.
    """
    latest = session.scalars(
        select(IdentityCheck)
        .where(IdentityCheck.case_id == case.id)
        .order_by(IdentityCheck.id.desc())
        .limit(1)
    ).first()
    if latest is not None and (latest.outcome == "verified" or latest.override_reason is not None):
        return latest.cccd
    return None


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def remember_digitised(
    session: Session, case: Case, row: DigitisedDocument, documents: list[dict[str, Any]], now: datetime
) -> CitizenDataItem | None:
    """Put a digitised component into its owner's data store (nothing when the owner is unknown)."""
    cccd = case_cccd(session, case)
    spec = next((d for d in documents if str(d.get("code")) == row.document_code), None)
    if cccd is None or spec is None:
        return None
    months = spec.get("valid_months")
    today = now.astimezone(LOCAL_TZ).date()
    item = CitizenDataItem(
        cccd=cccd,
        data_code=data_code_of(case.procedure_id, spec),
        name=str(spec.get("name") or row.document_code)[:300],
        filename=row.filename,
        sha256=row.sha256,
        size=row.size,
        source="digitised",
        source_case_code=case.code,
        procedure_id=case.procedure_id,
        document_code=row.document_code,
        stored_at=now,
        valid_until=_add_months(today, int(months)) if months else None,
    )
    session.add(item)
    return item


def remember_case(session: Session, case: Case, documents: list[dict[str, Any]], now: datetime) -> int:
    """Once the applicant is known (identity verified or overridden), put the dossier's components
    digitised before that into their store; returns how many entries were added."""
    cccd = case_cccd(session, case)
    if cccd is None:
        return 0
    known = set(
        session.scalars(
            select(CitizenDataItem.sha256).where(
                CitizenDataItem.cccd == cccd, CitizenDataItem.source_case_code == case.code
            )
        )
    )
    added = 0
    rows = session.scalars(
        select(DigitisedDocument).where(DigitisedDocument.case_id == case.id).order_by(DigitisedDocument.id)
    )
    for row in rows:
        if row.sha256 not in known and remember_digitised(session, case, row, documents, now) is not None:
            known.add(row.sha256)
            added += 1
    return added


def remember_result(session: Session, case: Case, view: ResultView, now: datetime) -> CitizenDataItem | None:
    """Put a signed electronic result into its owner's data store (``KQ.<procedure>``)."""
    cccd = case_cccd(session, case)
    if cccd is None or view.signer is None:
        return None
    item = CitizenDataItem(
        cccd=cccd,
        data_code=RESULT_PREFIX + case.procedure_id,
        name="Kết quả giải quyết",
        filename=view.filename,
        sha256=view.sha256,
        size=view.size,
        source="result",
        source_case_code=case.code,
        procedure_id=case.procedure_id,
        document_code="KQ",
        stored_at=now,
        valid_until=None,
    )
    session.add(item)
    return item


def offers_for(
    session: Session, cccd: str, procedure_id: str, documents: list[dict[str, Any]], today: date
) -> list[ReuseOffer]:
    """Entries of ``cccd``'s store that match a component, newest first, expired ones left out."""
    wanted = {data_code_of(procedure_id, d): d for d in documents}
    if not wanted:
        return []
    rows = session.scalars(
        select(CitizenDataItem)
        .where(CitizenDataItem.cccd == cccd, CitizenDataItem.data_code.in_(list(wanted)))
        .order_by(CitizenDataItem.id.desc())
    )
    found: list[ReuseOffer] = []
    for row in rows:
        if row.valid_until is not None and row.valid_until < today:
            continue
        spec = wanted[row.data_code]
        found.append(
            ReuseOffer(
                item_id=row.id,
                document_code=str(spec.get("code")),
                component_name=str(spec.get("name") or ""),
                data_code=row.data_code,
                filename=row.filename,
                sha256=row.sha256,
                size=row.size,
                source=row.source,
                source_case_code=row.source_case_code,
                stored_at=row.stored_at,
                valid_until=row.valid_until,
            )
        )
    return found


def case_offers(engine: Engine, ref: str) -> list[ReuseOffer]:
    """What the desk is offered for a dossier: its applicant's stored components that match."""
    with engine.db.read() as session:
        case = find_case(session, ref)
        cccd = case_cccd(session, case)
        if cccd is None:
            return []
        documents = list(engine.procedures.load(session, case.procedure_version_id).meta.get("documents", []))
        today = engine.clock.now().astimezone(LOCAL_TZ).date()
        return [
            o
            for o in offers_for(session, cccd, case.procedure_id, documents, today)
            if o.source_case_code != case.code
        ]


def reuse_in_session(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    cccd: str | None,
    item_id: int,
    document_code: str,
    actor: Actor,
    now: datetime,
    store: FileStore,
) -> DocumentView:
    """File entry ``item_id`` of ``cccd``'s store as component ``document_code`` of ``case``."""
    if case.completed:
        raise ValidationError("Hồ sơ đã kết thúc, không sử dụng lại dữ liệu được nữa")
    if cccd is None:
        raise ValidationError(
            "Chưa xác định được số CCCD của người nộp: hãy kiểm tra danh tính trước khi sử dụng lại dữ liệu"
        )
    documents = list(runtime.procedures.load(session, case.procedure_version_id).meta.get("documents", []))
    spec = next((d for d in documents if str(d.get("code")) == document_code), None)
    if spec is None:
        raise ValidationError(
            f"Thành phần hồ sơ '{document_code}' không có trong thủ tục",
            details={"fields": [{"field": "document_code", "message": "không hợp lệ"}]},
        )
    item = session.get(CitizenDataItem, item_id)
    if item is None or item.cccd != cccd:
        # The same answer for an unknown entry and another person's: the store cannot be probed.
        raise NotFound(f"Không tìm thấy dữ liệu số #{item_id} trong kho dữ liệu của người nộp")
    if item.data_code != data_code_of(case.procedure_id, spec):
        raise ValidationError(
            f"Dữ liệu số '{item.name}' không dùng được cho thành phần {document_code} "
            f"({spec.get('name') or ''})".rstrip()
        )
    today = now.astimezone(LOCAL_TZ).date()
    if item.valid_until is not None and item.valid_until < today:
        raise ValidationError(
            f"Dữ liệu số '{item.name}' đã hết hiệu lực ngày {item.valid_until:%d/%m/%Y}: cần nộp bản mới"
        )
    if not store.exists(item.sha256):
        raise NotFound(f"Tệp của dữ liệu số #{item_id} không còn trong kho lưu trữ")
    row = attach_stored(
        runtime,
        session,
        case,
        actor,
        now,
        EventKind.DOCUMENT_REUSED,
        StoredFile(
            item.filename,
            "application/pdf" if item.filename.lower().endswith(".pdf") else "application/xml",
            item.size,
            item.sha256,
        ),
        document_code,
        {"item_id": item.id, "data_code": item.data_code, "source_case": item.source_case_code},
    )
    return document_view(row)


def reuse_component(engine: Engine, ref: str, item_id: int, document_code: str, actor: Actor) -> DocumentView:
    """At the counter: take a stored entry as a component of the dossier (no new upload)."""
    if not actor.roles & STAFF_UPLOAD_ROLES:
        raise Forbidden("Bạn không có quyền sử dụng lại dữ liệu số cho hồ sơ")
    with engine.db.unit_of_work() as session:
        case = find_case(session, ref)
        return reuse_in_session(
            engine.cases,
            session,
            case,
            case_cccd(session, case),
            item_id,
            document_code,
            actor,
            engine.clock.now(),
            engine.files,
        )
