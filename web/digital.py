"""Staff pages of the digital one-stop: identity at receipt and counter digitisation of a dossier,
and search over digitised text. Each form calls one engine service function (the same as the API
and the CLI); engine errors are shown on the page with their Vietnamese message."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine import digitise, identity
from engine.errors import MotcuaError

from .digital_deps import file_store, population_data
from .security import STAFF, engine, require_actor, requires

bp = Blueprint("digital", __name__)
READERS = (*STAFF, "auditor")


def _page(code: str, status: int = 200, **extra: object) -> ResponseReturnValue:
    eng = engine()
    case = eng.get_case(code)
    actor = require_actor()
    offers = eng.reuse_offers(code, actor) if actor.roles & set(STAFF) else []
    return (
        render_template(
            "digital/case.html",
            case=case,
            checks=identity.identity_checks(eng, code),
            facts=identity.case_identity_facts(eng, code),
            components=digitise.component_status(eng, code),
            digitised=digitise.digitised_documents(eng, code),
            offers=offers,
            payments=eng.case_payments(code),
            fee=int(eng.procedure(case.procedure_id).meta.get("fee") or 0),
            form=request.form,
            **extra,
        ),
        status,
    )


@bp.get("/cases/<code>/digital")
@requires(*READERS)
def case_page(code: str) -> ResponseReturnValue:
    """Kiểm tra danh tính và số hóa của một hồ sơ (bước ở quầy một cửa)."""
    return _page(code)


@bp.post("/cases/<code>/identity")
@requires("desk_clerk")
def check_identity(code: str) -> ResponseReturnValue:
    try:
        view = identity.check_identity(
            engine(),
            code,
            (request.form.get("cccd") or "")[:20],
            (request.form.get("date_of_birth") or "")[:10],
            require_actor(),
            population_data(),
            (request.form.get("full_name") or "")[:300] or None,
        )
    except MotcuaError as exc:
        return _page(code, exc.http_status, identity_error=exc.message)
    flash(
        f"Kiểm tra danh tính: {view.outcome_label}. {view.detail}",
        "success" if view.outcome == "verified" else "error",
    )
    return redirect(url_for("digital.case_page", code=code))


@bp.post("/cases/<code>/identity/override")
@requires("desk_clerk")
def override_identity(code: str) -> ResponseReturnValue:
    try:
        identity.override_identity(engine(), code, (request.form.get("reason") or "")[:2000], require_actor())
    except MotcuaError as exc:
        return _page(code, exc.http_status, override_error=exc.message)
    flash("Đã ghi lý do tiếp nhận khi danh tính không khớp.", "success")
    return redirect(url_for("digital.case_page", code=code))


@bp.post("/cases/<code>/digitise")
@requires(*STAFF)
def digitise_component(code: str) -> ResponseReturnValue:
    storage = request.files.get("scan")
    document_code = (request.form.get("document_code") or "")[:50]
    try:
        if storage is None or not storage.filename:
            from engine.errors import ValidationError

            raise ValidationError("Chưa chọn tệp quét")
        view = digitise.digitise_component(
            engine(), code, document_code, storage.filename, storage.read(), require_actor(), file_store()
        )
    except MotcuaError as exc:
        return _page(code, exc.http_status, digitise_error=exc.message)
    flash(
        f"Đã số hóa {view.document_code}: {view.filename} ({view.pages} trang, PDF/A có lớp chữ).", "success"
    )
    return redirect(url_for("digital.case_page", code=code))


@bp.post("/cases/<code>/reuse")
@requires(*STAFF)
def reuse_component(code: str) -> ResponseReturnValue:
    """Take a component from the applicant's data store (no new upload)."""
    raw = request.form.get("item_id") or ""
    document_code = (request.form.get("document_code") or "")[:50]
    try:
        view = engine().reuse_component(
            code, int(raw) if raw.isdigit() else 0, document_code, require_actor()
        )
    except MotcuaError as exc:
        return _page(code, exc.http_status, reuse_error=exc.message)
    flash(
        f"Đã sử dụng lại dữ liệu số cho {view.document_code}: {view.filename} (không cần tải lên lại).",
        "success",
    )
    return redirect(url_for("digital.case_page", code=code))


@bp.post("/cases/<code>/payments/cash")
@requires("desk_clerk")
def cash_payment(code: str) -> ResponseReturnValue:
    """The desk takes the fee in cash; an electronic receipt is issued."""
    raw = (request.form.get("amount") or "").replace(".", "").strip()
    try:
        view = engine().record_cash_payment(code, int(raw) if raw.isdigit() else 0, require_actor())
    except MotcuaError as exc:
        return _page(code, exc.http_status, payment_error=exc.message)
    flash(
        f"Đã thu {view.amount:,} đồng tiền mặt; biên lai điện tử số {view.receipt_number}.".replace(",", "."),
        "success",
    )
    return redirect(url_for("digital.case_page", code=code))


@bp.get("/cases/<code>/digitised/<int:digitised_id>")
@requires(*READERS)
def download(code: str, digitised_id: int) -> ResponseReturnValue:
    view, content = digitise.read_digitised(engine(), code, digitised_id, file_store())
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(view.filename, safe='')}"
    response.headers["X-Content-SHA256"] = view.sha256
    return response


@bp.get("/digitised/search")
@requires(*READERS)
def search() -> ResponseReturnValue:
    query = (request.args.get("q") or "")[:200]
    hits: list[digitise.SearchHit] = []
    error = None
    if query:
        try:
            hits = digitise.search_digitised(engine(), query, require_actor())
        except MotcuaError as exc:
            error = exc.message
    return render_template("digital/search.html", query=query, hits=hits, error=error), 422 if error else 200
