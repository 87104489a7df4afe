"""JSON API under /api/: the same operations as the pages, for the portal and other clients.

Authentication is the staff session cookie. CSRF: every POST needs the ``X-CSRFToken`` header with
the token from ``GET /api/csrf`` (the same CSRFProtect check as the forms). A client without cookies
has no ambient authority to abuse, but it must still fetch a token — one rule, no exemptions.
Errors are ``{"error", "message", "details"}`` with 4xx for bad input.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from engine.errors import ValidationError
from engine.importer import ImportChoices, StepChoice
from engine.messages import input_problems
from engine.service import CaseView
from engine.sla import LOCAL_TZ
from engine.submissions import Upload

from . import auditor, security
from .admin import incident_number
from .api_models import (
    ApologyRequest,
    CalendarOverrideRequest,
    CompleteRequest,
    CounterCase,
    ImportAssistRequest,
    LoginRequest,
    LookupRequest,
    OnlineSubmission,
    PublicWithdrawalRequest,
    RatingRequest,
    ReassignRequest,
    ReissuedSecret,
    ScorecardTargetRequest,
    SupplementApprovalRequest,
    UploadedDocument,
    WithdrawalRequest,
    override_views,
)
from .citizen_session import citizen_unauthorized, signed_in_citizen
from .digital_deps import portal_identity
from .openapi import openapi_document
from .security import HEADS, STAFF, engine, public, rate_limit, require_actor, requires

bp = Blueprint("api", __name__, url_prefix="/api")

READERS = (*STAFF, "auditor")
M = TypeVar("M", bound=BaseModel)


def decode_documents(documents: list[UploadedDocument]) -> list[Upload]:
    uploads = []
    for i, doc in enumerate(documents):
        try:
            content = base64.b64decode(doc.content_base64, validate=True)
        except binascii.Error as exc:
            message = "nội dung không phải base64 hợp lệ"
            raise ValidationError(
                f"Tệp '{doc.filename}': {message}",
                details={"fields": [{"field": f"documents.{i}.content_base64", "message": message}]},
            ) from exc
        uploads.append(Upload(doc.code, doc.filename, content))
    return uploads


class BadJson(ValidationError):
    code = "bad_request"
    http_status = 400


def body(model: type[M]) -> M:
    """The request's JSON parsed into ``model``: 400 for malformed JSON, 422 for wrong fields or types."""
    if not request.is_json:
        raise BadJson("Nội dung phải là JSON (Content-Type: application/json)")
    raw = request.get_json(silent=True)
    if raw is None:
        raise BadJson("Dữ liệu JSON không hợp lệ")
    if not isinstance(raw, dict):
        raise ValidationError("Dữ liệu phải là một đối tượng JSON")
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        problems = input_problems(exc)
        text = "; ".join(f"{p['title']}: {p['message']}" for p in problems)
        raise ValidationError(f"Dữ liệu không hợp lệ — {text}", details={"fields": problems}) from exc


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [dump(v) for v in value]
    return value


def ok(value: Any, status: int = 200) -> ResponseReturnValue:
    response = jsonify(dump(value))
    response.status_code = status
    return response


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


@bp.get("/csrf")
@public
def csrf() -> ResponseReturnValue:
    return ok({"csrf_token": generate_csrf()})


@bp.post("/login")
@public
def login() -> ResponseReturnValue:
    req = body(LoginRequest)
    actor = security.attempt_login(req.username, req.password)
    if actor is None:
        return ok(
            {
                "error": "invalid_credentials",
                "message": "Tên đăng nhập hoặc mật khẩu không đúng",
                "details": {},
            },
            401,
        )
    return ok(_me())


@bp.post("/logout")
@requires()
def logout() -> ResponseReturnValue:
    security.logout()
    return ok({"ok": True})


def _me() -> dict[str, Any]:
    actor = require_actor()
    return {
        "username": actor.username,
        "full_name": actor.full_name,
        "roles": sorted(actor.roles),
        "unit": actor.unit,
        "must_change_password": actor.must_change_password,
    }


@bp.get("/me")
@requires()
def me() -> ResponseReturnValue:
    return ok(_me())


@bp.get("/procedures")
@public
def procedures() -> ResponseReturnValue:
    return ok(engine().list_procedures())


