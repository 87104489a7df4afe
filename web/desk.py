"""The one-stop desk: the receipt queue with the 8-working-hour countdown, counter intake, receipt."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import ConflictError, ValidationError
from engine.queries import DESK_PAGE
from engine.submissions import Upload

from .dossier import prefill, remember_secret, task_fields, workable_task
from .schema_forms import field_errors, fields_from_schema, parse_submission
from .security import engine, require_actor, requires
from .uploads import posted_files

bp = Blueprint("desk", __name__, url_prefix="/desk")

APPLICANT_FIELDS = ("name", "id_number", "phone", "email", "address")


def applicant_from_form() -> dict[str, object]:
    applicant: dict[str, object] = {
        k: (request.form.get(f"applicant_{k}") or "").strip() or None for k in APPLICANT_FIELDS
    }
    raw_type = request.form.get("applicant_type") or "0"
    applicant["type"] = int(raw_type) if raw_type in ("0", "1", "2") else raw_type
    return {k: v for k, v in applicant.items() if v is not None}


@bp.get("/")
@requires("desk_clerk")
def queue() -> ResponseReturnValue:
    eng = engine()
    search = (request.args.get("q") or "").strip()[:100]
    # Each section pages on its own (keyset: ``after_<status>`` is the cursor of its next page);
    # a link keeps the search and the other sections' pages.
    pages = {
        status: eng.desk_page(status, search, request.args.get(f"after_{status}") or None, DESK_PAGE)
        for status in (1, 9, 5, 7)
    }

    def next_page(status: int) -> str | None:
        cursor = pages[status].next_after
        if cursor is None:
            return None
        kept = {k: v for k, v in request.args.items() if k == "q" or k.startswith("after_")}
        return url_for("desk.queue", **{**kept, f"after_{status}": cursor})

    def first_page(status: int) -> str | None:
        if not request.args.get(f"after_{status}"):
            return None
        kept = {k: v for k, v in request.args.items() if k != f"after_{status}"}
        return url_for("desk.queue", **kept)

    return render_template(
        "desk/queue.html",
        search=search,
        awaiting_receipt=pages[1].rows,
        awaiting_return=pages[9].rows,
        awaiting_supplement=pages[5].rows,
        withdrawal_requests=pages[7].rows,
        totals={status: page.total for status, page in pages.items()},
        next_page=next_page,
        first_page=first_page,
        now=eng.clock.now(),
    )


@bp.route("/intake", methods=["GET", "POST"])
@requires("desk_clerk")
def intake() -> ResponseReturnValue:
    """Counter intake on one page: the applicant, each component's scan and the receipt check
    (accept / supplement / refuse), stored together; then the matching form (Mẫu 01/02/03) to print.
    Without a decision the dossier is only opened and the receipt page follows, as before."""
    eng = engine()
    procedures = eng.list_procedures()
    selected = (request.values.get("procedure_id") or "").strip()
    procedure = next((p for p in procedures if p.procedure_id == selected), None)
    documents = list(procedure.meta.get("documents") or []) if procedure else []
    receipt_fields = fields_from_schema(eng.step_form(selected, "receipt"), documents) if procedure else []
    errors: dict[str, str] = {}
    message = None
    values: dict[str, object] = {}
    if request.method == "POST":
        channel = request.form.get("channel", "1")
        payload = {
            "procedure_id": selected,
            "channel": int(channel) if channel in ("1", "3") else channel,
            "applicant": applicant_from_form(),
        }
        values = parse_submission(receipt_fields, request.form)
        uploads = [Upload(code, name, content) for code, name, content in posted_files()]
        try:
            view = eng.counter_intake(
                payload, uploads, values if values.get("decision") else None, require_actor()
            )
        except (ValidationError, ConflictError) as exc:
            errors, message = field_errors(exc.details), exc.message
        else:
            assert view.secret is not None
            remember_secret(view.code, view.secret)
            form_no = {"accept": "01", "supplement": "02", "refuse": "03"}.get(str(values.get("decision")))
            if form_no:
                flash(f"Đã tạo hồ sơ {view.code} và ghi nhận kết quả kiểm tra.", "success")
                return redirect(url_for("cases.print_form", code=view.code, number=form_no))
            flash(f"Đã tạo hồ sơ {view.code}. Kiểm tra thành phần hồ sơ và tiếp nhận.", "success")
            return redirect(url_for("desk.receipt", code=view.code))
    status = 422 if message else 200
    return (
        render_template(
            "desk/intake.html",
            procedures=procedures,
            procedure=procedure,
            selected=selected,
            form=request.form,
            receipt_fields=receipt_fields,
            values=values,
            errors=errors,
            message=message,
        ),
        status,
    )


@bp.get("/receipt/<code>")
@requires("desk_clerk")
def receipt(code: str) -> ResponseReturnValue:
    return render_receipt(code)


def render_receipt(
    code: str,
    *,
    values: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The receipt page: dossier, documents (with uploads), and the receipt step's own form."""
    eng = engine()
    case = eng.get_case(code)
    procedure = eng.procedure(case.procedure_id)
    task = workable_task(case, require_actor(), role="desk_clerk")
    fields = task_fields(task, procedure)
    return (
        render_template(
            "desk/receipt.html",
            case=case,
            procedure=procedure,
            task=task,
            fields=fields,
            values=values if values is not None else prefill(case, fields),
            errors=errors or {},
            message=message,
            documents=eng.list_documents(code),
            remaining=eng.remaining_working_hours(case.receipt_due_at),
            now=eng.clock.now(),
        ),
        status,
    )
