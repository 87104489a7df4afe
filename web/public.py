"""Citizens, without login: the procedure list, online submission, status lookup, supplementation, rating.

Lookup answers one message for a wrong code or a wrong secret and is rate-limited per IP, so it cannot
be used to discover dossiers. The secret travels only in POST bodies, never in URLs.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from engine.citizen import SCORES
from engine.errors import ConflictError, NotFound, ValidationError
from engine.service import CaseView, ProcedureView
from engine.submissions import Upload

from .citizen_session import proof, signed_in_citizen
from .desk import applicant_from_form
from .digital_deps import portal_identity
from .dossier import supplement_reason, supplement_request, task_fields
from .schema_forms import FormField, field_errors, fields_from_schema, parse_submission
from .security import current_actor, engine, public, rate_limit
from .uploads import charge_anonymous_upload, posted_files

bp = Blueprint("public", __name__)

PUBLIC_EVENTS = ("case_started", "status_changed", "due_set", "apology_issued")
JUST_SUBMITTED = "just_submitted"


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    return render_template("home.html", procedures=engine().list_procedures(), actor=current_actor())


@bp.get("/favicon.ico")
@public
def favicon() -> ResponseReturnValue:
    folder = current_app.static_folder or ""
    return send_from_directory(folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.get("/public/procedures/<procedure_id>")
@public
def procedure(procedure_id: str) -> ResponseReturnValue:
    """What a citizen reads before applying: components, time in days, fee, legal basis, result."""
    proc = engine().procedure(procedure_id)
    return render_template(
        "public/procedure.html", procedure=proc, fields=submission_fields(proc), actor=current_actor()
    )


def submission_fields(procedure: ProcedureView) -> list[FormField]:
    return fields_from_schema(procedure.submission_form, procedure.meta.get("documents") or [])


@bp.route("/public/procedures/<procedure_id>/submit", methods=["GET", "POST"])
@public
def submit(procedure_id: str) -> ResponseReturnValue:
    """Online submission (stands in for the national portal): channel 2, enters the desk queue.

    The engine checks everything at once and stores the dossier with its files or nothing; the
    form's hidden key makes a double click or a resent POST land on the same dossier.
    """
    eng = engine()
    procedure = eng.procedure(procedure_id)
    fields = submission_fields(procedure)
    errors: dict[str, str] = {}
    message = None
    values: dict[str, object] = {}
    key = (request.form.get("submission_key") or "")[:128] or secrets.token_urlsafe(24)
    citizen = signed_in_citizen()
    form = request.form.copy()  # a MultiDict: every value as posted, the identity's fields on top
    if citizen is not None:
        # Signed in: who applies is who the identity provider vouched for (recorded on the dossier).
        form.setdefault("applicant_name", citizen.full_name)
        form["applicant_id_number"] = citizen.cccd
    # Without sign-in, the national portal's redirect may carry the identity it verified (VNeID).
    token = (request.values.get("identity_token") or "")[:4000] if citizen is None else ""
    asserted = portal_identity(token) if token else None
    if citizen is not None and citizen.birthdate is not None:
        asserted = {
            "cccd": citizen.cccd,
            "date_of_birth": citizen.birthdate.isoformat(),
            "full_name": citizen.full_name,
        }
    offers = {}
    if asserted is not None:
        for offer in eng.portal_reuse_offers(procedure_id, asserted):
            offers.setdefault(offer.document_code, offer)
    if request.method == "POST":
        rate_limit("submit")
        charge_anonymous_upload()
        values = parse_submission(fields, request.form)
        payload: dict[str, object] = {
            "procedure_id": procedure_id,
            "applicant": applicant_from_form(),
            "data": values,
        }
        if asserted is not None:
            if citizen is None:
                payload["identity"] = asserted
            payload["reuse"] = {
                code: request.form.get(f"reuse_{code}")
                for code in offers
                if request.form.get(f"reuse_{code}")
            }
        uploads = [Upload(code, name, content) for code, name, content in posted_files()]
        try:
            if citizen is not None:
                view = eng.submit_online_as(citizen, payload, uploads, key)
            else:
                view = eng.submit_online(payload, uploads, key)
        except (ValidationError, NotFound) as exc:
            errors, message = field_errors(exc.details), exc.message
        else:
            assert view.secret is not None
            session[JUST_SUBMITTED] = {"code": view.code, "secret": view.secret}
            return redirect(url_for("public.submitted"))
    return (
        render_template(
            "public/submit.html",
            procedure=procedure,
            fields=fields,
            values=values,
            form=form,
            errors=errors,
            message=message,
            submission_key=key,
            identity_token=token,
            asserted=asserted,
            offers=offers,
        ),
        422 if message else 200,
    )


@bp.get("/public/submitted")
@public
def submitted() -> ResponseReturnValue:
    """Shows the dossier code and lookup secret exactly once (popped from the session)."""
    shown = session.pop(JUST_SUBMITTED, None)
    if not shown:
        return redirect(url_for("public.lookup"))
    case = engine().lookup(shown["code"], shown["secret"])
    return render_template("public/submitted.html", case=case, secret=shown["secret"])


def _lookup_page(case: CaseView, secret: str, **extra: object) -> ResponseReturnValue:
    eng = engine()
    events = [e for e in eng.events(case.code) if e.kind in PUBLIC_EVENTS]
    citizen_task = next((t for t in case.tasks if t.role == "citizen"), None)
    fields = task_fields(citizen_task, eng.procedure(case.procedure_id)) if citizen_task else []
    rating = eng.rating(case.code, proof(secret)) if case.status == 10 else None
    issued = eng.citizen_results(case.code, proof(secret))
    reason, missing = "", []
    if citizen_task is not None:
        request_event = supplement_request(eng.events(case.code))
        asked = request_event.payload.get("data") if request_event is not None else None
        if isinstance(asked, dict):
            reason = supplement_reason(asked)
            wanted = {str(c) for c in asked.get("missing_documents") or []}
            documents = eng.procedure(case.procedure_id).meta.get("documents") or []
            missing = [d for d in documents if str(d.get("code")) in wanted] or list(documents)
    status = int(extra.pop("status", 200))  # type: ignore[call-overload]
    return (
        render_template(
            "public/status.html",
            case=case,
            secret=secret,
            events=events,
            citizen_task=citizen_task,
            fields=fields,
            rating=rating,
            results=issued,
            scores=SCORES,
            supplement_reason=reason,
            missing_documents=missing,
            values=extra.pop("values", {}),
            errors=extra.pop("errors", {}),
            **extra,
        ),
        status,
    )


@bp.route("/public/lookup", methods=["GET", "POST"])
@public
def lookup() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("public/lookup.html")
    rate_limit("lookup")
    code = (request.form.get("code") or "").strip()[:80]
    secret = (request.form.get("secret") or "").strip()[:64]
    try:
        case = engine().lookup(code, secret)
    except NotFound as exc:
        return render_template("public/lookup.html", error=exc.message, code=code), 404
    return _lookup_page(case, secret)


@bp.get("/public/my/<code>")
@public
def my_dossier(code: str) -> ResponseReturnValue:
    """One of the signed-in citizen's dossiers: the lookup page, opened by who they are."""
    citizen = signed_in_citizen()
    if citizen is None:
        return redirect(url_for("public.lookup"))
    try:
        case = engine().lookup(code[:80], citizen)
    except NotFound as exc:
        return render_template("public/lookup.html", error=exc.message, code=code[:80]), 404
    return _lookup_page(case, "")