@bp.post("/designer/import-assist")
@requires("designer")
def import_assist() -> ResponseReturnValue:
    """The import assistant's report on a foreign diagram, with the prepared copy; stores nothing."""
    req = body(ImportAssistRequest)
    choices = ImportChoices(
        procedure=dict(req.choices.procedure),
        steps={k: StepChoice(v.role, v.hours, v.status) for k, v in req.choices.steps.items()},
    )
    report = engine().import_assist(
        req.source, req.xml.encode("utf-8"), require_actor(), procedure_id=req.procedure_id, choices=choices
    )
    return ok(report.as_dict())


@bp.post("/cases")
@requires("desk_clerk")
def start_case() -> ResponseReturnValue:
    req = body(CounterCase)
    payload = {
        "procedure_id": req.procedure_id,
        "applicant": req.applicant.model_dump(),
        "channel": req.channel,
    }
    view = engine().counter_intake(payload, decode_documents(req.documents), req.receipt, require_actor())
    return ok(view, 201)


@bp.post("/public/cases")
@public
def submit_online() -> ResponseReturnValue:
    rate_limit("submit")
    req = body(OnlineSubmission)
    uploads = decode_documents(req.documents)
    payload: dict[str, Any] = {
        "procedure_id": req.procedure_id,
        "applicant": req.applicant.model_dump(),
        "data": req.data,
    }
    if req.reuse:
        payload["reuse"] = req.reuse
    key, citizen = request.headers.get("Idempotency-Key"), signed_in_citizen()
    if citizen is not None:  # signed in through the identity provider: submitted as that person
        view = engine().submit_online_as(citizen, payload, uploads, key)
    else:
        asserted = portal_identity()  # or the national portal's signed assertion
        if asserted is not None:
            payload["identity"] = asserted
        view = engine().submit_online(payload, uploads, key)
    return ok(
        {
            "code": view.code,
            "secret": view.secret,
            "status": view.status,
            "receipt_due_at": view.receipt_due_at.isoformat() if view.receipt_due_at else None,
        },
        201,
    )


@bp.post("/cases/<code>/secret")
@requires("desk_clerk")
def reissue_secret(code: str) -> ResponseReturnValue:
    """A new lookup secret (the old one stops working); shown once, like at submission."""
    view = engine().reissue_secret(code, require_actor())
    assert view.secret is not None
    return ok(ReissuedSecret(code=view.code, secret=view.secret), 201)


@bp.get("/cases/<code>")
@requires(*READERS)
def get_case(code: str) -> ResponseReturnValue:
    return ok(engine().get_case(code))


@bp.get("/cases/<code>/events")
@requires(*READERS)
def events(code: str) -> ResponseReturnValue:
    return ok(engine().events(code))


@bp.get("/cases/<code>/tasks")
@requires(*READERS)
def case_tasks(code: str) -> ResponseReturnValue:
    return ok(engine().list_tasks(code))


@bp.post("/cases/<code>/tasks/<task_id>/complete")
@requires(*STAFF)
def complete(code: str, task_id: str) -> ResponseReturnValue:
    req = body(CompleteRequest)
    view = engine().complete_work_item(code, task_id, req.data, require_actor(), req.expected_version)
    return ok(view)


@bp.get("/tasks")
@requires(*STAFF)
def tasklist() -> ResponseReturnValue:
    args = {k: v for k, v in request.args.items() if k in ("scope", "procedure_id", "status", "due", "limit")}
    return ok(engine().tasklist(require_actor(), args))


@bp.post("/tasks/<task_id>/claim")
@requires(*STAFF)
def claim(task_id: str) -> ResponseReturnValue:
    return ok(engine().claim_task(task_id, require_actor()))


@bp.post("/tasks/<task_id>/release")
@requires(*STAFF)
def release(task_id: str) -> ResponseReturnValue:
    return ok(engine().release_task(task_id, require_actor()))


@bp.post("/tasks/<task_id>/reassign")
@requires(*HEADS)
def reassign(task_id: str) -> ResponseReturnValue:
    req = body(ReassignRequest)
    return ok(engine().reassign_task(task_id, req.username, require_actor()))


@bp.post("/lookup")
@public
def lookup() -> ResponseReturnValue:
    rate_limit("lookup")
    req = body(LookupRequest)
    return ok(public_status(engine().lookup(req.code, req.secret)))


