"""Complaints and feedback (phản ánh, kiến nghị — PAKN) about dossiers and procedures.

A citizen files one on a dossier (its code and lookup secret prove the link), on a procedure, or on
neither, with a name or anonymously, and receives the item's own code and secret to follow it and
rate the answer. Staff receive, assign, answer within ``answer_working_days`` working days and
publish the answer within ``publish_working_days`` working days (rules.md: 15 and 2; both settings).
Each step is an event of the item's own log (``feedback_events``): complaints are not case events
and never change a dossier. Decision 766 indicators 5.1–5.3 are computed from these records
(:mod:`engine.feedback_stats`).
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import citizen, facts_store, feedback_stats, sla
from .cases import secret_digest
from .digital_models import FeedbackEvent, FeedbackItem
from .errors import ConflictError, Forbidden, NotFound, ValidationError
from .models import Case, User
from .users import Actor

if TYPE_CHECKING:
    from .service import Engine

KINDS: dict[str, str] = {"complaint": "Phản ánh", "proposal": "Kiến nghị"}
STATUS_LABELS: dict[str, str] = {
    "received": "Đã tiếp nhận",
    "assigned": "Đang xử lý",
    "answered": "Đã trả lời, chờ công khai",
    "published": "Đã công khai kết quả",
}
RATINGS: dict[int, str] = {3: "Rất hài lòng", 2: "Hài lòng", 1: "Không hài lòng"}
MANAGER_ROLES = frozenset({"head_of_department", "director", "admin"})
HANDLER_ROLES = frozenset({"desk_clerk", "specialist", "head_of_department", "director", "other_department"})
WRONG_FEEDBACK_SECRET = "Mã phản ánh hoặc mã tra cứu không đúng"


@dataclass(frozen=True)
class FeedbackPolicy:
    """Working-day deadlines (rules.md: processed ≤ 15, answer published ≤ 2)."""

    answer_working_days: float = 15
    publish_working_days: float = 2

    @classmethod
    def from_env(cls) -> FeedbackPolicy:
        """``MOTCUA_FEEDBACK_ANSWER_DAYS`` and ``MOTCUA_FEEDBACK_PUBLISH_DAYS``."""
        base = cls()
        return cls(
            answer_working_days=float(
                os.environ.get("MOTCUA_FEEDBACK_ANSWER_DAYS", base.answer_working_days)
            ),
            publish_working_days=float(
                os.environ.get("MOTCUA_FEEDBACK_PUBLISH_DAYS", base.publish_working_days)
            ),
        )


class NewFeedback(BaseModel):
    """What the public form and the API accept."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["complaint", "proposal"] = "complaint"
    content: str = Field(min_length=10, max_length=5000)
    case_code: str | None = Field(default=None, max_length=80)
    case_secret: str | None = Field(default=None, max_length=64)
    procedure_id: str | None = Field(default=None, max_length=100)
    anonymous: bool = False
    name: str | None = Field(default=None, max_length=300)
    contact: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _who(self) -> NewFeedback:
        if not self.anonymous and not (self.name and self.contact):
            raise ValueError("cần họ tên và số điện thoại hoặc email, hoặc chọn gửi ẩn danh")
        if self.case_code and not self.case_secret:
            raise ValueError("phản ánh về hồ sơ cần mã tra cứu của hồ sơ")
        return self


class FeedbackView(BaseModel):
    id: int
    code: str
    kind: str
    kind_label: str
    case_code: str | None
    procedure_id: str | None
    anonymous: bool
    citizen_name: str | None
    contact: str | None
    content: str
    status: str
    status_label: str
    assignee: str | None
    received_at: datetime
    due_at: datetime
    answer: str | None
    answered_at: datetime | None
    answered_by: str | None
    publish_due_at: datetime | None
    published_at: datetime | None
    rating: int | None
    rating_label: str | None
    repeated_of: int | None
    secret: str | None = None  # only in the answer to filing: shown once, stored hashed


class FeedbackEventView(BaseModel):
    seq: int
    at: datetime
    actor: str
    kind: str
    payload: dict[str, Any]


