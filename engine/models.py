"""Database tables (SQLAlchemy 2 typed ORM). The same schema runs on SQLite and PostgreSQL.

Times are stored as aware UTC (`DateTime(timezone=True)`); SQLite gives them back naive, so the
``UtcDateTime`` type re-attaches UTC on the way out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class ProcedureVersion(Base):
    """One deployed version of a procedure: exact BPMN bytes, parsed specs, metadata."""

    __tablename__ = "procedure_versions"
    __table_args__ = (
        UniqueConstraint("procedure_id", "version"),
        UniqueConstraint("procedure_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    national_code: Mapped[str] = mapped_column(String(50))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)
    elements: Mapped[dict[str, Any]] = mapped_column(JSON)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)  # filename -> BPMN text, exactly as deployed
    specs_json: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(100))
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)


#: The SLA flags the board lists (rare, each needs a person), one partial index each.
BOARD_FLAGS = ("appointment_on_day_off", "repeat_supplement")


def flagged_predicate(dialect: str, flag: str, column: str = "cases.sla") -> str:
    """``sla.flags`` holds ``flag``, spelt in each database's own way.

    The partial indexes ``ix_cases_flag_<flag>`` below use this same spelling (``column="sla"``):
    the board's query must spell the predicate exactly so for its index to apply. On SQLite the
    array is read as its JSON text, which holds the flag quoted exactly when the array holds the
    string (a flag is a plain identifier).
    """
    if flag not in BOARD_FLAGS:
        raise ValueError(flag)
    if dialect == "postgresql":
        return f"CAST({column} -> 'flags' AS jsonb) @> '[\"{flag}\"]'"
    return f"instr(json_extract({column}, '$.flags'), '\"{flag}\"') > 0"


#: "Past the desk without a timely receipt" (received after the receipt deadline, or never), spelt
#: exactly as the partial index ix_cases_late_receipt: the board's recent late receipts are then a
#: walk of the few such dossiers, not of every dossier with a receipt deadline in the window.
LATE_RECEIPT = (
    "receipt_due_at IS NOT NULL AND status <> 1 AND (received_at IS NULL OR received_at > receipt_due_at)"
)


def _flag_index(flag: str) -> Index:
    return Index(
        f"ix_cases_flag_{flag}",
        "due_at",
        "id",
        "procedure_id",
        "completed",
        "finished_at",
        "status",
        sqlite_where=text(flagged_predicate("sqlite", flag, "sla")),
        postgresql_where=text(flagged_predicate("postgresql", flag, "sla")),
    )


class Case(Base):
    """A dossier (hồ sơ): one process instance plus its register record."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_due", "status", "due_at"),
        Index("ix_cases_procedure", "procedure_id", "received_at"),
        # The SLA board: open dossiers by deadline (top-N breached, approaching window), receipt breaches,
        # and its counts read from the index alone (a case row carries its workflow state).
        Index(
            "ix_cases_open_due",
            "completed",
            "due_at",
            "status",
            "finished_at",
            "received_at",
            "procedure_id",
            "id",
        ),
        Index(
            "ix_cases_board",
            "completed",
            "status",
            "procedure_id",
            "due_at",
            "received_at",
            "receipt_due_at",
            "finished_at",
        ),
        Index("ix_cases_receipt_due", "receipt_due_at", "status", "received_at"),
        # Dossiers given a new appointment by an apology (the count lives in the SLA state): few,
        # so the board finds them without reading every open row. queries.APOLOGISED repeats the
        # predicate, which the query must spell the same way for the index to apply.
        Index(
            "ix_cases_apologised",
            "due_at",
            "id",
            "procedure_id",
            "completed",
            "finished_at",
            "status",
            "received_at",
            sqlite_where=text("json_extract(sla, '$.apologies') > 0"),
            postgresql_where=text("CAST(sla ->> 'apologies' AS INTEGER) > 0"),
        ),
        # The desk queue: one status in receipt-deadline order.
        Index("ix_cases_desk", "status", "receipt_due_at", "submitted_at", "id"),
        # The register (Mẫu 06) reads the dossiers submitted in its window only.
        Index("ix_cases_submitted", "submitted_at", "id"),
        # "Hồ sơ của tôi": one citizen's dossiers, newest first.
        Index("ix_cases_applicant_cccd", "applicant_cccd", "submitted_at", "id"),
        # The board's rare flags: found without reading every open row's SLA state.
        *(_flag_index(flag) for flag in BOARD_FLAGS),
        # The board's read model (engine.board): its top-N lists in deadline order and the dossiers
        # whose deadline or amber moment falls in the current hour, read from the index alone.
        Index("ix_cases_board_due", "board_group", "due_at", "id", "amber_at", "procedure_id", "board_lanes"),
        Index("ix_cases_board_amber", "board_group", "amber_at", "procedure_id", "board_lanes"),
        Index(
            "ix_cases_late_receipt",
            "receipt_due_at",
            "id",
            sqlite_where=text(LATE_RECEIPT),
            postgresql_where=text(LATE_RECEIPT),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    procedure_id: Mapped[str] = mapped_column(String(100))
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_versions.id"))
    applicant_name: Mapped[str] = mapped_column(String(300))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The code, applicant name and CCCD folded for the desk's search (engine.text.dossier_search_key),
    # set when the dossier opens: these three never change.
    search_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The applicant's CCCD without spaces (engine.text.cccd_key), set when the dossier opens:
    # "Hồ sơ của tôi" finds a signed-in citizen's dossiers through its index, not by reading JSON.
    applicant_cccd: Mapped[str | None] = mapped_column(String(20), nullable=True)
    channel: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime]
    receipt_due_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(20))  # early / on_time / late
    sla: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # clock state, counters, flags
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(Text)  # SpiffWorkflow state without specs
    secret_hash: Mapped[str | None] = mapped_column(String(200))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    # Format of this case's history (engine.domain.state.HISTORY_FORMAT when it was started).
    history_format: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # The history position (``last_seq``) the dossier's report facts (``dossier_facts``) were
    # computed at; lower = stale. Every event raises ``last_seq``, so the write path marks a dossier
    # stale without a statement of its own; a change outside the history (a rating, a complaint,
    # portal sync, a user's unit) lowers this instead (engine.facts_store.mark_stale).
    facts_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The SLA board's inputs, derived from the row and its open steps in the same write
    # (engine.board): the board group (None = not on the board), the lanes of the open steps and
    # the moment the dossier turns amber.
    board_group: Mapped[int | None] = mapped_column(Integer, nullable=True)
    board_lanes: Mapped[str | None] = mapped_column(Text, nullable=True)
    amber_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