@bp.get("/public/my/cases/<code>")
@public
def my_case(code: str) -> ResponseReturnValue:
    """One of the signed-in citizen's dossiers (the lookup's answer, opened by who they are)."""
    citizen = signed_in_citizen()
    if citizen is None:
        return citizen_unauthorized()
    return ok(public_status(engine().lookup(code[:80], citizen)))


def public_status(case: CaseView) -> dict[str, Any]:
    """What a citizen's lookup answers (:class:`PublicStatus`)."""
    return {
        "code": case.code,
        "procedure_name": case.procedure_name,
        "status": case.status,
        "status_label": case.status_label,
        "submitted_at": case.submitted_at.isoformat(),
        "received_at": case.received_at.isoformat() if case.received_at else None,
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "returned_at": case.returned_at.isoformat() if case.returned_at else None,
        "outcome": case.outcome,
    }


@bp.post("/ratings")
@public
def rate() -> ResponseReturnValue:
    rate_limit("lookup")
    req = body(RatingRequest)
    return ok(engine().rate(req.code, req.secret, req.score, req.comment), 201)


@bp.get("/board")
@requires("desk_clerk", *HEADS, "auditor")
def board() -> ResponseReturnValue:
    return ok(engine().sla_board())


@bp.get("/reports/periodic")
@requires(*auditor.REPORT_READERS)
def periodic_report() -> ResponseReturnValue:
    """The periodic report (month … year) with the plan's data window: counts and the printed table."""
    year, period, rule = auditor.periodic_args()
    report = engine().periodic_report(year, period, rule)
    return ok({**report.as_dict(), "window": rule.describe(), "table": report.table().as_dict()})


@bp.get("/reports/register")
@requires(*auditor.REPORT_READERS)
def dossier_register() -> ResponseReturnValue:
    """Sổ theo dõi hồ sơ (Mẫu 06) of the dossiers submitted between two dates."""
    first, last = auditor.date_range()
    return ok(engine().dossier_register(first, last).as_dict())


@bp.get("/reports/index766")
@requires(*auditor.REPORT_READERS)
def scorecard() -> ResponseReturnValue:
    """The Decision 766 scorecard: values, targets, gaps, trend and the dossiers behind each gap."""
    first, last = auditor.date_range()
    return ok(auditor.scorecard_answer(first, last))


@bp.get("/desk/queue")
@requires("desk_clerk")
def desk_queue() -> ResponseReturnValue:
    """Status 1 (awaiting receipt, with the 8-working-hour countdown), 5, 7 or 9."""
    raw = request.args.get("status", "1")
    if raw not in ("1", "5", "7", "9"):
        raise ValidationError(
            "Trạng thái hàng chờ phải là 1, 5, 7 hoặc 9",
            details={"fields": [{"field": "status", "message": "không hợp lệ"}]},
        )
    raw_limit = request.args.get("limit", "500")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 500:
        raise ValidationError(
            "Số hồ sơ mỗi trang phải từ 1 đến 500",
            details={"fields": [{"field": "limit", "message": "không hợp lệ"}]},
        )
    search = (request.args.get("q") or "")[:100] or None
    page = engine().desk_page(int(raw), search, request.args.get("after") or None, int(raw_limit))
    response = jsonify(dump(page.rows))
    # Keyset pagination: the body stays the list of rows; the whole queue's size and the next
    # page (RFC 8288 Link) travel in headers.
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_after is not None:
        response.headers["X-Next-After"] = page.next_after
        query = {
            "status": raw,
            "limit": raw_limit,
            "after": page.next_after,
            **({"q": search} if search else {}),
        }
        response.headers["Link"] = f'<{url_for("api.desk_queue", **query)}>; rel="next"'
    return response


@bp.post("/cases/<code>/apology")
@requires("desk_clerk", *HEADS)
def apology(code: str) -> ResponseReturnValue:
    req = body(ApologyRequest)
    return ok(
        engine().apologise(code, req.new_due, req.reason, req.unit_at_fault, require_actor(), kind=req.kind)
    )


@bp.post("/cases/<code>/supplement-approval")
@requires("head_of_department")
def approve_supplement(code: str) -> ResponseReturnValue:
    req = body(SupplementApprovalRequest)
    return ok(engine().approve_supplement(code, req.reason, require_actor()))