@bp.post("/public/result")
@public
def result_download() -> ResponseReturnValue:
    """The signed electronic result, verified again before it is handed over."""
    rate_limit("lookup")
    code = (request.form.get("code") or "").strip()[:80]
    secret = (request.form.get("secret") or "").strip()[:64]
    raw = request.form.get("result_id") or ""
    eng = engine()
    try:
        view, content, check = eng.citizen_result(code, proof(secret), int(raw) if raw.isdigit() else 0)
    except NotFound as exc:
        return render_template("public/lookup.html", error=exc.message, code=code), 404
    except ValidationError as exc:
        return _lookup_page(eng.lookup(code, proof(secret)), secret, message=exc.message, status=409)
    if check is not None and not check.valid:
        return _lookup_page(eng.lookup(code, proof(secret)), secret, message=check.message, status=409)
    response = Response(content, mimetype=view.content_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(view.filename, safe='')}"
    response.headers["X-Content-SHA256"] = view.sha256
    response.headers["X-Signature"] = "valid" if check is not None else "unsigned"
    return response


@bp.post("/public/rate")
@public
def rate() -> ResponseReturnValue:
    rate_limit("lookup")
    code = (request.form.get("code") or "").strip()[:80]
    secret = (request.form.get("secret") or "").strip()[:64]
    raw = request.form.get("score") or ""
    eng = engine()
    try:
        eng.rate(code, proof(secret), int(raw) if raw.isdigit() else 0, request.form.get("comment") or "")
    except NotFound as exc:
        return render_template("public/lookup.html", error=exc.message, code=code), 404
    except (ValidationError, ConflictError) as exc:
        case = eng.lookup(code, proof(secret))
        return _lookup_page(case, secret, message=exc.message, status=exc.http_status)
    return _lookup_page(eng.lookup(code, proof(secret)), secret, notice="Cảm ơn ông/bà đã đánh giá!")