def _view(row: FeedbackItem, case_code: str | None, *, public: bool = False) -> FeedbackView:
    return FeedbackView(
        id=row.id,
        code=row.code,
        kind=row.kind,
        kind_label=KINDS[row.kind],
        case_code=case_code,
        procedure_id=row.procedure_id,
        anonymous=row.anonymous,
        # The public list of published answers never shows who complained.
        citizen_name=None if public else row.citizen_name,
        contact=None if public else row.contact,
        content=row.content,
        status=row.status,
        status_label=STATUS_LABELS[row.status],
        assignee=None if public else row.assignee,
        received_at=row.received_at,
        due_at=row.due_at,
        answer=row.answer,
        answered_at=row.answered_at,
        answered_by=None if public else row.answered_by,
        publish_due_at=row.publish_due_at,
        published_at=row.published_at,
        rating=row.rating,
        rating_label=RATINGS.get(row.rating) if row.rating else None,
        repeated_of=row.repeated_of,
    )


def _case_code(session: Session, row: FeedbackItem) -> str | None:
    return session.scalar(select(Case.code).where(Case.id == row.case_id)) if row.case_id else None


def _log(
    session: Session, row: FeedbackItem, kind: str, actor: str, at: datetime, payload: Mapping[str, Any]
) -> None:
    seq = (
        session.scalar(select(func.max(FeedbackEvent.seq)).where(FeedbackEvent.feedback_id == row.id)) or 0
    ) + 1
    session.add(
        FeedbackEvent(feedback_id=row.id, seq=seq, at=at, actor=actor, kind=kind, payload=dict(payload))
    )


def _parse(value: NewFeedback | Mapping[str, Any]) -> NewFeedback:
    if isinstance(value, NewFeedback):
        return value
    from pydantic import ValidationError as PydanticValidationError

    try:
        return NewFeedback.model_validate(dict(value))
    except PydanticValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "form", "message": err["msg"]}
            for err in exc.errors()
        ]
        text = "; ".join(p["message"] for p in problems)
        raise ValidationError(
            f"Phản ánh, kiến nghị chưa hợp lệ: {text}", details={"fields": problems}
        ) from exc


def file_feedback(
    engine: Engine, request: NewFeedback | Mapping[str, Any], policy: FeedbackPolicy | None = None
) -> FeedbackView:
    """A citizen files a phản ánh, kiến nghị; the view carries the item's secret once.

    On a dossier the dossier's secret is checked first (same message for a wrong code or secret);
    an earlier item on the same dossier makes this one a repeat (it counts against indicator 5.3).
    """
    req = _parse(request)
    rules = policy or FeedbackPolicy.from_env()
    now = engine.clock.now()
    with engine.db.unit_of_work() as session:
        engine.calendar.refresh(session)
        case_id: int | None = None
        procedure_id = req.procedure_id or None
        if req.case_code:
            case = citizen.case_by_secret(session, req.case_code, req.case_secret or "")
            case_id, procedure_id = case.id, case.procedure_id
        elif procedure_id:
            engine.procedures.latest(session, procedure_id)  # NotFound for an unknown procedure
        earlier = (
            session.scalar(
                select(FeedbackItem.id)
                .where(FeedbackItem.case_id == case_id)
                .order_by(FeedbackItem.id)
                .limit(1)
            )
            if case_id is not None
            else None
        )
        secret = secrets.token_hex(4).upper()
        row = FeedbackItem(
            code=f"TMP-{secrets.token_hex(8)}",
            secret_hash="",
            kind=req.kind,
            case_id=case_id,
            procedure_id=procedure_id,
            anonymous=req.anonymous,
            citizen_name=None if req.anonymous else req.name,
            contact=None if req.anonymous else req.contact,
            content=req.content,
            status="received",
            received_at=now,
            due_at=engine.calendar.add_working_days(now, rules.answer_working_days),
            repeated_of=earlier,
        )
        session.add(row)
        session.flush()
        if case_id is not None and row.kind == "complaint":
            facts_store.mark_stale(session, case_id)  # the dossier's complaints are report facts
        local_day = now.astimezone(sla.LOCAL_TZ).strftime("%y%m%d")
        row.code = f"PAKN-{local_day}-{row.id:05d}"
        row.secret_hash = secret_digest(row.code, secret)
        _log(
            session,
            row,
            "feedback_received",
            "citizen",
            now,
            {
                "kind": row.kind,
                "case_id": case_id,
                "procedure_id": procedure_id,
                "anonymous": row.anonymous,
                "due_at": row.due_at.isoformat(),
                "repeated_of": earlier,
            },
        )
        view = _view(row, req.case_code or None)
    view.secret = secret
    return view