@bp.post("/cases/<code>/withdrawal")
@requires("desk_clerk")
def request_withdrawal(code: str) -> ResponseReturnValue:
    """multipart/form-data with ``reason`` and ``paper`` (the signed request's scan); a JSON body
    (``reason`` only) is refused by the engine for want of the paper."""
    storage = request.files.get("paper")
    if storage is not None and storage.filename:
        reason = request.form.get("reason") or ""
        paper = (storage.filename, storage.read())
        return ok(engine().request_withdrawal(code, reason, require_actor(), paper))
    req = body(WithdrawalRequest)
    return ok(engine().request_withdrawal(code, req.reason, require_actor()))


@bp.post("/cases/<code>/withdrawal/confirm")
@requires("desk_clerk", *HEADS)
def confirm_withdrawal(code: str) -> ResponseReturnValue:
    return ok(engine().confirm_withdrawal(code, require_actor()))


@bp.post("/public/withdrawal")
@public
def public_withdrawal() -> ResponseReturnValue:
    rate_limit("lookup")
    req = body(PublicWithdrawalRequest)
    case = engine().citizen_request_withdrawal(req.code, req.secret, req.reason)
    return ok({"code": case.code, "status": case.status, "status_label": case.status_label})


@bp.get("/cases/<code>/documents")
@requires(*READERS)
def documents(code: str) -> ResponseReturnValue:
    return ok(engine().list_documents(code))


@bp.post("/cases/<code>/documents")
@requires("desk_clerk", "specialist", "head_of_department", "director", "other_department")
def upload(code: str) -> ResponseReturnValue:
    """multipart/form-data with ``file`` and ``document_code``; stored with its SHA-256."""
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        raise ValidationError(
            "Thiếu tệp đính kèm (trường 'file')",
            details={"fields": [{"field": "file", "message": "bắt buộc"}]},
        )
    code_field = (request.form.get("document_code") or "").strip()
    return ok(engine().add_document(code, code_field, storage.filename, storage.read(), require_actor()), 201)


# ------------------------------------------------------------------------------ administration


@bp.get("/admin/calendar/overrides")
@requires("admin")
def calendar_overrides() -> ResponseReturnValue:
    """Every stored override row, oldest first, each marked in force or superseded."""
    return ok(override_views(engine().calendar_overrides()))


@bp.post("/admin/calendar/overrides")
@requires("admin")
def add_calendar_override() -> ResponseReturnValue:
    req = body(CalendarOverrideRequest)
    row = engine().add_calendar_override(req.day, req.kind, req.note, require_actor())
    [view] = [v for v in override_views(engine().calendar_overrides()) if v.id == row["id"]]
    moved = {"moved": row["moved"], "appointments_on_day_off": row["appointments_on_day_off"]}
    return ok(view.model_copy(update=moved), 201)


@bp.get("/admin/targets")
@requires("admin")
def scorecard_targets() -> ResponseReturnValue:
    """The 766 targets in force for ``year`` (default: this year) and the rows entered for it."""
    raw = (request.args.get("year") or "").strip()
    if raw and not (raw.isdigit() and 2000 <= int(raw) <= 2100):
        raise ValidationError(f"Năm không hợp lệ: “{raw[:10]}” (2000–2100)")
    year = int(raw) if raw else engine().clock.now().astimezone(LOCAL_TZ).year
    return ok(engine().scorecard_targets(year))


@bp.post("/admin/targets")
@requires("admin")
def set_scorecard_target() -> ResponseReturnValue:
    req = body(ScorecardTargetRequest)
    return ok(engine().set_scorecard_target(req.year, req.code, req.target, req.note, require_actor()), 201)


@bp.get("/admin/incidents")
@requires("admin")
def incidents() -> ResponseReturnValue:
    """Outbox incidents, newest first: ``state=open`` (default) or ``all``."""
    state = request.args.get("state", "open")
    if state not in ("open", "all"):
        raise ValidationError(
            "Tham số state phải là 'open' hoặc 'all'",
            details={"fields": [{"field": "state", "message": "không hợp lệ"}]},
        )
    return ok(engine().incidents(open_only=state == "open"))


@bp.post("/admin/incidents/<incident_id>/retry")
@requires("admin")
def retry_incident(incident_id: str) -> ResponseReturnValue:
    return ok(engine().retry_incident(incident_number(incident_id), require_actor()))
