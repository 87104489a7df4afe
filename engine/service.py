"""The engine's service API: what ``web/``, ``handlers/`` and the CLI call.

Each public method is one unit of work and returns plain views (pydantic models), never ORM rows,
so callers cannot change state behind the engine's back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import (
    access,
    accounts,
    assignment,
    audit_store,
    board,
    citizen,
    date_bounds,
    designer,
    documents,
    drafts,
    esign,
    facts_store,
    feedback,
    identity,
    importer,
    index766,
    index766_targets,
    integrity,
    outbox,
    payments,
    queries,
    register_days,
    reissue,
    report_rollup,
    reports,
    results,
    reuse,
    seal_log,
    sla,
    submissions,
    targets_store,
    withdrawal,
)
from .access import Action
from .calendar import WorkingCalendar, calendar_sources
from .calendar_changes import affected_case_ids, day_span
from .calendar_store import LiveCalendar, add_override, history
from .cases import CaseRuntime, find_case, open_items
from .clock import Clock, SystemClock
from .db import Database
from .domain.state import ROW_FIELDS, START_FIELDS
from .domain.vocab import EventKind, StepKind
from .errors import Forbidden, NotFound, ProcedureError, ValidationError
from .esign import SigningConfig
from .messages import input_problems
from .models import Case, CaseEvent, ProcedureVersion, WorkItem
from .outbox import Handler, IncidentView, OutboxView, RetryPolicy
from .procedures import ProcedureStore
from .sessions import SessionStore, SqlSessionStore
from .settings import EngineSettings
from .spiff import MotcuaScriptEngine, business_functions
from .statuses import STATUS_LABELS
from .storage import FileStore, file_store_from_env
from .text import nfc
from .timers import DEFAULT_BATCH, DEFAULT_LEASE_SECONDS, any_due, default_owner, fire_due
from .users import CITIZEN, Actor, authenticate, get_actor, seed_demo_users

PHONE = re.compile(r"^(\+84|0)\d{8,10}$")

# ---------------------------------------------------------------------------------- edge models


class Applicant(BaseModel):
    """Người nộp hồ sơ (national catalogue: 0 citizen, 1 enterprise, 2 household business)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300)
    type: Literal[0, 1, 2] = 0
    id_number: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    address: str | None = Field(default=None, max_length=500)

    @field_validator("*", mode="before")
    @classmethod
    def _nfc(cls, value: Any) -> Any:
        return nfc(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        """Vietnamese numbers: 0 or +84 then 8–10 digits; spaces, dots and dashes are allowed."""
        if value is None or value == "":
            return None
        digits = re.sub(r"[\s.\-()]", "", value)
        if not PHONE.fullmatch(digits):
            raise ValueError("số điện thoại không hợp lệ")
        return value


class StartCase(BaseModel):
    """Input of :meth:`Engine.start_case`."""

    model_config = ConfigDict(extra="forbid")

    procedure_id: str = Field(min_length=1, max_length=100)
    applicant: Applicant
    channel: Literal[1, 2, 3] = 1
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("data")
    @classmethod
    def _plain_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not key.isidentifier() or key.startswith("_"):
                raise ValueError(f"tên trường không hợp lệ: {key!r}")
        return dict(nfc(value))


class TaskView(BaseModel):
    task_id: str
    element_id: str
    name: str
    role: str | None
    lane: str | None
    ready_at: datetime
    due_at: datetime | None
    assignee: str | None
    form: dict[str, Any] | None = None
    unit: str | None = None


class EventView(BaseModel):
    seq: int
    at: datetime
    actor: str
    kind: str
    task_id: str | None
    element_id: str | None
    status_from: int | None
    status_to: int | None
    payload: dict[str, Any]
    hash: str


class CaseView(BaseModel):
    id: int
    code: str
    procedure_id: str
    procedure_name: str
    procedure_version: int
    applicant: dict[str, Any]
    channel: int
    status: int
    status_label: str
    submitted_at: datetime
    receipt_due_at: datetime | None
    received_at: datetime | None
    due_at: datetime | None
    finished_at: datetime | None
    returned_at: datetime | None
    completed: bool
    outcome: str | None
    sla: dict[str, Any]
    data: dict[str, Any]
    version: int
    tasks: list[TaskView] = Field(default_factory=list)
    secret: str | None = None  # only right after start: printed on the receipt, never stored in clear


class ProcedureView(BaseModel):
    procedure_id: str
    name: str
    code: str
    version: int
    content_hash: str
    legal_time: float
    legal_unit: str
    deployed_at: datetime
    deployed_by: str
    steps: list[dict[str, Any]]
    meta: dict[str, Any]
    submission_form: dict[str, Any] | None = None


class FireResult(BaseModel):
    fired: int
    skipped: int


# ---------------------------------------------------------------------------------- the engine


class Engine:
    """Facade over procedures and cases, bound to one database, clock and calendar."""

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        calendar: WorkingCalendar | None = None,
        settings: EngineSettings | None = None,
        sessions: SessionStore | None = None,
        files: FileStore | None = None,
        signing: SigningConfig | None = None,
    ) -> None:
        self.db = db
        # File bytes (documents, results, scans) live here; the database keeps their SHA-256.
        self.files: FileStore = files or file_store_from_env()
        # The agency's signing certificate for electronic results, installed by the administrator.
        self.signing: SigningConfig = signing or SigningConfig.from_env()
        self.sessions: SessionStore = sessions or SqlSessionStore(db)
        # The outside anchor of the audit seals: neither file is in the database.
        self.seal_log_path: Path = seal_log.log_path()
        self.seal_key_path: Path = seal_log.key_path()
        self.clock: Clock = clock or SystemClock()
        # Leases and delivery retries are about live processes and networks, not business time, so
        # they follow real time even under --now; tests replace it with a FixedClock.
        self.lease_clock: Clock = SystemClock()
        self.settings = settings or EngineSettings()
        self.calendar = LiveCalendar(calendar or WorkingCalendar(self.settings.calendar))
        self.procedures = ProcedureStore(self.clock)
        self.cases = CaseRuntime(
            self.clock, self.calendar, self.settings, self.procedures, self._script_engine
        )

    @contextmanager
    def _uow(self) -> Iterator[Session]:
        """A unit of work that first brings the calendar up to date with the override table."""
        with self.db.unit_of_work() as session:
            self.calendar.refresh(session)
            yield session

    def _script_engine(self) -> MotcuaScriptEngine:
        from .sandbox import SandboxedEnvironment

        functions = business_functions(
            self.clock, self.calendar.add_working_hours, self.calendar.add_working_days
        )
        return MotcuaScriptEngine(self.clock, SandboxedEnvironment(functions))

    # ------------------------------------------------------------------ set-up
    def init_db(self, *, load_library: bool = True, seed_users: bool = True) -> dict[str, Any]:
        """Migrate, deploy the built-in library, seed demo users, move file bytes older versions kept
        in the database into the file store; returns what was created."""
        self.db.migrate()
        deployed: list[dict[str, Any]] = []
        created_users: list[tuple[str, str, str]] = []
        with self._uow() as session:
            if load_library:
                for row, created in self.procedures.deploy_library(
                    session, self.settings.library_dir, "system"
                ):
                    deployed.append(
                        {"procedure_id": row.procedure_id, "version": row.version, "created": created}
                    )
            if seed_users:
                created_users = seed_demo_users(session)
            # The board's read model follows this deployment's amber threshold and desk hours:
            # rebuilt when they (or the board's rules) changed since its last build, not on
            # every release (a rebuild holds the board's count table while it reads every open
            # dossier). Calendar overrides move it as they are made (board.recompute_amber).
            self.calendar.refresh(session, force=True)
            if board.needs_rebuild(session, self._board_fingerprint()):
                self._rebuild_board(session)
        from .blob_move import move_blobs

        moved = move_blobs(self.db, self.files)
        return {
            "procedures": deployed,
            "users": created_users,
            "files_moved": moved.documents + moved.results,
        }

    def deploy(self, main_name: str, main: bytes, shared: Mapping[str, bytes], actor: Actor) -> ProcedureView:
        """Deploy files as they are (tests, imports); the designer path is :meth:`deploy_designed`."""
        if not actor.has_role("designer"):
            raise Forbidden("Chỉ người thiết kế quy trình được triển khai quy trình")
        with self._uow() as session:
            row, _ = self.procedures.deploy_files(session, main_name, main, shared, actor.username)
            return _procedure_view(row)

    def list_procedures(self) -> list[ProcedureView]:
        with self.db.read() as session:
            return [_procedure_view(row) for row in self.procedures.list_latest(session)]

    def procedure_versions(self, procedure_id: str) -> list[ProcedureView]:
        with self.db.read() as session:
            rows = self.procedures.versions(session, procedure_id)
            if not rows:
                raise NotFound(f"Không tìm thấy thủ tục '{procedure_id}'")
            return [_procedure_view(row) for row in rows]

    # ------------------------------------------------------------------ users
    def actor(self, username: str) -> Actor:
        with self.db.read() as session:
            return get_actor(session, username)

    def authenticate(self, username: str, password: str) -> Actor | None:
        with self.db.read() as session:
            return authenticate(session, username, password)

    # ------------------------------------------------------------------ accounts
    def list_accounts(self, actor: Actor) -> list[accounts.AccountView]:
        accounts.require_account_manager(actor)
        with self.db.read() as session:
            return accounts.list_accounts(session)

    def account(self, username: str, actor: Actor) -> accounts.AccountView:
        accounts.require_account_manager(actor)
        with self.db.read() as session:
            return accounts.get_account(session, username)

    def create_account(
        self,
        username: str,
        full_name: str,
        roles: list[str],
        actor: Actor,
        *,
        unit: str | None = None,
        password: str | None = None,
    ) -> accounts.IssuedCredential:
        """A new account; a generated first password comes back once and must be changed at login."""
        with self._uow() as session:
            return accounts.create_account(
                session, actor, self.clock.now(), username, full_name, roles, unit, password
            )

    def set_account_active(self, username: str, active: bool, actor: Actor) -> accounts.AccountView:
        """Deactivating also ends every session of the account, so it is locked out at once."""
        with self._uow() as session:
            view = accounts.set_active(session, actor, self.clock.now(), username, active)
        if not active:
            self.sessions.revoke_user(username)
        return view

    def change_account_roles(self, username: str, roles: list[str], actor: Actor) -> accounts.AccountView:
        with self._uow() as session:
            return accounts.change_roles(session, actor, self.clock.now(), username, roles)

    def change_account_unit(self, username: str, unit: str | None, actor: Actor) -> accounts.AccountView:
        with self._uow() as session:
            return accounts.change_unit(session, actor, self.clock.now(), username, unit)

    def reset_password(self, username: str, actor: Actor, *, link: bool) -> accounts.IssuedCredential:
        """The old password stops working and the account's sessions end (whoever reset it may
        suspect it was stolen)."""
        with self._uow() as session:
            issued = accounts.reset_password(session, actor, self.clock.now(), username, link=link)
        self.sessions.revoke_user(username)
        return issued

    def reset_link_user(self, token: str) -> str:
        with self.db.read() as session:
            return accounts.reset_link_user(session, self.clock.now(), token)

    def redeem_reset_link(self, token: str, new_password: str) -> accounts.AccountView:
        with self._uow() as session:
            view = accounts.redeem_reset_link(session, self.clock.now(), token, new_password)
        self.sessions.revoke_user(view.username)
        return view

    def change_password(self, username: str, current: str, new_password: str) -> accounts.AccountView:
        """Every session of the account ends (a thief's included); the caller starts a fresh one."""
        with self._uow() as session:
            view = accounts.change_own_password(session, self.clock.now(), username, current, new_password)
        self.sessions.revoke_user(username)
        return view

    def account_events(self, actor: Actor, username: str | None = None) -> list[accounts.AccountEventView]:
        """The account audit trail: administrators and auditors read it."""
        if actor.username != "system" and not (actor.has_role("admin") or actor.has_role("auditor")):
            raise Forbidden("Chỉ quản trị hệ thống và kiểm tra viên được xem nhật ký tài khoản")
        with self.db.read() as session:
            return accounts.account_events(session, username)

    # ------------------------------------------------------------------ cases
    def start_case(self, request: StartCase | Mapping[str, Any], actor: Actor) -> CaseView:
        """Open a dossier; the returned view carries the lookup secret once."""
        req = _parse(StartCase, request)
        with self._uow() as session:
            case, secret = self.cases.start(
                session, req.procedure_id, req.applicant.model_dump(mode="json"), req.channel, req.data, actor
            )
            view = self._case_view(session, case)
        view.secret = secret
        return view

    def submit_online(
        self,
        request: Mapping[str, Any],
        uploads: Sequence[submissions.Upload] = (),
        idempotency_key: str | None = None,
    ) -> CaseView:
        """A citizen's online submission (channel 2): every required field and component checked
        first, all problems reported together, the dossier and its files stored together or not at
        all. A repeated request with the same idempotency key returns the first one's dossier."""
        key = submissions.check_key(idempotency_key)
        if key is not None:
            repeated = self._repeated_submission(key)
            if repeated is not None:
                return repeated
        request = dict(request)
        asserted_raw, reuse_raw = request.pop("identity", None), request.pop("reuse", None)
        problems: list[dict[str, Any]] = []
        asserted: identity.PortalIdentity | None = None
        reuse_choice: dict[str, int] = {}
        try:
            reuse_choice = submissions.reuse_choices(reuse_raw)
            if reuse_choice and asserted_raw is None:
                raise ValidationError(
                    "chỉ sử dụng lại dữ liệu số khi Cổng dịch vụ công đã xác thực danh tính người nộp"
                )
        except ValidationError as exc:
            problems.append({"field": "reuse", "title": "Sử dụng lại dữ liệu số", "message": str(exc)})
        if asserted_raw is not None:
            try:
                today = self.clock.now().astimezone(sla.LOCAL_TZ).date()
                asserted = identity.parse_portal_identity(asserted_raw, today)
            except ValidationError as exc:
                problems.append(
                    {
                        "field": "identity",
                        "title": "Danh tính do Cổng dịch vụ công xác thực",
                        "message": str(exc),
                    }
                )
        req: StartCase | None = None
        try:
            req = _parse(StartCase, {**request, "channel": 2})
        except ValidationError as exc:
            problems.extend(exc.details.get("fields", []))
        procedure = self.procedure(str(request.get("procedure_id") or ""))
        problems.extend(
            submissions.document_problems(procedure.meta.get("documents") or [], uploads, list(reuse_choice))
        )
        data = dict(req.data) if req is not None else dict(nfc(request.get("data") or {}))
        problems.extend(submissions.data_problems(procedure.submission_form, data))
        if problems or req is None:
            raise submissions.refuse(problems)
        try:
            with self._uow() as session:
                claimed = submissions.claim(session, key, self.clock.now()) if key else None
                case, secret = self.cases.start(
                    session, req.procedure_id, req.applicant.model_dump(mode="json"), 2, req.data, CITIZEN
                )
                if asserted is not None:
                    identity.record_portal_identity_in(self.cases, session, case, asserted, self.clock.now())
                for upload in uploads:
                    self._attach(
                        session, case, upload.document_code, upload.filename, upload.content, CITIZEN
                    )
                for document_code, item_id in reuse_choice.items():
                    reuse.reuse_in_session(
                        self.cases,
                        session,
                        case,
                        asserted.cccd if asserted else None,
                        item_id,
                        document_code,
                        CITIZEN,
                        self.clock.now(),
                        self.files,
                    )
                if claimed is not None and key is not None:
                    submissions.record(claimed, key, case, secret)
                view = self._case_view(session, case)
        except IntegrityError:
            # A concurrent request with the same key won the insert: answer with its dossier.
            repeated = self._repeated_submission(key) if key else None
            if repeated is None:
                raise
            return repeated
        view.secret = secret
        return view

    def portal_reuse_offers(self, procedure_id: str, asserted: Mapping[str, Any]) -> list[reuse.ReuseOffer]:
        """What the portal offers a citizen whose identity it asserted, before submitting: the
        entries of their data store that match the procedure's components."""
        today = self.clock.now().astimezone(sla.LOCAL_TZ).date()
        person = identity.parse_portal_identity(asserted, today)
        procedure = self.procedure(procedure_id)
        with self.db.read() as session:
            return reuse.offers_for(
                session,
                person.cccd,
                procedure.procedure_id,
                list(procedure.meta.get("documents") or []),
                today,
            )

    def reuse_offers(self, ref: str, actor: Actor) -> list[reuse.ReuseOffer]:
        """The desk's offers for a dossier: stored components of its applicant that match."""
        if not actor.roles & documents.STAFF_UPLOAD_ROLES:
            raise Forbidden("Bạn không có quyền xem kho dữ liệu của người nộp")
        self.authorize_case(ref, actor, Action.READ)
        return reuse.case_offers(self, ref)

    def reuse_component(
        self, ref: str, item_id: int, document_code: str, actor: Actor
    ) -> documents.DocumentView:
        """At the counter: a stored component taken into the dossier without a new upload."""
        self.authorize_case(ref, actor, Action.CHANGE)
        return reuse.reuse_component(self, ref, item_id, document_code, actor)

    def counter_intake(
        self,
        request: Mapping[str, Any],
        uploads: Sequence[submissions.Upload] = (),
        receipt: Mapping[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> CaseView:
        """The desk's one-step intake of a dossier handed in at the counter (1) or by post (3): the
        dossier, its scanned components and the receipt check (accept / supplement / refuse) in one
        transaction, so a refused check leaves no half-made dossier. The view carries the secret."""
        if actor is None or not actor.has_role("desk_clerk"):
            raise Forbidden("Chỉ Bộ phận một cửa được tiếp nhận hồ sơ tại quầy")
        req = _parse(StartCase, request)
        if req.channel == 2:
            raise ValidationError(
                "Hồ sơ tại quầy chỉ nhận hình thức trực tiếp hoặc bưu chính",
                details={"fields": [{"field": "channel", "message": "không hợp lệ"}]},
            )
        receipt_data = nfc(dict(receipt)) if receipt is not None else None
        with self._uow() as session:
            case, secret = self.cases.start(
                session, req.procedure_id, req.applicant.model_dump(mode="json"), req.channel, req.data, actor
            )
            for upload in uploads:
                self._attach(session, case, upload.document_code, upload.filename, upload.content, actor)
            if receipt_data is not None:
                version = self.procedures.load(session, case.procedure_version_id)
                items = session.scalars(
                    select(WorkItem).where(WorkItem.case_id == case.id, WorkItem.completed_at.is_(None))
                )
                item = next(
                    (i for i in items if (version.elements.get(i.element_id) or {}).get("kind") == "receipt"),
                    None,
                )
                if item is None:
                    raise ProcedureError("Thủ tục không có bước kiểm tra, tiếp nhận hồ sơ")
                element = version.elements.get(item.element_id) or {}
                documents_meta = list(version.meta.get("documents", []))
                assignment.check_may_complete(
                    session, case, item, element, documents_meta, receipt_data, actor
                )
                self.cases.complete(session, case, item.task_id, receipt_data, actor)
            view = self._case_view(session, case)
        view.secret = secret
        return view

    def step_form(self, procedure_id: str, kind: str) -> dict[str, Any] | None:
        """The form of the latest version's first step of ``kind`` (e.g. "receipt"), for pages that
        fill that step together with another operation."""
        with self.db.read() as session:
            row = self.procedures.latest(session, procedure_id)
            for element in row.elements.values():
                if element.get("kind") == kind and element.get("form"):
                    return dict(element["form"])
        return None

    def reissue_secret(self, ref: str, actor: Actor) -> CaseView:
        """The desk issues a new lookup secret (the old one stops working); the view carries it once,
        to be printed on a new Mẫu 01. Recorded as a ``secret_reissued`` event."""
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)
            secret = reissue.reissue(self.cases, session, case, actor)
            view = self._case_view(session, case)
        view.secret = secret
        return view

    def _repeated_submission(self, key: str) -> CaseView | None:
        with self.db.read() as session:
            found = submissions.earlier(session, key)
            if found is None:
                return None
            case, secret = found
            view = self._case_view(session, case)
        view.secret = secret
        return view

    def authorize_case(self, ref: str, actor: Actor, action: Action = Action.READ) -> None:
        """Refuse (``Forbidden``, with the reason) an actor the access policy does not let read or
        change this dossier; unknown dossiers are ``NotFound``. Pages and API routes of a dossier ask
        this before anything else; the operations below ask it again in their own transaction."""
        with self.db.read() as session:
            self._authorize(session, find_case(session, ref), actor, action)

    def readable_cases(self, session: Session, actor: Actor, case_ids: set[int]) -> set[int]:
        """Which of these dossiers the access policy lets ``actor`` read (for lists and searches)."""
        found: dict[int, list[access.Routing]] = {case_id: [] for case_id in case_ids}
        rows = session.execute(
            select(WorkItem.case_id, WorkItem.role, WorkItem.unit)
            .where(WorkItem.case_id.in_(case_ids))
            .distinct()
        )
        for case_id, role, unit in rows:
            found[case_id].append(access.Routing(role, unit))
        return {i for i, steps in found.items() if access.case_decision(actor, Action.READ, steps)}

    def _authorize(self, session: Session, case: Case, actor: Actor, action: Action) -> None:
        decision = access.case_decision(actor, action, lambda: _routings(session, case))
        if not decision:
            raise Forbidden(decision.reason)

    def get_case(self, ref: str) -> CaseView:
        with self.db.read() as session:
            return self._case_view(session, find_case(session, ref, with_open_items=True))

    def list_tasks(self, ref: str) -> list[TaskView]:
        with self.db.read() as session:
            case = find_case(session, ref, with_open_items=True)
            return self._open_tasks(session, case)

    def complete_task(
        self,
        ref: str,
        task_ref: str,
        data: Mapping[str, Any],
        actor: Actor,
        expected_version: int | None = None,
    ) -> CaseView:
        """Complete an open step: the one completion path of the web, the API and the CLI, with the
        same checks (withdrawal pending, unit, claim, the receipt's completeness, role, form)."""
        data = nfc(dict(data)) if isinstance(data, Mapping) else data
        with self._uow() as session:
            case = find_case(session, ref, with_open_items=True)
            self._authorize(session, case, actor, Action.CHANGE)
            self._complete(session, case, task_ref, data, actor, expected_version)
            return self._case_view(session, case)

    def _complete(
        self,
        session: Session,
        case: Case,
        task_ref: str,
        data: Mapping[str, Any],
        actor: Actor,
        expected_version: int | None = None,
    ) -> None:
        item = _open_item(open_items(session, case), task_ref)
        if item is None:
            item = assignment.open_item(session, case, task_ref)
        version = self.procedures.load(session, case.procedure_version_id)
        element = version.elements.get(item.element_id) or {}
        if isinstance(data, Mapping):
            assignment.check_may_complete(
                session, case, item, element, list(version.meta.get("documents", [])), data, actor
            )
            today = self.clock.now().astimezone(sla.LOCAL_TZ).date()
            date_bounds.check_dates(element.get("form"), data, today)
            if element.get("kind") == StepKind.RECEIPT and data.get("decision") == "accept":
                # A mismatch with the population data blocks acceptance until the clerk records why.
                identity.require_identity_ok(identity.identity_facts(_identity_events(session, case)))
        self.cases.complete(session, case, item.task_id, data, actor, expected_version)

    def apologise(
        self,
        ref: str,
        new_due: datetime | None,
        reason: str,
        unit_at_fault: str,
        actor: Actor,
        kind: str = "late",
    ) -> CaseView:
        """Mẫu 04: ``late`` (new appointment; counts as late), ``mistake`` (new appointment optional;
        not late) or ``calendar`` (a printed appointment now on a day off gets a new one)."""
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)
            self.cases.apologise(session, case, new_due, reason, unit_at_fault, actor, kind)
            return self._case_view(session, case)

    def approve_supplement(self, ref: str, reason: str, actor: Actor) -> CaseView:
        """A head of department allows a second supplementation request (procedures that allow it)."""
        if not actor.has_role("head_of_department"):
            raise Forbidden("Chỉ Lãnh đạo phòng được phê duyệt yêu cầu bổ sung hồ sơ lần thứ hai")
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)
            self.cases.approve_supplement(session, case, reason, actor)
            return self._case_view(session, case)

    def events(self, ref: str) -> list[EventView]:
        with self.db.read() as session:
            case = find_case(session, ref)
            rows = session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
            )
            return [_event_view(row) for row in rows]

    def lookup(self, code: str, secret: citizen.CitizenProof) -> CaseView:
        """Citizen lookup: the same error for an unknown code and a wrong secret (no enumeration);
        a signed-in citizen (:class:`citizen.VerifiedCitizen`) opens their own dossiers."""
        with self.db.read() as session:
            return self._case_view(session, citizen.case_by_secret(session, code, secret))

    def citizen_dossiers(self, who: citizen.VerifiedCitizen) -> list[citizen.CitizenDossier]:
        """ "Hồ sơ của tôi": the dossiers whose applicant CCCD is the signed-in citizen's."""
        with self.db.read() as session:
            return citizen.dossiers_of(session, who)

    def submit_online_as(
        self,
        who: citizen.VerifiedCitizen,
        request: Mapping[str, Any],
        uploads: Sequence[submissions.Upload] = (),
        idempotency_key: str | None = None,
    ) -> CaseView:
        """An online submission by a signed-in citizen: the applicant's CCCD is the verified one
        (whatever the form said) and the identity the provider asserted is recorded on the dossier
        as an ``identity_checked`` event (source ``portal``) in the same transaction, so components
        of the citizen's data store can be reused (``request["reuse"]``); once even when the request
        is repeated."""
        from .identity import identity_checks, record_portal_identity

        applicant = dict(request.get("applicant") or {})
        applicant["id_number"] = who.cccd
        applicant.setdefault("name", who.full_name)
        submitted = {**dict(request), "applicant": applicant}
        submitted.pop("identity", None)  # only the provider's word counts
        if who.birthdate is not None:
            submitted["identity"] = {
                "cccd": who.cccd,
                "date_of_birth": who.birthdate.isoformat(),
                "full_name": who.full_name,
            }
        view = self.submit_online(submitted, uploads, idempotency_key)
        recorded = any(c.source == "portal" for c in identity_checks(self, view.code))
        if who.birthdate is not None and not recorded:
            record_portal_identity(self, view.code, who.cccd, who.birthdate, who.full_name, CITIZEN)
        return view

    # ------------------------------------------------------------------ timers
    def fire_due_timers(
        self,
        limit: int = 500,
        *,
        batch: int = DEFAULT_BATCH,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        owner: str | None = None,
    ) -> FireResult:
        """Claim due timers in leased batches and fire each in its own unit of work.

        Safe with any number of workers on PostgreSQL: see :mod:`engine.timers`.
        """
        result = fire_due(
            self._uow,
            self.cases,
            claim_uow=self.db.unit_of_work,
            clock=self.clock,
            lease_clock=self.lease_clock,
            owner=owner or default_owner(),
            limit=limit,
            batch=batch,
            lease_seconds=lease_seconds,
        )
        return FireResult(fired=result.fired, skipped=result.skipped)

    def timers_due(self) -> bool:
        """Whether any timer is due and unfired, claimed by a worker or not."""
        with self.db.read() as session:
            return any_due(session, self.clock.now())

    # ------------------------------------------------------------------ outbox and incidents
    def deliver_outbox(
        self,
        handlers: Mapping[str, Handler],
        *,
        limit: int = 100,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        owner: str | None = None,
        policy: RetryPolicy | None = None,
    ) -> outbox.DeliveryPass:
        """Deliver due outbox messages whose handler is given; failures retry with backoff."""
        return outbox.deliver(
            self.db.unit_of_work,
            handlers,
            clock=self.lease_clock,
            owner=owner or default_owner(),
            limit=limit,
            lease_seconds=lease_seconds,
            policy=policy or RetryPolicy(),
        )

    def incidents(self, *, open_only: bool = True) -> list[IncidentView]:
        """Side effects that exhausted their retries (for the administrators' page)."""
        with self.db.read() as session:
            return outbox.incidents(session, open_only=open_only)

    def retry_incident(self, incident_id: int, actor: Actor) -> IncidentView:
        """Put a failed message back in the queue (admin only); the incident is marked resolved."""
        if not actor.has_role("admin"):
            raise Forbidden("Chỉ quản trị hệ thống được gửi lại tác vụ lỗi")
        with self.db.unit_of_work() as session:
            view = outbox.retry_incident(session, incident_id, actor.username, self.lease_clock.now())
        if view is None:
            raise NotFound(f"Không tìm thấy sự cố #{incident_id}")
        return view

    def case_outbox(self, ref: str) -> list[OutboxView]:
        """Every side effect recorded for a case and how its delivery went."""
        with self.db.read() as session:
            return outbox.case_outbox(session, find_case(session, ref).id)

    # ------------------------------------------------------------------ fees and results
    def record_payment(self, ref: str, paid: payments.PaymentConfirmation) -> payments.PaymentView:
        """Record a fee payment whose gateway callback was verified (``handlers.payment``).

        A replayed callback (same nonce) raises :class:`ConflictError`; a gateway retry of the same
        transaction returns the recorded payment with ``duplicate=True``.
        """
        with self._uow() as session:
            case = find_case(session, ref)
            return payments.record_payment(self.cases, session, case, paid, self.lease_clock.now())

    def record_cash_payment(self, ref: str, amount: int, actor: Actor) -> payments.PaymentView:
        """The desk takes the procedure's fee in cash and issues the electronic receipt."""
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)
            return payments.record_cash_payment(self.cases, session, case, amount, actor, self.clock.now())

    def payment_receipt(self, ref: str, number: str) -> payments.PaymentView:
        """One electronic receipt (biên lai điện tử) of a dossier."""
        with self.db.read() as session:
            return payments.receipt(session, find_case(session, ref), number)

    def case_payments(self, ref: str) -> list[payments.PaymentView]:
        with self.db.read() as session:
            return payments.payments_of(session, find_case(session, ref))

    def attach_result(
        self, ref: str, filename: str, content: bytes, actor: Actor, *, sign: bool = False
    ) -> results.ResultView:
        """Store the result with its SHA-256 and queue its publication (outbox); a procedure with an
        electronic result (or ``sign``: an electronic copy of a paper result) gets the PDF signed by
        the agency's certificate first (PAdES)."""
        with self.db.read() as session:
            case = find_case(session, ref)
            name, ext = results.check_result_file(actor, case, filename, content)
            electronic = self.procedures.load(session, case.procedure_version_id).meta.get("result_type")
        signer = None
        if electronic == "electronic" or sign:
            if ext != ".pdf":
                raise ValidationError("Thủ tục cấp kết quả điện tử: kết quả phải là tệp PDF để ký số")
            # Signing reads the key from disk and takes a moment: outside the write transaction.
            content, signer = esign.sign_and_check(content, self.signing, self.clock)
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)
            now = self.clock.now()
            view = results.attach_result(
                self.cases, session, case, name, content, actor, now, self.files, signer
            )
            reuse.remember_result(session, case, view, now)
            return view

    def case_results(self, ref: str) -> list[results.ResultView]:
        with self.db.read() as session:
            return results.results_of(session, find_case(session, ref))

    def result_file(self, ref: str, result_id: int) -> tuple[results.ResultView, bytes]:
        """The result's bytes, verified against the stored digest."""
        with self.db.read() as session:
            return results.result_file(session, find_case(session, ref), result_id, self.files)

    def citizen_result(
        self, code: str, secret: str, result_id: int
    ) -> tuple[results.ResultView, bytes, esign.SignatureCheck | None]:
        """A result downloaded from the lookup page (code + secret), with its signature verified."""
        with self.db.read() as session:
            case = citizen.case_by_secret(session, code, secret)
            view, content = results.result_file(session, case, result_id, self.files)
        return view, content, results.signature_of(view, content, self.signing, view.stored_at)

    def citizen_results(
        self, code: str, secret: str
    ) -> list[tuple[results.ResultView, esign.SignatureCheck | None]]:
        """The dossier's results as the lookup page lists them, each signature verified."""
        with self.db.read() as session:
            case = citizen.case_by_secret(session, code, secret)
            views = results.results_of(session, case)
        found = []
        for view in views:
            _, _, check = self.citizen_result(code, secret, view.id)
            found.append((view, check))
        return found

    # ------------------------------------------------------------------ views
    def _open_tasks(self, session: Session, case: Case) -> list[TaskView]:
        version = self.procedures.load(session, case.procedure_version_id)
        return [
            TaskView(
                task_id=i.task_id,
                element_id=i.element_id,
                name=i.name,
                role=i.role,
                lane=i.lane,
                ready_at=i.ready_at,
                due_at=i.due_at,
                assignee=i.assignee,
                form=(version.elements.get(i.element_id) or {}).get("form"),
                unit=i.unit,
            )
            for i in open_items(session, case).values()
        ]

    def _case_view(self, session: Session, case: Case) -> CaseView:
        """The case as the caller sees it, from the row and open steps the operation already holds."""
        version = self.procedures.load(session, case.procedure_version_id)
        return CaseView(
            **{name: getattr(case, name) for name in (*START_FIELDS, *ROW_FIELDS)},
            id=case.id,
            code=case.code,
            procedure_name=version.name,
            procedure_version=version.version,
            applicant=case.applicant,
            status_label=STATUS_LABELS.get(case.status, ""),
            sla=case.sla,
            data=case.data,
            version=case.version,
            tasks=self._open_tasks(session, case),
        )

    # ------------------------------------------------------------------ calendar overrides
    def calendar_overrides(self) -> list[dict[str, Any]]:
        """Every override row ever entered, oldest first (the table is its own history)."""
        with self.db.read() as session:
            return [
                {
                    "id": r.id,
                    "day": r.day,
                    "kind": r.kind,
                    "note": r.note,
                    "created_at": r.created_at,
                    "created_by": r.created_by,
                }
                for r in history(session)
            ]

    def add_calendar_override(self, day: date, kind: str, note: str, actor: Actor) -> dict[str, Any]:
        """Record a government day swap (admin only). In the same unit of work every open case whose
        receipt deadline, step due or appointment the day can move is recomputed under the new
        calendar, one ``calendar_changed`` event per case that moved (printed appointments stay; one
        now on a day off is flagged for a new appointment, Mẫu 04)."""
        if not actor.has_role("admin"):
            raise Forbidden("Chỉ quản trị hệ thống được điều chỉnh lịch làm việc")
        try:
            return self._add_override(day, kind, note, actor)
        except BaseException:
            self.calendar.invalidate()  # it holds the override that just rolled back
            raise
        finally:
            with self.db.read() as session:
                self.calendar.refresh(session, force=True)

    def _add_override(self, day: date, kind: str, note: str, actor: Actor) -> dict[str, Any]:
        with self._uow() as session:
            row = add_override(session, day, kind, note, actor.username, self.clock.now())
            self.calendar.refresh(session, force=True)  # the cases below move under the new calendar
            moved: list[str] = []
            flagged: list[str] = []
            for case_id in affected_case_ids(session, day, self.calendar.current.config.tz):
                case = session.get(Case, case_id)
                assert case is not None
                if self.cases.calendar_changed(session, case, row.day, kind, note, actor):
                    moved.append(case.code)
                    if "appointment_on_day_off" in (case.sla or {}).get("flags", []):
                        flagged.append(case.code)
            # Appointments stay, but the working time the dossiers spanning the day were given and
            # have left changes: their amber moments (the board's read model) move.
            start, end = day_span(day, self.calendar.current.config.tz)
            board.recompute_amber(session, self.calendar, self.settings.amber_threshold, start, end)
            result = {
                "id": row.id,
                "day": row.day,
                "kind": row.kind,
                "note": row.note,
                "moved": moved,
                "appointments_on_day_off": flagged,
            }
        return result

    def fresh_calendar(self) -> LiveCalendar:
        """The calendar including the newest stored overrides (for read-only callers)."""
        with self.db.read() as session:
            self.calendar.refresh(session, force=True)
        return self.calendar

    def colour(self, started_at: datetime, due_at: datetime) -> str:
        return sla.colour(self.clock.now(), started_at, due_at, self.calendar, self.settings.amber_threshold)

    # ------------------------------------------------------------------ desk, tasklist, board
    # (read models and work assignment for web/ and the API; logic lives in queries/assignment)
    def procedure(self, procedure_id: str) -> ProcedureView:
        """The latest version of one procedure (what new cases start on)."""
        with self.db.read() as session:
            return _procedure_view(self.procedures.latest(session, procedure_id))

    def desk_queue(self, status: int = 1, search: str | None = None) -> list[queries.QueueRow]:
        """Dossiers waiting at the desk: status 1 = awaiting receipt (8-hour rule), 9 = awaiting return;
        ``search`` keeps those whose code, applicant name or CCCD contains it (accents optional).
        The first 500; :meth:`desk_page` pages through all of them."""
        return self.desk_page(status, search).rows

    def desk_page(
        self, status: int = 1, search: str | None = None, after: str | None = None, limit: int = 500
    ) -> queries.DeskPage:
        """One page of :meth:`desk_queue`: ``limit`` dossiers after the cursor ``after`` (the previous
        page's ``next_after``), how many the queue holds and the next page's cursor."""
        with self.db.read() as session:
            self.calendar.refresh(session)
            return queries.desk_queue(
                session, self.clock.now(), self.calendar, status, limit=limit, search=search, after=after
            )

    def tasklist(
        self, actor: Actor, filters: queries.TaskFilter | Mapping[str, Any] | None = None
    ) -> list[queries.TaskRow]:
        """Open work of ``actor`` (claimed) or of the actor's roles, with SLA colour and time left."""
        wanted = (
            filters
            if isinstance(filters, queries.TaskFilter)
            else _parse_any(queries.TaskFilter, filters or {})
        )
        with self.db.read() as session:
            self.calendar.refresh(session)
            return queries.tasklist(
                session, actor, wanted, self.clock.now(), self.calendar, self.settings.amber_threshold
            )

    def control_sheet(self, ref: str) -> list[queries.ControlRow]:
        """Rows of the control sheet (Mẫu 05) of one dossier."""
        with self.db.read() as session:
            return queries.control_sheet(session, find_case(session, ref))

    def sla_board(self) -> queries.Board:
        """Breached and approaching dossiers per procedure, receipt breaches, apology status."""
        with self.db.read() as session:
            self.calendar.refresh(session)
            return queries.sla_board(session, self.clock.now(), self.calendar, self.settings.amber_threshold)

    def remaining_working_hours(self, due_at: datetime | None) -> float | None:
        """Working hours from now to ``due_at`` (negative when late)."""
        return queries.remaining_hours(self.clock.now(), due_at, self.calendar)

    def claim_task(self, task_id: str, actor: Actor) -> CaseView:
        """Take an open step for oneself (refused when someone else holds it)."""
        with self._uow() as session:
            item = assignment.claim(self.cases, session, task_id, actor)
            return self._case_view(session, _case_of(session, item.case_id))

    def release_task(self, task_id: str, actor: Actor) -> CaseView:
        """Give a claimed step back to the pool (its holder or a head)."""
        with self._uow() as session:
            item = assignment.release(self.cases, session, task_id, actor)
            return self._case_view(session, _case_of(session, item.case_id))

    def reassign_task(self, task_id: str, username: str, actor: Actor) -> CaseView:
        """A head hands an open step to a colleague with the step's role."""
        with self._uow() as session:
            item = assignment.reassign(self.cases, session, task_id, username, actor)
            return self._case_view(session, _case_of(session, item.case_id))

    def users_with_role(self, role: str, unit: str | None = None) -> list[tuple[str, str]]:
        """Active users holding ``role`` (and in ``unit`` when given), for the reassign picker."""
        with self.db.read() as session:
            return assignment.users_with_role(session, role, unit)

    def complete_work_item(
        self,
        ref: str,
        task_ref: str,
        data: Mapping[str, Any],
        actor: Actor,
        expected_version: int | None = None,
    ) -> CaseView:
        """The same as :meth:`complete_task` (kept for the staff pages' name)."""
        return self.complete_task(ref, task_ref, data, actor, expected_version)

    def add_document(
        self, ref: str, document_code: str, filename: str, content: bytes, actor: Actor
    ) -> documents.DocumentView:
        """Attach an uploaded file (stored with its SHA-256, recorded in the case history)."""
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)
            return self._attach(session, case, document_code, filename, content, actor)

    def _attach(
        self, session: Session, case: Case, document_code: str, filename: str, content: bytes, actor: Actor
    ) -> documents.DocumentView:
        meta = self.procedures.load(session, case.procedure_version_id).meta
        required = list(meta.get("documents", []))
        return documents.add_document(
            self.cases,
            session,
            case,
            required,
            document_code,
            filename,
            content,
            actor,
            self.clock.now(),
            self.files,
        )

    def list_documents(self, ref: str) -> list[documents.DocumentView]:
        with self.db.read() as session:
            return documents.list_documents(session, find_case(session, ref))

    def read_document(self, ref: str, document_id: int) -> tuple[documents.DocumentView, bytes]:
        with self.db.read() as session:
            return documents.read_document(session, find_case(session, ref), document_id, self.files)

    # ------------------------------------------------------------------ citizens (code + secret)
    def citizen_add_document(
        self, code: str, secret: citizen.CitizenProof, document_code: str, filename: str, content: bytes
    ) -> documents.DocumentView:
        """A citizen attaches a file while submitting or supplementing (secret checked first)."""
        with self._uow() as session:
            case = citizen.case_by_secret(session, code, secret)
            return self._attach(session, case, document_code, filename, content, CITIZEN)

    def citizen_complete(
        self, code: str, secret: citizen.CitizenProof, task_ref: str, data: Mapping[str, Any]
    ) -> CaseView:
        """A citizen completes their own step (supplementation), after the secret check."""
        data = nfc(dict(data)) if isinstance(data, Mapping) else data
        with self._uow() as session:
            case = citizen.case_by_secret(session, code, secret)
            self._complete(session, case, task_ref, data, CITIZEN)
            return self._case_view(session, case)

    def citizen_supplement(
        self,
        code: str,
        secret: citizen.CitizenProof,
        task_ref: str,
        data: Mapping[str, Any],
        uploads: Sequence[submissions.Upload] = (),
    ) -> CaseView:
        """The citizen answers a supplementation request: the files, each filed under its component,
        and the step's form in one transaction, so a refused form leaves no orphan files behind."""
        data = nfc(dict(data)) if isinstance(data, Mapping) else data
        with self._uow() as session:
            case = citizen.case_by_secret(session, code, secret)
            meta = self.procedures.load(session, case.procedure_version_id).meta
            optional = [{**d, "required": False} for d in meta.get("documents", [])]
            problems = submissions.document_problems(optional, uploads)
            if problems:
                raise submissions.refuse(problems)
            for upload in uploads:
                self._attach(session, case, upload.document_code, upload.filename, upload.content, CITIZEN)
            self.cases.complete(session, case, task_ref, data, CITIZEN)
            return self._case_view(session, case)

    def rate(
        self, code: str, secret: citizen.CitizenProof, score: int, comment: str = ""
    ) -> citizen.RatingView:
        """The citizen's satisfaction rating after the result was returned (one per dossier)."""
        with self._uow() as session:
            case = citizen.case_by_secret(session, code, secret)
            return citizen.rate(session, case, score, comment, self.clock.now())

    def rating(self, code: str, secret: citizen.CitizenProof) -> citizen.RatingView | None:
        with self.db.read() as session:
            return citizen.existing_rating(session, citizen.case_by_secret(session, code, secret))

    def satisfaction(self, procedure_id: str | None = None) -> citizen.SatisfactionStats:
        """Rating counts for Decision 766 statistics."""
        with self.db.read() as session:
            return citizen.satisfaction(session, procedure_id)

    # ------------------------------------------------------------------ withdrawal (status 7 → 8)
    def request_withdrawal(
        self, ref: str, reason: str, actor: Actor, paper: tuple[str, bytes] | None = None
    ) -> CaseView:
        """The citizen asks to withdraw at the desk; the clerk enters it with the scan of the signed
        paper request (``paper`` = file name, bytes), stored as a document of the dossier; status 7."""
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)

            def store_paper() -> dict[str, Any]:
                assert paper is not None
                view = self._attach(session, case, "", paper[0], paper[1], actor)
                return {"document_id": view.id, "filename": view.filename, "sha256": view.sha256}

            withdrawal.request(
                self.cases, session, case, reason, actor, store_paper if paper is not None else None
            )
            return self._case_view(session, case)

    def citizen_request_withdrawal(self, code: str, secret: citizen.CitizenProof, reason: str) -> CaseView:
        """The citizen asks to withdraw online, after the secret check; status 7."""
        with self._uow() as session:
            case = citizen.case_by_secret(session, code, secret)
            withdrawal.request(self.cases, session, case, reason, CITIZEN)
            return self._case_view(session, case)

    def confirm_withdrawal(self, ref: str, actor: Actor) -> CaseView:
        """An officer confirms the withdrawal: processing stops (status 8), open steps are cancelled."""
        with self._uow() as session:
            case = find_case(session, ref)
            self._authorize(session, case, actor, Action.CHANGE)
            withdrawal.confirm(self.cases, session, case, actor)
            return self._case_view(session, case)

    def field_labels(self, ref: str) -> dict[str, queries.FieldLabel]:
        """Form titles and choice labels for showing a dossier's data to people."""
        with self.db.read() as session:
            return queries.field_labels(session, find_case(session, ref))

    # ------------------------------------------------------------------ auditor (issue 7)
    # History integrity, replay and reports; the logic lives in integrity, replay, reports, index766.
    def verify_history(
        self, ref: str | None = None, seals_file: Path | None = None
    ) -> integrity.VerifyReport:
        """Verify one case's hash chain (``ref``) or every case's plus the latest seal; with
        ``seals_file`` also compare every seal with its signed copy outside the database."""
        with self.db.read() as session:
            self.calendar.refresh(session)
            code = find_case(session, ref).code if ref is not None and _case_exists(session, ref) else ref
            report = integrity.verify(session, code, self.files)
            case_ids = (
                [find_case(session, code).id] if code is not None and _case_exists(session, code) else None
            )
            if code is None or case_ids:
                report.findings.extend(
                    integrity.Finding(case, None, problem, reason)
                    for case, _, problem, reason in results.check_results(
                        session, self.files, self.signing, case_ids
                    )
                )
            # A case whose history is itself altered is reported by the chain check alone.
            altered = {f.case for f in report.findings if f.case is not None}
            report.findings.extend(
                audit_store.snapshot_findings(session, self.procedures, self.calendar.current, code, altered)
            )
            if seals_file is not None:
                if not seals_file.exists():
                    raise NotFound(f"Không tìm thấy tệp niêm phong {seals_file}")
                public = seal_log.public_key_of(self.seal_key_path)
                report.findings.extend(seal_log.compare(session, seal_log.read_entries(seals_file), public))
            return report

    def _anchor_seals(self) -> None:
        """Copy every new seal to the signed outside log (after the sealing transaction committed)."""
        log = seal_log.SealLog(self.seal_log_path, seal_log.load_or_create_key(self.seal_key_path))
        with self.db.read() as session:
            log.export(session)

    def seal_day(self, day: date | None = None) -> integrity.DigestView:
        """Store the daily digest of every case's chain head (default: yesterday, local)."""
        from datetime import timedelta

        now = self.clock.now()
        target = day or (now.astimezone(sla.LOCAL_TZ).date() - timedelta(days=1))
        with self.db.unit_of_work() as session:
            view = integrity.record_digest(session, target, now)
        self._anchor_seals()
        return view

    def seal_finished_days(self) -> list[integrity.DigestView]:
        """Seal every finished day since the latest digest; what a worker calls once in a while."""
        with self.db.unit_of_work() as session:
            views = integrity.record_due_digests(session, self.clock.now())
        self._anchor_seals()
        return views

    def compact_board(self) -> int:
        """Fold the SLA board's count deltas (the worker calls this hourly); returns the rows left."""
        with self.db.unit_of_work() as session:
            return board.compact(session, self.clock.now())

    def _board_fingerprint(self) -> str:
        return board.fingerprint(self.settings.amber_threshold, self.settings.calendar, *calendar_sources())

    def _rebuild_board(self, session: Session) -> int:
        changed = board.rebuild(session, self.calendar, self.settings.amber_threshold, self.clock.now())
        board.record_build(session, self._board_fingerprint(), self.clock.now())
        return changed

    def rebuild_board(self) -> int:
        """Rebuild the SLA board's read model from the dossiers (``audit board --repair``, after a
        check found it out of step); returns how many case rows' board columns changed."""
        with self.db.unit_of_work() as session:
            self.calendar.refresh(session, force=True)
            return self._rebuild_board(session)

    def rebuild_register_days(self) -> int:
        """Recount the register's days from the report facts (``audit register-days --repair``);
        returns how many days hold dossiers. Refreshes wait meanwhile."""
        with self.db.unit_of_work() as session:
            facts_store.serialise(session)
            return register_days.rebuild(session)

    def check_board(self) -> list[str]:
        """Where the SLA board's read model differs from a recount of the dossiers (none if sound)."""
        with self.db.read() as session:
            self.calendar.refresh(session)
            return board.check(session, self.calendar, self.settings.amber_threshold, self.clock.now())

    def check_register_days(self) -> list[str]:
        """Where the register's counts by day differ from a recount of the report facts (none if
        sound); no refresh commits between the two reads."""
        with self.db.read() as session:
            facts_store.serialise(session)
            return register_days.check(session)

    def seal_current_hour(self) -> integrity.DigestView | None:
        """Checkpoint-seal today up to the start of this hour (the worker calls this hourly)."""
        with self.db.unit_of_work() as session:
            view = integrity.record_checkpoint(session, self.clock.now())
        self._anchor_seals()
        return view

    def replay_case(self, ref: str, at: int | None = None) -> audit_store.ReplayReport:
        """Rebuild a case's state at event ``at`` from its events alone (and check the snapshot)."""
        with self.db.read() as session:
            self.calendar.refresh(session)
            case = find_case(session, ref)
            return audit_store.replay_case(session, self.procedures, self.calendar.current, case, at)

    def refresh_report_facts(self, limit: int | None = None, wait: bool = True) -> int:
        """Bring the report facts read model up to date: only the dossiers changed since the last
        refresh are recomputed (usually none), in a transaction of its own; returns how many.
        Reports call it before they read (all of them, waiting for a refresh under way); the worker
        calls it when idle with a ``limit`` and without waiting, so a due timer never waits behind
        thousands of dossiers' facts or behind another worker's refresh."""
        with self.db.read() as session:
            stale = facts_store.has_stale(session)
        if not stale:
            return 0
        with self.db.unit_of_work() as session:
            return facts_store.refresh(session, limit=limit, wait=wait)

    def dossier_register(self, first: date, last: date) -> reports.Table:
        """Sổ theo dõi hồ sơ (Mẫu 06) of the dossiers submitted between two local dates, complete
        (exports and the API), from the facts read model."""
        start, end = reports.local_bounds(first, last)
        self.refresh_report_facts()
        with self.db.read() as session:
            facts = facts_store.register_facts(session, start, end)
        return reports.register(facts, first, last, agency=self.settings.agency_code)

    def dossier_register_page(
        self, first: date, last: date, after: tuple[datetime, str] | None = None, size: int = 100
    ) -> tuple[reports.Table, facts_store.RegisterPage]:
        """One page of the register (the page a browser shows): its rows numbered as in the whole
        register, the total, and the cursor of the next page."""
        self.refresh_report_facts()
        with self.db.read() as session:
            page = facts_store.register_page(session, first, last, after, size)
        table = reports.register(
            page.facts, first, last, agency=self.settings.agency_code, first_number=page.first_number
        )
        return table, page

    def control_sheet_form(self, ref: str) -> reports.Table:
        """Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu 05) of one dossier, from its events."""
        with self.db.read() as session:
            case = find_case(session, ref)
            events, elements, names = audit_store.case_history(session, case)
            return reports.control_sheet(case.code, events, elements, names)

    def periodic_report(
        self, year: int, period: str, rule: reports.CutoffRule | None = None
    ) -> reports.PeriodicReport:
        """Received, finished early/on time/late, in progress, supplementations… for a named period."""
        first, last = reports.period_window(year, period, rule)
        start, end = reports.local_bounds(first, last)
        self.refresh_report_facts()
        with self.db.read() as session:
            # Sums of the window's days from the report rollup (flat in the number of dossiers)...
            found = report_rollup.periodic_report(session, first, last, reports.period_label(year, period))
            if found is not None:
                return found
            # ...unless a procedure was renamed within the window: then count the dossiers that
            # can count in it, from the facts read model.
            facts = facts_store.window_facts(session, start, end)
        return reports.periodic_report_for(facts, year, period, rule)

    def _procedure_infos(self, session: Session) -> list[index766.ProcedureInfo]:
        return [
            index766.ProcedureInfo(
                row.procedure_id,
                str(row.meta.get("online_level", "none")),
                int(row.meta.get("fee") or 0),
                bool(row.meta.get("payment_integrated", False)),
            )
            for row in self.procedures.list_latest(session)
        ]

    def scorecard_766(
        self, first: date, last: date, config: index766.ScorecardConfig | None = None
    ) -> index766.Scorecard:
        """Decision 766 scorecard for dossiers received or processed between two local dates, from
        the facts read model: only the dossiers that can count in the window are read (every
        indicator looks at a moment in it, or at a dossier received before its end and not ended
        before its start), not every history since the beginning."""
        self.refresh_report_facts()
        with self.db.read() as session:
            self.calendar.refresh(session)
            facts = facts_store.window_facts(session, *reports.local_bounds(first, last))
            procedures = self._procedure_infos(session)
        numbers = feedback.feedback_numbers(self, first, last)
        return index766.scorecard(facts, first, last, procedures, config, self.calendar, numbers)

    def director_view_766(
        self, first: date, last: date, config: index766.ScorecardConfig | None = None
    ) -> index766_targets.DirectorView:
        """The scorecard as a director reads it: points, the plan's targets in force for the year the
        period ends in, the gap, the monthly trend and the dossiers behind each gap (its months lie
        inside the window, so the window's dossiers are theirs too)."""
        self.refresh_report_facts()
        with self.db.read() as session:
            self.calendar.refresh(session)
            facts = facts_store.window_facts(session, *reports.local_bounds(first, last))
            procedures = self._procedure_infos(session)
            targets = targets_store.targets_for(session, last.year)
        numbers = feedback.feedback_numbers(self, first, last)
        return index766_targets.director_view(
            facts, first, last, procedures, config, self.calendar, targets, numbers
        )

    def scorecard_targets(self, year: int) -> dict[str, Any]:
        """The targets in force for a year and every row ever entered for it (the history)."""
        with self.db.read() as session:
            return {
                "year": year,
                "targets": targets_store.targets_for(session, year),
                "defaults": dict(index766_targets.DEFAULT_TARGETS),
                "history": [
                    {
                        "id": r.id,
                        "year": r.year,
                        "code": r.code,
                        "target": r.target,
                        "note": r.note,
                        "created_at": r.created_at,
                        "created_by": r.created_by,
                    }
                    for r in targets_store.history(session, year)
                ],
            }

    def set_scorecard_target(
        self, year: int, code: str, percent: str, note: str, actor: Actor
    ) -> dict[str, Any]:
        """Record a plan target for one line and year (admin only); earlier rows stay as history."""
        if not actor.has_role("admin"):
            raise Forbidden("Chỉ quản trị hệ thống được đặt chỉ tiêu của bộ chỉ số 766")
        with self._uow() as session:
            row = targets_store.add_target(
                session, year, code, percent, note, actor.username, self.clock.now()
            )
            return {"id": row.id, "year": row.year, "code": row.code, "target": row.target, "note": row.note}

    # ------------------------------------------------------------------ designer
    def _library_shared(self) -> dict[str, bytes]:
        return designer.library_shared(self.settings.library_dir)

    def import_assist(
        self,
        source: str,
        main: bytes,
        actor: Actor,
        *,
        procedure_id: str | None = None,
        choices: importer.ImportChoices = importer.NO_CHOICES,
    ) -> importer.ImportReport:
        """The import assistant's report on a foreign diagram (designers only); stores nothing."""
        if not actor.has_role("designer"):
            raise Forbidden("Chỉ người thiết kế quy trình được dùng trợ lý nhập sơ đồ")
        return importer.assess(
            source, main, procedure_id=procedure_id, choices=choices, shared=self._library_shared()
        )

    def validate_procedure(self, main_name: str, main: bytes) -> designer.ValidationReport:
        """Every problem of an edited procedure file (with the library's shared files); stores nothing."""
        return designer.validate_upload(main_name, main, self._library_shared())

    def deploy_designed(
        self, procedure_id: str, main: bytes, actor: Actor
    ) -> tuple[ProcedureView, designer.VersionDiff, bool]:
        """Deploy an edited procedure as version N+1 (designers only); (view, diff vs N, created).

        Nothing is stored unless the report has no errors; cases already running stay on their version.
        """
        if not actor.has_role("designer"):
            raise Forbidden("Chỉ người thiết kế quy trình được triển khai quy trình")
        main_name = f"{procedure_id}.bpmn"
        report = self.validate_procedure(main_name, main)
        if not report.ok or report.bundle is None:
            listing = "; ".join(f"{i.element_id or 'tệp'}: {i.message}" for i in report.errors)
            raise ProcedureError(
                f"Quy trình không đạt kiểm tra, chưa triển khai: {listing}", details=report.as_dict()
            )
        if report.procedure_id != procedure_id:
            raise ValidationError(
                f"Tệp BPMN là của quy trình '{report.procedure_id}', không phải '{procedure_id}'"
            )
        with self._uow() as session:
            rows = self.procedures.versions(session, procedure_id)
            previous = _version_files(rows[-1]) if rows else None
            row, created = self.procedures.deploy_bundle(session, report.bundle, actor.username)
            # The deployed file is the editor's latest state: a draft of it would only be stale.
            drafts.discard(session, procedure_id)
            return _procedure_view(row), designer.diff_versions(previous, report.bundle.files), created

    def save_draft(
        self, procedure_id: str, main: bytes, actor: Actor
    ) -> tuple[drafts.DraftView, designer.ValidationReport]:
        """Store an edit without deploying it (designers only), with its validation report.

        Stored even when it does not validate yet, but never when the XML is unsafe or belongs to
        another procedure (raises, nothing stored).
        """
        if not actor.has_role("designer"):
            raise Forbidden("Chỉ người thiết kế quy trình được lưu bản nháp quy trình")
        text = drafts.check_draft(procedure_id, main)
        report = self.validate_procedure(f"{procedure_id}.bpmn", main)
        with self._uow() as session:
            latest = self.procedures.latest(session, procedure_id)
            view = drafts.save(
                session, procedure_id, text, latest.version, report.ok, actor.username, self.clock.now()
            )
        return view, report

    def draft(self, procedure_id: str) -> drafts.DraftView | None:
        with self.db.read() as session:
            return drafts.load(session, procedure_id)

    def discard_draft(self, procedure_id: str, actor: Actor) -> bool:
        if not actor.has_role("designer"):
            raise Forbidden("Chỉ người thiết kế quy trình được bỏ bản nháp quy trình")
        with self._uow() as session:
            return drafts.discard(session, procedure_id)

    def procedure_history(self, procedure_id: str) -> list[tuple[ProcedureView, designer.VersionDiff]]:
        """Every version of a procedure, oldest first, each with what it changed from the one before."""
        with self.db.read() as session:
            rows = self.procedures.versions(session, procedure_id)
            if not rows:
                raise NotFound(f"Không tìm thấy thủ tục '{procedure_id}'")
            history = []
            previous: dict[str, bytes] | None = None
            for row in rows:
                files = _version_files(row)
                history.append((_procedure_view(row), designer.diff_versions(previous, files)))
                previous = files
            return history

    def procedure_file(self, procedure_id: str, version: int | None = None) -> tuple[str, bytes]:
        """(file name, exact BPMN bytes) of a version's main file; the latest when ``version`` is None."""
        with self.db.read() as session:
            rows = self.procedures.versions(session, procedure_id)
            wanted = rows[-1].version if version is None and rows else version
            row = next((r for r in rows if r.version == wanted), None)
            if row is None:
                raise NotFound(f"Không tìm thấy phiên bản {version} của thủ tục '{procedure_id}'")
            name = f"{procedure_id}.bpmn"
            return name, str(row.files.get(name, "")).encode("utf-8")