def _item(session: Session, code: str, *, lock: bool = False) -> FeedbackItem:
    """The item by code; ``lock`` holds its row (PostgreSQL) so two writers of one item queue and its
    log's sequence numbers cannot collide (SQLite writers are serialised already)."""
    query = select(FeedbackItem).where(FeedbackItem.code == (code or "").strip())
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"Không tìm thấy phản ánh, kiến nghị '{code}'")
    return row


def _item_by_secret(session: Session, code: str, secret: str, *, lock: bool = False) -> FeedbackItem:
    query = select(FeedbackItem).where(FeedbackItem.code == (code or "").strip())
    row = session.scalar(query.with_for_update() if lock else query)
    expected = row.secret_hash if row is not None else "0" * 64
    if row is None or not hmac.compare_digest(
        expected, secret_digest(row.code, (secret or "").strip().upper())
    ):
        raise NotFound(WRONG_FEEDBACK_SECRET)
    return row


def assign_feedback(engine: Engine, code: str, username: str, actor: Actor) -> FeedbackView:
    """A head hands the item to a colleague who answers it."""
    if not actor.roles & MANAGER_ROLES:
        raise Forbidden("Chỉ lãnh đạo được phân công xử lý phản ánh, kiến nghị")
    with engine.db.unit_of_work() as session:
        row = _item(session, code, lock=True)
        if row.status not in ("received", "assigned"):
            raise ConflictError("Phản ánh, kiến nghị đã được trả lời, không phân công lại được")
        user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
        if user is None or not set(user.roles.split(",")) & HANDLER_ROLES:
            raise ValidationError(f"Không có cán bộ '{username}' có thể xử lý phản ánh, kiến nghị")
        row.assignee = user.username
        row.status = "assigned"
        _log(
            session, row, "feedback_assigned", actor.username, engine.clock.now(), {"assignee": user.username}
        )
        return _view(row, _case_code(session, row))


def answer_feedback(
    engine: Engine, code: str, answer: str, actor: Actor, policy: FeedbackPolicy | None = None
) -> FeedbackView:
    """The assignee (or a head) answers; the publication deadline starts now."""
    text = (answer or "").strip()
    if len(text) < 10:
        raise ValidationError("Nội dung trả lời phải có ít nhất 10 ký tự")
    rules = policy or FeedbackPolicy.from_env()
    now = engine.clock.now()
    with engine.db.unit_of_work() as session:
        engine.calendar.refresh(session)
        row = _item(session, code, lock=True)
        if row.assignee != actor.username and not actor.roles & MANAGER_ROLES:
            raise Forbidden("Chỉ cán bộ được phân công hoặc lãnh đạo được trả lời phản ánh, kiến nghị")
        if row.status in ("answered", "published"):
            raise ConflictError("Phản ánh, kiến nghị đã được trả lời")
        row.answer = text[:10000]
        row.answered_at = now
        row.answered_by = actor.username
        row.publish_due_at = engine.calendar.add_working_days(now, rules.publish_working_days)
        row.status = "answered"
        _log(
            session,
            row,
            "feedback_answered",
            actor.username,
            now,
            {"on_time": now <= row.due_at, "publish_due_at": row.publish_due_at.isoformat()},
        )
        return _view(row, _case_code(session, row))


def publish_feedback(engine: Engine, code: str, actor: Actor) -> FeedbackView:
    """A head publishes the answer on the public page."""
    if not actor.roles & MANAGER_ROLES:
        raise Forbidden("Chỉ lãnh đạo được công khai kết quả xử lý phản ánh, kiến nghị")
    now = engine.clock.now()
    with engine.db.unit_of_work() as session:
        row = _item(session, code, lock=True)
        if row.status != "answered":
            raise ConflictError("Chỉ công khai được phản ánh, kiến nghị đã trả lời và chưa công khai")
        row.published_at = now
        row.status = "published"
        on_time = row.publish_due_at is not None and now <= row.publish_due_at
        _log(session, row, "feedback_published", actor.username, now, {"on_time": on_time})
        return _view(row, _case_code(session, row))