@bp.post("/public/supplement")
@public
def supplement() -> ResponseReturnValue:
    """The citizen answers a supplementation request: the missing files and the step's form."""
    rate_limit("lookup")
    code = (request.form.get("code") or "").strip()[:80]
    secret = (request.form.get("secret") or "").strip()[:64]
    eng = engine()
    try:
        case = eng.lookup(code, proof(secret))
    except NotFound as exc:
        return render_template("public/lookup.html", error=exc.message, code=code), 404
    task = next((t for t in case.tasks if t.role == "citizen"), None)
    if task is None:
        return _lookup_page(case, secret, message="Hồ sơ không có yêu cầu bổ sung đang mở", status=409)
    fields = task_fields(task, eng.procedure(case.procedure_id))
    data = parse_submission(fields, request.form)
    charge_anonymous_upload()
    uploads = [Upload(doc, name, content) for doc, name, content in posted_files()]
    filed = {u.document_code for u in uploads if u.document_code}
    for f in fields:
        # A file in a component's slot says that component was supplemented; no need to tick it too.
        if f.widget == "checkboxes" and filed and filed <= {o.value for o in f.options}:
            data[f.name] = sorted(set(data.get(f.name) or []) | filed)
    try:
        case = eng.citizen_supplement(code, proof(secret), task.task_id, data, uploads)
    except ValidationError as exc:
        return _lookup_page(
            eng.lookup(code, proof(secret)),
            secret,
            values=data,
            errors=field_errors(exc.details),
            message=exc.message,
            status=422,
        )
    return _lookup_page(case, secret, notice="Đã gửi hồ sơ bổ sung. Bộ phận một cửa sẽ kiểm tra lại.")


@bp.post("/public/withdraw")
@public
def withdraw() -> ResponseReturnValue:
    """The citizen asks to withdraw the dossier; an officer confirms at the desk."""
    rate_limit("lookup")
    code = (request.form.get("code") or "").strip()[:80]
    secret = (request.form.get("secret") or "").strip()[:64]
    eng = engine()
    try:
        case = eng.citizen_request_withdrawal(code, proof(secret), request.form.get("reason") or "")
    except NotFound as exc:
        return render_template("public/lookup.html", error=exc.message, code=code), 404
    except ValidationError as exc:
        return _lookup_page(eng.lookup(code, proof(secret)), secret, message=exc.message, status=422)
    return _lookup_page(case, secret, notice="Đã gửi yêu cầu rút hồ sơ. Bộ phận một cửa sẽ xác nhận.")