def _parse(model: type[StartCase], value: StartCase | Mapping[str, Any]) -> StartCase:
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except PydanticValidationError as exc:
        problems = input_problems(exc)
        text = "; ".join(f"{p['title']}: {p['message']}" for p in problems)
        raise ValidationError(f"Dữ liệu không hợp lệ — {text}", details={"fields": problems}) from exc


def submission_form(elements: Mapping[str, Mapping[str, Any]], procedure_id: str) -> dict[str, Any] | None:
    """The procedure's own submission fields: the form on the start event of its main process."""
    for element in elements.values():
        if (
            element.get("type") == "startEvent"
            and element.get("process_id") == procedure_id
            and element.get("form")
        ):
            return dict(element["form"])
    return None


def _procedure_view(row: ProcedureVersion) -> ProcedureView:
    steps = [
        {"element_id": e["id"], "name": e.get("name"), "role": e.get("role"), "hours": e.get("hours")}
        for e in row.elements.values()
        if e.get("role")
    ]
    return ProcedureView(
        procedure_id=row.procedure_id,
        name=row.name,
        code=row.national_code,
        version=row.version,
        content_hash=row.content_hash,
        legal_time=float(row.meta["legal_time"]),
        legal_unit=str(row.meta["legal_unit"]),
        deployed_at=row.deployed_at,
        deployed_by=row.deployed_by,
        steps=steps,
        meta=row.meta,
        submission_form=submission_form(row.elements, row.procedure_id),
    )


