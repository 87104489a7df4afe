"""Request and response bodies of the JSON API (pydantic at the edge; they also generate OpenAPI)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from engine.citizen import CitizenDossier
from engine.service import Applicant


class ApiError(BaseModel):
    """Every error answer: a stable English code, a Vietnamese message, optional details."""

    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class CsrfToken(BaseModel):
    csrf_token: str


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    username: str
    full_name: str
    roles: list[str]
    unit: str | None
    must_change_password: bool = False


class UploadedDocument(BaseModel):
    """One dossier component as a file, base64-encoded (PDF, JPG, PNG, DOC, DOCX, ODT; ≤ 10 MB)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(default="", max_length=50, description="component code (TP1…); empty for other files")
    filename: str = Field(min_length=1, max_length=255)
    content_base64: str = Field(min_length=1, max_length=14_000_000)


class CounterCase(BaseModel):
    """A dossier opened by the desk: in person (1) or received by post (3), optionally with its
    scanned components and the receipt check (``receipt``: the receipt step's form, e.g.
    ``{"decision": "accept", "checked_documents": ["TP1", "TP2"]}``), all stored together."""

    model_config = ConfigDict(extra="forbid")

    procedure_id: str = Field(min_length=1, max_length=100)
    applicant: Applicant
    channel: Literal[1, 3] = 1
    documents: list[UploadedDocument] = Field(default_factory=list, max_length=20)
    receipt: dict[str, Any] | None = None


class OnlineSubmission(BaseModel):
    """A citizen's online submission (channel 2): every required component as a file, the
    procedure's own fields in ``data``. Send an ``Idempotency-Key`` header (16–128 characters of
    letters, digits, '-' or '_') to make a retry return the first dossier instead of a second one."""

    model_config = ConfigDict(extra="forbid")

    procedure_id: str = Field(min_length=1, max_length=100)
    applicant: Applicant
    data: dict[str, Any] = Field(default_factory=dict)
    documents: list[UploadedDocument] = Field(default_factory=list, max_length=20)
    # Components taken from the citizen's data store instead of a file (component code → entry
    # number from /api/public/reuse-offers); needs the portal's signed identity (X-Motcua-Identity).
    reuse: dict[str, int] = Field(default_factory=dict, max_length=20)


class ReissuedSecret(BaseModel):
    code: str
    secret: str = Field(description="Mã tra cứu mới: shown once; the previous one no longer works")


class Submitted(BaseModel):
    code: str
    secret: str = Field(description="Mã tra cứu: shown once, only its digest is stored")
    status: int
    receipt_due_at: str | None


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(default_factory=dict)
    expected_version: int | None = Field(
        default=None, description="Case version the client saw (409 if stale)"
    )


class ReassignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=80)
    secret: str = Field(min_length=1, max_length=64)


class PublicStatus(BaseModel):
    """What a citizen sees: no staff names, no internal data."""

    code: str
    procedure_name: str
    status: int
    status_label: str
    submitted_at: str
    received_at: str | None
    due_at: str | None
    returned_at: str | None
    outcome: str | None


class SignedInCitizen(BaseModel):
    """Who signed in through the identity provider (from the verified ID token)."""

    cccd: str
    full_name: str


class MyDossiers(BaseModel):
    """"Hồ sơ của tôi": the signed-in citizen and the dossiers whose applicant CCCD is theirs."""

    citizen: SignedInCitizen
    cases: list[CitizenDossier]


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=80)
    secret: str = Field(min_length=1, max_length=64)
    score: Literal[1, 2, 3] = Field(description="1 không hài lòng, 2 hài lòng, 3 rất hài lòng")
    comment: str = Field(default="", max_length=2000)


class ApologyRequest(BaseModel):
    """Mẫu 04: the unit at fault, the reason, and the new appointment (ISO 8601 with offset). ``kind``:
    ``late`` (needs a new appointment; the dossier counts as late), ``mistake`` (a new appointment only
    if needed; not late) or ``calendar`` (a printed appointment a calendar change put on a day off)."""

    model_config = ConfigDict(extra="forbid")

    new_due: AwareDatetime | None = None
    reason: str = Field(min_length=1, max_length=2000)
    unit_at_fault: str = Field(min_length=1, max_length=200)
    kind: Literal["late", "mistake", "calendar"] = "late"