# Dossiers whose report facts are stale (few: those changed since the last refresh). An expression
# index, not a partial one: PostgreSQL keeps statistics of an indexed expression, so it knows how
# few rows have ``last_seq - facts_seq > 0``; a comparison of two columns it would guess at a third
# of the table and scan it. engine.facts_store spells the predicate the same way.
Index("ix_cases_facts_stale", Case.last_seq - Case.facts_seq)


class BoardCount(Base):
    """Deltas of the SLA board's counts (engine.board): +1/-1 rows appended in the transaction that
    moves a dossier on the board, summed by the board and folded by :func:`engine.board.compact`.

    Append-only, so fifty clerks moving dossiers never wait on one counter row (PostgreSQL) and no
    update is lost. ``bucket`` is the hour of the deadline (or amber moment) a row counts, or
    :data:`engine.board.EPOCH` for totals and folded past hours.
    """

    __tablename__ = "board_counts"
    __table_args__ = (
        Index("ix_board_counts_bucket", "bucket", "procedure_id", "board_group", "lanes", "kind", "n"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(100))
    board_group: Mapped[int] = mapped_column(Integer)
    lanes: Mapped[str] = mapped_column(Text)
    kind: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[datetime]
    n: Mapped[int] = mapped_column(Integer)


class ReadModelBuild(Base):
    """What a read model was last rebuilt with (a fingerprint of its settings), so ``init-db`` —
    run before every release — rebuilds it only when those changed: a rebuild of the SLA board
    reads every open dossier and holds its count table for the whole time (about 40 s at 1M)."""

    __tablename__ = "read_model_builds"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    built_at: Mapped[datetime]


class CaseEvent(Base):
    """Append-only history of a case; each row chains the hash of the previous one."""

    __tablename__ = "case_events"
    # The unique (case_id, seq) index serves every lookup by case: no index on case_id alone.
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    task_id: Mapped[str | None] = mapped_column(String(64))
    element_id: Mapped[str | None] = mapped_column(String(200))
    status_from: Mapped[int | None] = mapped_column(Integer)
    status_to: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class WorkItem(Base):
    """A user task's life as the tasklist and the control sheet (Mẫu 05) see it."""

    __tablename__ = "work_items"
    __table_args__ = (
        # By case, with what the board needs to tell open laned steps without reading the row.
        Index("ix_work_items_case_open", "case_id", "completed_at", "lane"),
        # Tasklists walk only open items, already in deadline order, per role (unit queue) or per person.
        # (They replace a (completed_at, role, due_at) index that PostgreSQL ignored for the unit queue
        # and SQLite preferred, wrongly, for joins from a case to its open desk step.)
        Index(
            "ix_work_items_role_open",
            "role",
            "due_at",
            "id",
            sqlite_where=text("completed_at IS NULL"),
            postgresql_where=text("completed_at IS NULL"),
        ),
        Index(
            "ix_work_items_assignee_open",
            "assignee",
            "due_at",
            "id",
            sqlite_where=text("completed_at IS NULL"),
            postgresql_where=text("completed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(500))
    role: Mapped[str | None] = mapped_column(String(50))
    lane: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(100))
    allocated_hours: Mapped[float | None]
    ready_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(20))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class Timer(Base):
    """Index of what must happen at a moment: BPMN timers and the engine's own SLA checks."""

    __tablename__ = "timers"
    __table_args__ = (
        # The claim's walk: pending timers in firing order. Fired ones (the whole history) are not
        # in it, so a claim reads its batch, not a sort of every due row (5 ms at a 20k backlog).
        Index(
            "ix_timers_pending",
            "due_at",
            "id",
            sqlite_where=text("fired_at IS NULL"),
            postgresql_where=text("fired_at IS NULL"),
        ),
        UniqueConstraint("case_id", "kind", "ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(30))  # bpmn | receipt_sla | due_sla
    ref: Mapped[str] = mapped_column(String(100))  # task id for bpmn timers
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))


class DossierSequence(Base):
    """Daily counter behind the dossier code's 4-digit sequence."""

    __tablename__ = "dossier_sequences"

    agency: Mapped[str] = mapped_column(String(50), primary_key=True)
    day: Mapped[str] = mapped_column(String(6), primary_key=True)  # yyMMdd, local date
    last: Mapped[int] = mapped_column(Integer)


class User(Base):
    """A staff account; roles are a comma list so one person can hold several."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(300))
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A password set by someone else (admin, reset, seed) must be replaced by its owner at login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)


class AccountEvent(Base):
    """Who changed which account how: append-only (rows are only ever inserted), read by auditors."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class PasswordReset(Base):
    """A one-time password-reset link: only the token's SHA-256 is kept, and it is used at most once."""

    __tablename__ = "password_resets"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A server-side login session; the cookie holds only a random id whose SHA-256 is the key."""

    __tablename__ = "web_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(100), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)


class CalendarOverrideRow(Base):
    """Government day swaps, edited by an admin; rows are never updated, only superseded."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # ISO date
    kind: Mapped[str] = mapped_column(String(10))  # off | work | none (cancels an earlier row)
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class ScorecardTargetRow(Base):
    """A plan target of the 766 director's view for one year, set by an admin; rows are never
    updated, a later row for the same (year, line) supersedes the earlier one (its history)."""

    __tablename__ = "scorecard_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    code: Mapped[str] = mapped_column(String(20))  # a line of engine.index766_targets.TARGET_SPECS
    target: Mapped[float]  # share, 0..1
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class DossierDocument(Base):
    """A file of a dossier (thành phần hồ sơ); its SHA-256 lets anyone verify a copy later."""

    __tablename__ = "dossier_documents"
    __table_args__ = (Index("ix_dossier_documents_case", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # CASCADE: documents have no life without their case (and test clean-up deletes cases in bulk).
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    document_code: Mapped[str] = mapped_column(String(50))  # procedure document code (TP1) or ""
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Bytes of rows written before the file store (engine.storage); newer rows keep only the hash.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(100))


class Rating(Base):
    """A citizen's satisfaction rating after the result was returned (one per dossier, Decision 766)."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    procedure_id: Mapped[str] = mapped_column(String(100), index=True)
    score: Mapped[int] = mapped_column(Integer)  # 1 not satisfied, 2 satisfied, 3 very satisfied
    comment: Mapped[str] = mapped_column(String(2000))
    rated_at: Mapped[datetime]


class OutboxMessage(Base):
    """A side effect to perform after the commit that decided it (transactional outbox).

    Written in the same transaction as the state change, so a crash can neither lose it nor send
    it for a change that rolled back; delivered later by a worker, at least once, so handlers must
    be idempotent on ``delivery_key``.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_case_handler", "case_id", "handler", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    handler: Mapped[str] = mapped_column(String(100))  # handler name, e.g. portal.status_sync
    delivery_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]  # None: as soon as possible
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Incident(Base):
    """A side effect that exhausted its retries: shown to administrators with a retry button."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "resolved_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    handler: Mapped[str] = mapped_column(String(100))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class Payment(Base):
    """A fee payment confirmed by the payment gateway's signed callback.

    ``nonce`` is unique so a replayed callback is refused; ``transaction_id`` is unique so the
    gateway's own retries of one payment record it once.
    """

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    transaction_id: Mapped[str] = mapped_column(String(100), unique=True)
    nonce: Mapped[str] = mapped_column(String(100), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # VND
    channel: Mapped[int] = mapped_column(Integer)  # 1 national portal, 2 provincial gateway, 0 cash
    paid_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(10), default="online")  # online | cash
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    # The electronic receipt (biên lai điện tử) issued for the payment.
    receipt_number: Mapped[str | None] = mapped_column(String(40), unique=True)


class CaseResult(Base):
    """The electronic result of a case (kết quả điện tử); its SHA-256 is also in the event chain."""

    __tablename__ = "case_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Bytes of rows written before the file store (engine.storage); newer rows keep only the hash.
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]
    stored_by: Mapped[str] = mapped_column(String(100))
    signer: Mapped[str | None] = mapped_column(String(300))  # the agency's certificate subject (PAdES)


class AuditDigest(Base):
    """A daily seal over every case's chain head, so deleting or rewriting a whole case shows.

    ``digest`` is the SHA-256 over all cases' (code, last seq, last hash) as of the end of ``day``
    (local); ``seal`` chains each digest to the previous one like the events of a case.
    """

    __tablename__ = "audit_digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Local ISO date (a daily seal) or YYYY-MM-DDTHH:00 (an hourly checkpoint of the current day).
    day: Mapped[str] = mapped_column(String(20), unique=True)
    as_of: Mapped[datetime]  # end of that local day (or hour): events before it are covered
    case_count: Mapped[int] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    prev_seal: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class AuditDigestEntry(Base):
    """A case's chain head as sealed by a digest; only heads that changed since the previous digest."""

    __tablename__ = "audit_digest_entries"
    __table_args__ = (UniqueConstraint("digest_id", "case_code"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("audit_digests.id"), index=True)
    case_code: Mapped[str] = mapped_column(String(80))
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class ProcedureDraft(Base):
    """A designer's saved, not yet deployed edit of a procedure: one per procedure, the last save
    wins. Drafts are work in progress, kept so an edit survives a closed tab; the history that
    matters (what ran) is the deployed versions, which are never rewritten."""

    __tablename__ = "procedure_drafts"

    procedure_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    xml: Mapped[str] = mapped_column(Text)
    base_version: Mapped[int] = mapped_column(Integer)  # the latest version when the draft was saved
    valid: Mapped[bool] = mapped_column(Boolean)  # passed validation when saved (deployable then)
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(100))


class SubmissionKey(Base):
    """The idempotency key of an online submission: a repeated POST (a double click, a retry after a
    lost answer) finds the dossier the first one created instead of opening a second one.

    Only the key's digest is kept; the lookup secret is stored sealed with the key itself, so the
    repeated request, which holds the key, can show it again and nobody else can read it.
    """

    __tablename__ = "submission_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=True)
    sealed_secret: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime]


# The digital one-stop tables share this metadata (Alembic, tests); imported last to avoid a cycle.
from . import digital_models as _digital_models  # noqa: E402,F401


class DossierFactsRow(Base):
    """Report facts read model: one dossier's ``reports.DossierFacts`` as ``reports.dossier_facts``
    folded it from the history (engine.facts_store), so the register and periodic reports read a
    window's rows instead of folding every candidate's events per request.

    ``facts`` holds every field; the columns repeat what SQL selects a window by: the register by
    submission time, the periodic report by the latest moment the facts hold and, for dossiers not
    ended, by receipt.
    """

    __tablename__ = "dossier_facts"
    __table_args__ = (
        Index("ix_dossier_facts_register", "submitted_at", "code"),
        Index("ix_dossier_facts_latest", "latest_at", "submitted_at"),
        Index(
            "ix_dossier_facts_open",
            "received_at",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    latest_at: Mapped[datetime]
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReportGroupRow(Base):
    """A line of the periodic report's rollup: a procedure (with the name its version gave) and
    the handling unit (engine.report_rollup)."""

    __tablename__ = "report_groups"
    __table_args__ = (UniqueConstraint("procedure_id", "procedure_name", "unit", name="uq_report_groups"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(255))
    procedure_name: Mapped[str] = mapped_column(String(500))
    unit: Mapped[str] = mapped_column(String(255))


class ReportRollupRow(Base):
    """The periodic report's figures by local day, summed over the dossiers of a group
    (reports.rollup_contributions): a report sums a window's rows instead of counting dossiers,
    so its cost does not grow with their number. ``day`` and ``prev`` are date ordinals; a field
    named ``<field>:m`` holds a month's total on the month's first day."""

    __tablename__ = "report_rollup"

    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    prev: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("report_groups.id"), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class RegisterDayRow(Base):
    """The register's dossiers by local submission day (engine.register_days): the rows of
    ``dossier_facts`` submitted that day, so a register page's total and the number of its first
    row sum a window's days instead of counting its dossiers. ``day`` is a date ordinal."""

    __tablename__ = "register_days"

    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer)


class ReportIrregularRow(Base):
    """Dossiers the rollup cannot hold exactly (reports.rollup_regular): counted per report."""

    __tablename__ = "report_irregular"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