def rate_feedback(engine: Engine, code: str, secret: str, score: int) -> FeedbackView:
    """The citizen rates the published answer once (1 not satisfied, 2 satisfied, 3 very satisfied)."""
    if score not in RATINGS:
        raise ValidationError("Mức đánh giá phải là 1 (không hài lòng), 2 (hài lòng) hoặc 3 (rất hài lòng)")
    now = engine.clock.now()
    with engine.db.unit_of_work() as session:
        row = _item_by_secret(session, code, secret, lock=True)
        if row.status != "published":
            raise ConflictError("Chỉ đánh giá được sau khi câu trả lời đã được công khai")
        if row.rating is not None:
            raise ConflictError("Phản ánh, kiến nghị này đã được đánh giá")
        row.rating = score
        row.rated_at = now
        _log(session, row, "feedback_rated", "citizen", now, {"rating": score})
        return _view(row, _case_code(session, row))


def feedback_for_citizen(engine: Engine, code: str, secret: str) -> FeedbackView:
    """The citizen's own item (code + secret)."""
    with engine.db.read() as session:
        row = _item_by_secret(session, code, secret)
        return _view(row, _case_code(session, row))


def get_feedback(engine: Engine, code: str, actor: Actor) -> tuple[FeedbackView, list[FeedbackEventView]]:
    """One item with its log, for staff."""
    _require_staff(actor)
    with engine.db.read() as session:
        row = _item(session, code)
        events = session.scalars(
            select(FeedbackEvent).where(FeedbackEvent.feedback_id == row.id).order_by(FeedbackEvent.seq)
        )
        log = [
            FeedbackEventView(seq=e.seq, at=e.at, actor=e.actor, kind=e.kind, payload=e.payload)
            for e in events
        ]
        return _view(row, _case_code(session, row)), log


def _require_staff(actor: Actor) -> None:
    if not actor.roles & (HANDLER_ROLES | MANAGER_ROLES | {"auditor"}):
        raise Forbidden("Bạn không có quyền xem phản ánh, kiến nghị")


class FeedbackRow(BaseModel):
    item: FeedbackView
    colour: str  # green | amber | red against the step's deadline; grey when published
    deadline: datetime | None


def feedback_board(engine: Engine, actor: Actor, *, open_only: bool = True) -> list[FeedbackRow]:
    """Items for staff, oldest deadline first, each with its SLA colour."""
    _require_staff(actor)
    now = engine.clock.now()
    with engine.db.read() as session:
        engine.calendar.refresh(session)
        query = select(FeedbackItem).order_by(FeedbackItem.due_at, FeedbackItem.id)
        if open_only:
            query = query.where(FeedbackItem.status != "published")
        rows = []
        for row in session.scalars(query):
            colour = "grey"
            if row.status == "published":
                deadline, start = None, None
            elif row.status == "answered":
                deadline, start = row.publish_due_at, row.answered_at
            else:
                deadline, start = row.due_at, row.received_at
            if deadline is not None and start is not None:
                colour = sla.colour(now, start, deadline, engine.calendar, engine.settings.amber_threshold)
            rows.append(
                FeedbackRow(item=_view(row, _case_code(session, row)), colour=colour, deadline=deadline)
            )
        return rows


def published_feedback(engine: Engine, limit: int = 50) -> list[FeedbackView]:
    """Published answers for the public page (without the citizen's name or contact)."""
    with engine.db.read() as session:
        rows = session.scalars(
            select(FeedbackItem)
            .where(FeedbackItem.status == "published")
            .order_by(FeedbackItem.published_at.desc())
            .limit(max(1, min(limit, 200)))
        )
        return [_view(r, None, public=True) for r in rows]


def feedback_numbers(engine: Engine, first: date, last: date) -> feedback_stats.FeedbackIndicators:
    """Indicators 5.1–5.3 for items received between two local dates (for the 766 scorecard)."""
    from .reports import local_bounds

    start, end = local_bounds(first, last)
    as_of = min(engine.clock.now(), end)
    with engine.db.read() as session:
        facts = [
            feedback_stats.FeedbackFact(
                received_at=r.received_at,
                due_at=r.due_at,
                answered_at=r.answered_at,
                publish_due_at=r.publish_due_at,
                published_at=r.published_at,
                rating=r.rating,
                repeated=r.repeated_of is not None,
            )
            for r in session.scalars(
                select(FeedbackItem).where(FeedbackItem.received_at >= start, FeedbackItem.received_at < end)
            )
        ]
    return feedback_stats.indicators(facts, start, end, as_of)