class SupplementApprovalRequest(BaseModel):
    """A head of department allows a second supplementation request (procedures that allow it)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class WithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class PublicWithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=80)
    secret: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)


class DocumentUpload(BaseModel):
    """multipart/form-data: ``file`` plus the procedure document code it answers (empty = other)."""

    document_code: str = Field(default="", max_length=50)
    file: bytes = Field(json_schema_extra={"format": "binary"})


class DeskWithdrawalRequest(BaseModel):
    """multipart/form-data: the applicant's reason and ``paper``, the scan of the request they signed
    at the desk (the officer who confirms sees it)."""

    reason: str = Field(min_length=1, max_length=2000)
    paper: bytes = Field(json_schema_extra={"format": "binary"})


class CalendarOverrideRequest(BaseModel):
    """A government day swap: ``off`` = extra day off, ``work`` = make-up working day,
    ``none`` = withdraw the previous override of that day (rows are never edited or deleted)."""

    model_config = ConfigDict(extra="forbid")

    day: date
    kind: Literal["off", "work", "none"]
    note: str = Field(min_length=1, max_length=500, description="Căn cứ: văn bản, quyết định")


class ScorecardTargetRequest(BaseModel):
    """A plan target of the 766 director's view for one year and line, as a percentage ("99,4")."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=2000, le=2100)
    code: str = Field(
        min_length=1, max_length=20, description="2.1, online, 3.6, 4.1, 4.2, 4.3, satisfied, receipt_8h"
    )
    target: str = Field(min_length=1, max_length=10, description="phần trăm, ví dụ 99,4")
    note: str = Field(min_length=1, max_length=500, description="Căn cứ: kế hoạch, văn bản giao chỉ tiêu")


class CalendarOverrideView(BaseModel):
    """One stored override row; ``in_force`` is false once a later row for the same day replaced it."""

    id: int
    day: date
    kind: str
    note: str
    created_at: datetime
    created_by: str
    in_force: bool
    # Only in the answer to a new override: open dossiers whose deadlines it moved, and those whose
    # printed appointment now falls on a day off (to be offered a new one, Mẫu 04).
    moved: list[str] = []
    appointments_on_day_off: list[str] = []


def override_views(rows: list[dict[str, Any]]) -> list[CalendarOverrideView]:
    """The engine's override rows (oldest first) marked with whether each is still in force."""
    latest = {row["day"]: row["id"] for row in rows}
    return [CalendarOverrideView(**row, in_force=latest[row["day"]] == row["id"]) for row in rows]


# ------------------------------------------------------------------------------------- accounts


class AccountOut(BaseModel):
    """A staff account (never its password hash)."""

    username: str
    full_name: str
    roles: list[str]
    unit: str | None
    active: bool
    must_change_password: bool


class AccountCreate(BaseModel):
    """A new account; without ``password`` one is generated and returned once."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    full_name: str = Field(min_length=1, max_length=300)
    roles: list[str] = Field(min_length=1, max_length=8)
    unit: str | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, max_length=256)


class AccountActive(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool


class AccountRoles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[str] = Field(min_length=1, max_length=8)


class AccountUnit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: str | None = Field(default=None, max_length=100)


class PasswordResetRequest(BaseModel):
    """``link``: a one-time link valid 24 hours; ``password``: a temporary password shown once."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["link", "password"] = "link"


class IssuedCredentialOut(BaseModel):
    """Shown exactly once; the owner must choose a new password at the next login."""

    username: str
    password: str | None = None
    reset_url: str | None = None
    expires_at: datetime | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=256)


class AccountEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    username: str
    action: str
    details: dict[str, Any]


class ImportStepChoice(BaseModel):
    """The designer's value for one step (omitted fields keep the diagram's value or the proposal)."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(default=None, min_length=1, max_length=50)
    hours: float | None = Field(default=None, gt=0, le=10_000)
    status: int | None = Field(default=None, ge=1, le=10)


class ImportChoicesIn(BaseModel):
    """Confirmed values: ``procedure`` by XML attribute name (``legalTime``, ``code``…, ``name``)."""

    model_config = ConfigDict(extra="forbid")

    procedure: dict[str, str] = Field(default_factory=dict, max_length=20)
    steps: dict[str, ImportStepChoice] = Field(default_factory=dict, max_length=2_000)


class ImportAssistRequest(BaseModel):
    """A diagram from another modelling tool; ``procedure_id``: the procedure it becomes a version of
    (its process is renamed); ``choices``: values the designer confirmed instead of the proposals."""

    model_config = ConfigDict(extra="forbid")

    xml: str = Field(min_length=1, max_length=5_000_000)
    source: str = Field(default="upload.bpmn", min_length=1, max_length=255)
    procedure_id: str | None = Field(default=None, min_length=1, max_length=100)
    choices: ImportChoicesIn = Field(default_factory=ImportChoicesIn)


class ImportFindingOut(BaseModel):
    element_id: str | None
    message: str
    kind: Literal["missing", "proposed", "changed", "note"]
    attribute: str | None = Field(description="XML attribute name (legalTime, motcua:step role, …)")
    default: str | None


class ImportStepOut(BaseModel):
    element_id: str
    name: str
    type: str
    lane: str | None
    role: str
    hours: float
    status: int | None
    proposed: bool


class ImportReportOut(BaseModel):
    """One report: what the diagram lacks, the proposals, and whether the prepared copy deploys."""

    source: str
    process_id: str | None
    process_name: str
    deployable: bool
    findings: list[ImportFindingOut]
    procedure: dict[str, str]
    steps: list[ImportStepOut]
    problems: list[str]
    warnings: list[str]
    prepared: str | None = Field(description="the diagram with the proposals filled in (BPMN XML)")
