"""Designer area: procedure versions, the bpmn-js modeler, validation and deployment (role ``designer``).

Thin like the other blueprints: the engine validates (hardened XML, lint, sandbox, structure,
SpiffWorkflow) and deploys; the modeler (built from the npm package ``bpmn-js`` into
``static/vendor/``) runs in the browser and posts the edited XML back as JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import MotcuaError, NotFound, ProcedureError
from engine.xmlsafe import MAX_BPMN_BYTES

from .formatting import local
from .security import engine, require_actor, requires

bp = Blueprint("designer", __name__, url_prefix="/designer")
ROLE = "designer"
DUPLICATE = "Nội dung trùng với một phiên bản đã có; không tạo phiên bản mới."


def _uploaded_xml() -> bytes:
    """The edited BPMN from the JSON body; size is checked again by the hardened parser."""
    body = request.get_json(silent=True)
    xml = body.get("xml") if isinstance(body, dict) else None
    if not isinstance(xml, str) or not xml.strip():
        raise ProcedureError("Không nhận được nội dung BPMN")
    return xml.encode("utf-8")


def _answer(payload: dict[str, Any], status: int = 200) -> ResponseReturnValue:
    response = jsonify(payload)
    response.status_code = status
    return response


@bp.get("/")
@requires(ROLE)
def index() -> ResponseReturnValue:
    procedures = engine().list_procedures()
    histories = {p.procedure_id: engine().procedure_history(p.procedure_id) for p in procedures}
    return render_template("designer/index.html", procedures=procedures, histories=histories)


@bp.get("/<procedure_id>/download")
@requires(ROLE)
def download(procedure_id: str) -> ResponseReturnValue:
    version = request.args.get("version", type=int)
    name, data = engine().procedure_file(procedure_id, version)
    label = f"{procedure_id}-v{version}.bpmn" if version else name
    return Response(
        data,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{label}"'},
    )


@bp.get("/<procedure_id>/source")
@requires(ROLE)
def source(procedure_id: str) -> ResponseReturnValue:
    _, data = engine().procedure_file(procedure_id)
    return Response(data, mimetype="application/xml")


@bp.get("/<procedure_id>/edit")
@requires(ROLE)
def edit(procedure_id: str) -> ResponseReturnValue:
    procedure = engine().procedure(procedure_id)
    draft = engine().draft(procedure_id)
    source_view = "designer.draft_source" if draft is not None else "designer.source"
    return render_template(
        "designer/edit.html",
        procedure=procedure,
        draft=draft,
        xml_url=url_for(source_view, procedure_id=procedure_id),
        validate_url=url_for("designer.validate", procedure_id=procedure_id),
        save_url=url_for("designer.save_draft", procedure_id=procedure_id),
        deploy_url=url_for("designer.deploy", procedure_id=procedure_id),
        max_kb=MAX_BPMN_BYTES // 1000,
    )


@bp.get("/<procedure_id>/draft")
@requires(ROLE)
def draft_source(procedure_id: str) -> ResponseReturnValue:
    draft = engine().draft(procedure_id)
    if draft is None:
        raise NotFound(f"Thủ tục '{procedure_id}' không có bản nháp")
    return Response(draft.xml, mimetype="application/xml")


@bp.post("/<procedure_id>/draft")
@requires(ROLE)
def save_draft(procedure_id: str) -> ResponseReturnValue:
    """Save the editor's state as the procedure's draft and answer with its validation report."""
    engine().procedure(procedure_id)  # 404 for an unknown procedure before anything is parsed
    try:
        draft, report = engine().save_draft(procedure_id, _uploaded_xml(), require_actor())
    except MotcuaError as exc:
        return _answer({"ok": False, "saved": False, "message": exc.message, "issues": []}, exc.http_status)
    payload = report.as_dict()
    payload.update(saved=True, saved_at=local(draft.saved_at), saved_by=draft.saved_by)
    return _answer(payload)


@bp.post("/<procedure_id>/draft/discard")
@requires(ROLE)
def discard_draft(procedure_id: str) -> ResponseReturnValue:
    if engine().discard_draft(procedure_id, require_actor()):
        flash("Đã bỏ bản nháp; đang mở phiên bản hiện hành.", "info")
    return redirect(url_for("designer.edit", procedure_id=procedure_id))


@bp.post("/<procedure_id>/validate")
@requires(ROLE)
def validate(procedure_id: str) -> ResponseReturnValue:
    report = engine().validate_procedure(f"{procedure_id}.bpmn", _uploaded_xml())
    payload = report.as_dict()
    if report.procedure_id not in (None, procedure_id):
        payload["ok"] = False
        payload["message"] = f"Tệp BPMN là của quy trình '{report.procedure_id}', không phải '{procedure_id}'"
    return _answer(payload)


@bp.post("/<procedure_id>/deploy")
@requires(ROLE)
def deploy(procedure_id: str) -> ResponseReturnValue:
    try:
        view, diff, created = engine().deploy_designed(procedure_id, _uploaded_xml(), require_actor())
    except MotcuaError as exc:
        issues = exc.details.get("issues", []) if isinstance(exc.details, dict) else []
        return _answer({"ok": False, "message": exc.message, "issues": issues}, exc.http_status)
    summary = diff.summary() if created else DUPLICATE
    payload = {"ok": True, "created": created, "version": view.version, "summary": summary, "issues": []}
    return _answer(payload)