def _event_view(row: CaseEvent) -> EventView:
    return EventView(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        task_id=row.task_id,
        element_id=row.element_id,
        status_from=row.status_from,
        status_to=row.status_to,
        payload=row.payload,
        hash=row.hash,
    )


def library_dir() -> Path:
    return EngineSettings().library_dir


def _routings(session: Session, case: Case) -> list[access.Routing]:
    """Where the dossier's steps (open and done) were sent: what the access policy reads."""
    rows = session.execute(
        select(WorkItem.role, WorkItem.unit).where(WorkItem.case_id == case.id).distinct()
    ).all()
    return [access.Routing(role, unit) for role, unit in rows]


def _case_of(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("Không tìm thấy hồ sơ")
    return case


def _parse_any(model: type[queries.TaskFilter], value: Mapping[str, Any]) -> queries.TaskFilter:
    try:
        return model.model_validate(value)
    except PydanticValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()
        ]
        raise ValidationError("Bộ lọc không hợp lệ", details={"fields": problems}) from exc


def _open_item(items: Mapping[str, WorkItem], task_ref: str) -> WorkItem | None:
    """The open step a task id names or, when only one is open there, an element id names; None lets
    :func:`engine.assignment.open_item` tell a closed step from an unknown one."""
    if task_ref in items:
        return items[task_ref]
    by_element = [i for i in items.values() if i.element_id == task_ref]
    return by_element[0] if len(by_element) == 1 else None


def _identity_events(session: Session, case: Case) -> list[tuple[str, Any]]:
    rows = session.execute(
        select(CaseEvent.kind, CaseEvent.payload)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind.in_((EventKind.IDENTITY_CHECKED, EventKind.IDENTITY_OVERRIDDEN)),
        )
        .order_by(CaseEvent.seq)
    )
    return [(str(kind), payload) for kind, payload in rows]


def _case_exists(session: Session, ref: str) -> bool:
    try:
        find_case(session, ref)
    except NotFound:
        return False
    return True


def _version_files(row: ProcedureVersion) -> dict[str, bytes]:
    return {name: str(text).encode("utf-8") for name, text in row.files.items()}
