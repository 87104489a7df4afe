"""The case page (dossier, documents, the open step's form, timeline) and the printed forms 01–05."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine import access
from engine.access import Routing
from engine.domain.vocab import APOLOGY_KINDS
from engine.errors import ConflictError, NotFound, SlaViolation, ValidationError
from engine.sla import LOCAL_TZ

from . import desk
from .dossier import (
    document_rows,
    issued_secret,
    last_decision,
    last_event,
    prefill,
    readable_data,
    remember_secret,
    supplement_reason,
    supplement_request,
    task_fields,
    workable_task,
)
from .formatting import fromiso
from .pdf import inline_print_css, pdf_response
from .schema_forms import field_errors, parse_submission
from .security import HEADS, STAFF, engine, require_actor, requires
from .uploads import store_uploads

bp = Blueprint("cases", __name__, url_prefix="/cases")

READERS = (*STAFF, "auditor")
DESK_FORMS = ("desk_clerk", *HEADS, "auditor")
APOLOGISERS = ("desk_clerk", *HEADS)


@bp.get("/")
@requires(*READERS)
def find() -> ResponseReturnValue:
    code = (request.args.get("code") or "").strip()
    if not code:
        return redirect(url_for("tasks.tasklist"))
    engine().get_case(code)  # 404 page when unknown
    return redirect(url_for("cases.view", code=code))


@bp.get("/<code>")
@requires(*READERS)
def view(code: str) -> ResponseReturnValue:
    return render_case(code)


def render_case(
    code: str,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
    error_code: str | None = None,
) -> ResponseReturnValue:
    eng = engine()
    actor = require_actor()
    case = eng.get_case(code)
    procedure = eng.procedure(case.procedure_id)
    task = workable_task(case, actor)
    fields = task_fields(task, procedure)
    reassign_choices = {
        t.task_id: eng.users_with_role(t.role, t.unit or (None if "director" in actor.roles else actor.unit))
        for t in case.tasks
        if t.role and access.reassign_decision(actor, Routing(t.role, t.unit))
    }
    return (
        render_template(
            "cases/view.html",
            case=case,
            procedure=procedure,
            task=task,
            fields=fields,
            values=values if values is not None else prefill(case, fields),
            errors=errors or {},
            message=message,
            error_code=error_code,
            documents=eng.list_documents(code),
            events=eng.events(code),
            remaining=eng.remaining_working_hours(case.due_at),
            reassign_choices=reassign_choices,
            # The claim button only where the access policy lets this person work the step.
            claimable={t.task_id for t in case.tasks if access.step_decision(actor, Routing(t.role, t.unit))},
            data_rows=readable_data(
                case.data, eng.field_labels(code), list(procedure.meta.get("documents") or [])
            ),
            step_names={row.element_id: row.name for row in eng.control_sheet(code)},
            now=eng.clock.now(),
        ),
        status,
    )


@bp.post("/<code>/tasks/<task_id>")
@requires(*STAFF)
def complete(code: str, task_id: str) -> ResponseReturnValue:
    """Submit the open step's form; the engine validates it against the step's schema."""
    eng = engine()
    actor = require_actor()
    before = eng.get_case(code)
    task = next((t for t in before.tasks if t.task_id == task_id), None)
    if task is None:
        # Someone else finished it first: show the dossier as it is now instead of a bare error.
        message = "Công việc này vừa được người khác hoàn thành hoặc không còn mở. Hồ sơ đã được tải lại."
        return render_case(code, message=message, status=409, error_code="conflict")
    fields = task_fields(task, eng.procedure(before.procedure_id))
    data = parse_submission(fields, request.form)
    raw_version = request.form.get("version", "")
    expected = int(raw_version) if raw_version.isdigit() else None
    origin = request.form.get("origin")
    try:
        after = eng.complete_work_item(code, task_id, data, actor, expected_version=expected)
    except ValidationError as exc:
        render = desk.render_receipt if origin == "receipt" else render_case
        return render(code, values=data, errors=field_errors(exc.details), message=exc.message, status=422)
    except (SlaViolation, ConflictError) as exc:
        # What was typed stays in the form; the page says what to do next (an apology, a reload).
        if origin == "receipt":
            return desk.render_receipt(code, values=data, message=exc.message, status=exc.http_status)
        status = exc.http_status
        return render_case(code, values=data, message=exc.message, status=status, error_code=exc.code)
    if task.role == "desk_clerk" and before.status == 1 and "decision" in data:
        form_no = {"accept": "01", "supplement": "02", "refuse": "03"}.get(str(data["decision"]))
        if form_no:
            flash("Đã ghi nhận kết quả kiểm tra hồ sơ.", "success")
            return redirect(url_for("cases.print_form", code=code, number=form_no))
    flash(f"Đã hoàn thành bước “{task.name}”. Trạng thái hồ sơ: {after.status_label}.", "success")
    return redirect(url_for("desk.queue") if task.role == "desk_clerk" else url_for("tasks.tasklist"))


@bp.post("/<code>/documents")
@requires("desk_clerk", "specialist", "head_of_department", "director", "other_department")
def upload(code: str) -> ResponseReturnValue:
    stored = store_uploads(code, require_actor())
    flash(f"Đã lưu {len(stored)} tệp (kèm mã SHA-256).", "success" if stored else "error")
    back = request.form.get("origin")
    return redirect(
        url_for("desk.receipt", code=code) if back == "receipt" else url_for("cases.view", code=code)
    )


@bp.get("/<code>/documents/<int:document_id>")
@requires(*READERS)
def download(code: str, document_id: int) -> ResponseReturnValue:
    doc, content = engine().read_document(code, document_id)
    response = Response(content, mimetype=doc.content_type)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{_rfc5987(doc.filename)}"
    response.headers["X-Content-SHA256"] = doc.sha256
    return response


def _rfc5987(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


# ------------------------------------------------------------------------ withdrawal (7 → 8)


@bp.post("/<code>/withdrawal")
@requires("desk_clerk")
def request_withdrawal(code: str) -> ResponseReturnValue:
    """The citizen asks at the desk to withdraw; the clerk records it (status 7)."""
    storage = request.files.get("paper")
    paper = (storage.filename, storage.read()) if storage is not None and storage.filename else None
    try:
        engine().request_withdrawal(code, request.form.get("reason") or "", require_actor(), paper)
    except ValidationError as exc:
        return render_case(code, message=exc.message, status=422)
    flash("Đã ghi nhận yêu cầu rút hồ sơ. Cần xác nhận dừng xử lý.", "success")
    return redirect(url_for("cases.view", code=code))


@bp.post("/<code>/withdrawal/confirm")
@requires(*APOLOGISERS)
def confirm_withdrawal(code: str) -> ResponseReturnValue:
    """An officer confirms: processing stops (status 8)."""
    engine().confirm_withdrawal(code, require_actor())
    flash("Đã dừng xử lý hồ sơ theo yêu cầu rút hồ sơ của công dân.", "success")
    return redirect(url_for("cases.view", code=code))


# --------------------------------------------------------------------------------- apology (04)


@bp.route("/<code>/apology", methods=["GET", "POST"])
@requires(*APOLOGISERS)
def apology(code: str) -> ResponseReturnValue:
    """Mẫu 04: an apology for lateness (new appointment; the case still counts late), for a mistake
    (a new appointment only if needed; not late) or for an appointment a calendar change put on a day off."""
    eng = engine()
    case = eng.get_case(code)
    errors: dict[str, str] = {}
    message = None
    kind = (request.values.get("kind") or "late").strip()
    if request.method == "POST":
        reason = (request.form.get("reason") or "").strip()
        unit = (request.form.get("unit_at_fault") or "").strip()
        typed_day = (request.form.get("new_due_date") or "").strip()
        new_due = _parse_local(typed_day, request.form.get("new_due_time"))
        try:
            if new_due is None and (kind != "mistake" or typed_day):
                raise ValidationError(
                    "Ngày hẹn mới không hợp lệ",
                    details={"fields": [{"field": "new_due_date", "message": "chọn ngày hẹn mới"}]},
                )
            if not unit:
                raise ValidationError(
                    "Phải ghi đơn vị để chậm trễ" if kind == "late" else "Phải ghi đơn vị lập phiếu",
                    details={"fields": [{"field": "unit_at_fault", "message": "bắt buộc"}]},
                )
            eng.apologise(code, new_due, reason, unit, require_actor(), kind=kind)
        except ValidationError as exc:
            errors, message = field_errors(exc.details), exc.message
            if not errors and ("lý do" in exc.message.lower() or "sai sót" in exc.message.lower()):
                errors["reason"] = "bắt buộc"
        else:
            flash("Đã lập Phiếu xin lỗi (Mẫu 04).", "success")
            return redirect(url_for("cases.print_form", code=code, number="04"))
    nearest = [fromiso(m) for m in (_calendar_flag(eng, code) or {}).get("nearest", [])]
    return (
        render_template(
            "cases/apology.html",
            case=case,
            form=request.form,
            errors=errors,
            message=message,
            kind=kind,
            kinds=APOLOGY_KINDS,
            nearest=nearest,
        ),
        422 if message else 200,
    )


def _calendar_flag(eng: Any, code: str) -> Any:
    """The last calendar change that put the printed appointment on a day off (its nearest moments)."""
    event = last_event(eng.events(code), "calendar_changed")
    return event.payload if event is not None and event.payload.get("appointment_on_day_off") else None


@bp.post("/<code>/supplement-approval")
@requires("head_of_department")
def approve_supplement(code: str) -> ResponseReturnValue:
    """A head allows a second supplementation request (procedures whose metadata allow it)."""
    engine().approve_supplement(code, request.form.get("reason") or "", require_actor())
    flash("Đã phê duyệt yêu cầu bổ sung hồ sơ lần thứ hai.", "success")
    return redirect(url_for("cases.view", code=code))


def _parse_local(day: str | None, at: str | None) -> datetime | None:
    try:
        d = datetime.strptime((day or "").strip(), "%Y-%m-%d").date()
        t = time.fromisoformat((at or "").strip() or "16:30")
    except ValueError:
        return None
    return datetime.combine(d, t, LOCAL_TZ)


@bp.post("/<code>/secret")
@requires("desk_clerk")
def reissue_secret(code: str) -> ResponseReturnValue:
    """A new lookup secret for an applicant who lost theirs, printed on a new Mẫu 01."""
    view = engine().reissue_secret(code, require_actor())
    assert view.secret is not None
    remember_secret(view.code, view.secret)
    if view.received_at is not None:
        flash("Đã cấp lại mã tra cứu; mã cũ không còn dùng được. In Mẫu 01 mới cho người nộp.", "success")
        return redirect(url_for("cases.print_form", code=view.code, number="01"))
    flash(f"Đã cấp lại mã tra cứu: {view.secret} (mã cũ không còn dùng được).", "success")
    return redirect(url_for("cases.view", code=view.code))


# ------------------------------------------------------------------------------ printed forms


@bp.get("/<code>/forms/<number>")
@requires(*DESK_FORMS)
def print_form(code: str, number: str) -> ResponseReturnValue:
    """Mẫu 01 receipt, 02 supplementation, 03 refusal, 04 apology — printable on A5."""
    return render_template(f"forms/form{number}.html", **_form_context(code, number))


@bp.get("/<code>/forms/<number>.pdf")
@requires(*DESK_FORMS)
def print_form_pdf(code: str, number: str) -> ResponseReturnValue:
    html = render_template(
        f"forms/form{number}.html", inline_css=inline_print_css(), **_form_context(code, number)
    )
    return pdf_response(html, f"mau-{number}-{code}.pdf")


def _form_context(code: str, number: str) -> dict[str, object]:
    if number not in ("01", "02", "03", "04"):
        raise NotFound("Không có mẫu phiếu này")
    eng = engine()
    case = eng.get_case(code)
    procedure = eng.procedure(case.procedure_id)
    events = eng.events(code)
    context: dict[str, object] = {"case": case, "procedure": procedure, "number": number}
    if number == "01":
        if case.received_at is None:
            raise ValidationError("Hồ sơ chưa được tiếp nhận nên chưa có giấy tiếp nhận")
        accepted = last_decision(events, "accept")
        context.update(
            decision=accepted,
            documents=document_rows(procedure, _data(accepted).get("checked_documents")),
            files=eng.list_documents(code),
            secret=issued_secret(code),
            reissued=last_event(events, "secret_reissued"),
            officer=_officer(accepted),
        )
    elif number in ("02", "03"):
        decision = supplement_request(events) if number == "02" else last_decision(events, "refuse")
        if decision is None:
            raise ValidationError("Hồ sơ chưa có quyết định tương ứng với mẫu phiếu này")
        context.update(
            decision=decision,
            data=_data(decision),
            reason=supplement_reason(_data(decision))
            if number == "02"
            else _data(decision).get("reason", ""),
            documents=document_rows(procedure, _data(decision).get("missing_documents")),
            officer=_officer(decision),
        )
    else:
        issued = last_event(events, "apology_issued")
        if issued is None:
            raise ValidationError("Hồ sơ chưa có phiếu xin lỗi")
        context.update(apology=issued, officer=_officer(issued), sequence=_apology_number(events))
    return context


@bp.get("/<code>/control-sheet")
@requires(*READERS)
def control_sheet(code: str) -> ResponseReturnValue:
    """Mẫu 05: every handover with its time, giver, receiver and early/on time/late."""
    eng = engine()
    return render_template("forms/form05.html", case=eng.get_case(code), rows=eng.control_sheet(code))


@bp.get("/<code>/control-sheet.pdf")
@requires(*READERS)
def control_sheet_pdf(code: str) -> ResponseReturnValue:
    eng = engine()
    html = render_template(
        "forms/form05.html",
        case=eng.get_case(code),
        rows=eng.control_sheet(code),
        inline_css=inline_print_css(),
    )
    return pdf_response(html, f"mau-05-{code}.pdf")


def _data(event: object) -> dict[str, object]:
    payload = getattr(event, "payload", None) or {}
    data = payload.get("data") if isinstance(payload, dict) else None
    return data if isinstance(data, dict) else {}


def _officer(event: object) -> str:
    username = getattr(event, "actor", None)
    if not username:
        return ""
    try:
        return engine().actor(username).full_name
    except NotFound:
        return str(username)


def _apology_number(events: list[object]) -> int:
    return sum(1 for e in events if getattr(e, "kind", "") == "apology_issued")
