"""Auditor pages: case history replay, integrity verification, reports and the Decision 766 scorecard.

A thin adapter like the other blueprints: the hash-chain check, the replay from events, the
registers and the scorecard are the engine's (``engine.integrity``, ``engine.replay``,
``engine.reports``, ``engine.index766``); here requests are parsed, one engine method is called and
the answer is rendered. The case page's slider asks ``/state?at=N`` for each event's replayed state
(an HTML fragment rendered by the same template as the page, plus the diagram's path); the diagram
(bpmn-js NavigatedViewer) and the charts (Chart.js) come from ``static/vendor/auditor.js``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine import reports
from engine.audit_store import ReplayReport
from engine.errors import MotcuaError, NotFound, ValidationError
from engine.index766 import DEFAULT_GROUP_MAX, GROUP_NAMES, ScorecardConfig
from engine.index766_targets import INDICATOR_STATUS, parse_group_max, scorecard_table
from engine.replay import CaseState, Divergence, ReplayError
from engine.service import CaseView, EventView
from engine.sla import LOCAL_TZ

from .dossier import readable_data
from .security import engine, requires

bp = Blueprint("auditor", __name__, url_prefix="/auditor")

AUDITORS = ("auditor", "director")
REPORT_READERS = (*AUDITORS, "head_of_department")
FORMATS = ("html", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SLA_STATUS = {
    "awaiting_receipt": "Chờ tiếp nhận",
    "receipt_overdue": "Quá hạn tiếp nhận",
    "on_track": "Trong hạn",
    "overdue": "Quá hạn",
    "paused": "Tạm dừng tính thời gian",
    "closed": "Đã kết thúc",
    "early": "Hoàn thành trước hạn",
    "on_time": "Hoàn thành đúng hạn",
    "late": "Hoàn thành quá hạn",
}


# ------------------------------------------------------------------------------------ home, verify


@bp.get("/")
@requires(*AUDITORS)
def index() -> ResponseReturnValue:
    code = (request.args.get("code") or "").strip()
    if code:
        case = engine().get_case(code)  # unknown code: 404 page in Vietnamese
        return redirect(url_for("auditor.case", code=case.code))
    return render_template("auditor/index.html", report=None, defaults=_default_period())


@bp.post("/verify")
@requires(*AUDITORS)
def verify() -> ResponseReturnValue:
    """Recompute every case's hash chain and check the latest daily seal."""
    report = engine().verify_history(None)
    return render_template("auditor/index.html", report=report, defaults=_default_period())


# ------------------------------------------------------------------------------------ one case


@bp.get("/cases/<code>")
@requires(*AUDITORS)
def case(code: str) -> ResponseReturnValue:
    eng = engine()
    view = eng.get_case(code)
    events = eng.events(view.code)
    chain = eng.verify_history(view.code)
    if not events:  # every event deleted: only the chain check has something to say
        return render_template("auditor/case.html", case=view, events=[], chain=chain, final=None, at=0)
    at = _event_number(len(events))
    context = _state_context(view, events, at)
    final = context["report"] if at == len(events) else _replay(view.code, None, events)
    return render_template(
        "auditor/case.html",
        case=view,
        events=events,
        step_names=context["step_names"],
        names=context["names"],
        at=at,
        state_html=render_template("auditor/_state.html", **context),
        diagram=_diagram_marks(context["report"].state),
        final=final,
        chain=chain,
    )


@bp.get("/cases/<code>/state")
@requires(*AUDITORS)
def state(code: str) -> ResponseReturnValue:
    """The replayed state as of event ``at`` for the slider (JSON; errors as JSON too)."""
    try:
        eng = engine()
        view = eng.get_case(code)
        events = eng.events(view.code)
        at = _event_number(len(events))
        context = _state_context(view, events, at)
    except MotcuaError as exc:
        response = jsonify({"error": exc.code, "message": exc.message})
        response.status_code = exc.http_status
        return response
    report = context["report"]
    return jsonify(
        {
            "at": at,
            "events": len(events),
            "ok": report.divergence is None,
            "html": render_template("auditor/_state.html", **context),
            **_diagram_marks(report.state),
        }
    )


@bp.get("/cases/<code>/diagram.bpmn")
@requires(*AUDITORS)
def diagram(code: str) -> ResponseReturnValue:
    """The exact BPMN of the version the case runs on (the path is drawn over it)."""
    view = engine().get_case(code)
    _, data = engine().procedure_file(view.procedure_id, view.procedure_version)
    return Response(data, mimetype="application/xml")


@bp.get("/cases/<code>/control-sheet")
@requires(*AUDITORS)
def control_sheet(code: str) -> ResponseReturnValue:
    """Mẫu 05 from the events, as CSV or XLSX (the printable page is ``cases.control_sheet``)."""
    view = engine().get_case(code)
    table = engine().control_sheet_form(view.code)
    return _table_answer(table, f"mau05-{view.code}", "auditor/table.html")


def _event_number(total: int) -> int:
    raw = request.args.get("at")
    if total == 0:
        raise NotFound("Nhật ký của hồ sơ không còn sự kiện nào")
    if raw is None or raw == "":
        return total
    try:
        at = int(raw)
    except ValueError:
        raise ValidationError(f"Số thứ tự sự kiện không hợp lệ: “{raw}”") from None
    if not 1 <= at <= total:
        raise ValidationError(f"Sự kiện số {at} không có trong nhật ký hồ sơ (từ 1 đến {total})")
    return at


def _state_context(view: CaseView, events: list[EventView], at: int) -> dict[str, Any]:
    eng = engine()
    code = view.code
    report = _replay(code, at, events)
    version = next(
        (p for p in eng.procedure_versions(view.procedure_id) if p.version == view.procedure_version), None
    )
    documents = list((version.meta.get("documents") if version else None) or [])
    state: CaseState | None = report.state
    return {
        "report": report,
        "event": events[at - 1],
        "total": len(events),
        "state": state,
        "data_rows": readable_data(state.data, eng.field_labels(code), documents) if state else [],
        "step_names": {s["element_id"]: s["name"] for s in version.steps} if version else {},
        "names": _people(events),
        "sla_labels": SLA_STATUS,
    }


def _replay(code: str, at: int | None, events: list[EventView]) -> ReplayReport:
    """The engine's replay; a history it cannot even start (first event gone) reads as diverging at 1.

    A row rewritten into something replay cannot execute comes back from the engine as a divergence
    at that event, like any other mismatch.
    """
    try:
        return engine().replay_case(code, at)
    except ReplayError as exc:
        return ReplayReport(code, len(events), None, Divergence(1, exc.message), None)


def _people(events: list[EventView]) -> dict[str, str]:
    """Full names of the people in a history; system actors and removed accounts keep their username."""
    names: dict[str, str] = {}
    for username in {e.actor for e in events}:
        try:
            names[username] = engine().actor(username).full_name
        except NotFound:
            names[username] = username
    return names


def _diagram_marks(state: CaseState | None) -> dict[str, list[str]]:
    """Element ids for the diagram: the path taken (done) and where the case waits now (current)."""
    if state is None:
        return {"done": [], "current": []}
    current = [t.element_id for t in state.tasks] + [element for element, _ in state.timers]
    return {"done": list(state.path), "current": current}


# ------------------------------------------------------------------------------------ reports


@bp.get("/reports")
@requires(*REPORT_READERS)
def reports_home() -> ResponseReturnValue:
    return render_template(
        "auditor/reports.html",
        defaults=_default_period(),
        periods=reports.PERIOD_LABELS,
        procedures=_fee_procedures(),
        group_max=DEFAULT_GROUP_MAX,
        group_names=GROUP_NAMES,
    )


@bp.get("/reports/register")
@requires(*REPORT_READERS)
def register() -> ResponseReturnValue:
    """Sổ theo dõi hồ sơ (Mẫu 06) of the dossiers submitted between two dates."""
    first, last = date_range()
    stem = f"mau06-{first.isoformat()}-{last.isoformat()}"
    if request.args.get("format", "html") != "html":  # the downloads are the whole register
        return _table_answer(engine().dossier_register(first, last), stem, "auditor/table.html")
    # The page shows one page of rows (a day can hold thousands of dossiers), with the total.
    table, page = engine().dossier_register_page(first, last, _register_cursor(), REGISTER_PAGE_SIZE)
    following = None
    if page.next_after is not None:
        moment, code = page.next_after
        args = {k: v for k, v in request.args.items() if k not in ("after", "after_code")}
        following = url_for("auditor.register", **args, after=moment.isoformat(), after_code=code)
    shown = (page.first_number, page.first_number + len(table.rows) - 1, page.total)
    return _table_answer(table, stem, "auditor/table.html", shown=shown, next_url=following)


#: Rows of the register a page shows (the downloads hold every row).
REGISTER_PAGE_SIZE = 100


def _register_cursor() -> tuple[datetime, str] | None:
    """The keyset cursor (submission time, code) of a register page after the first."""
    moment, code = request.args.get("after"), request.args.get("after_code")
    if not moment or code is None:
        return None
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        raise ValidationError("Vị trí trang của sổ theo dõi không hợp lệ") from None
    if parsed.tzinfo is None:
        raise ValidationError("Vị trí trang của sổ theo dõi không hợp lệ")
    return parsed, code


@bp.get("/reports/periodic")
@requires(*REPORT_READERS)
def periodic() -> ResponseReturnValue:
    """Month / quarter / 6 months / 9 months / year, with the plan's data window."""
    year, period, rule = periodic_args()
    report = engine().periodic_report(year, period, rule)
    return _table_answer(report.table(), f"baocao-{year}-{period}", "auditor/table.html")


def periodic_args() -> tuple[int, str, reports.CutoffRule]:
    """Year, period and data window of a periodic-report request (pages and JSON API alike).

    ``plan`` picks a plan's window (calendar, 000 = 15th–14th, 002 = 10th–10th); ``start`` (alias
    ``cutoff``) and ``end`` set the first day and the last day (inclusive) by hand.
    """
    year = _int_arg("year", "Năm báo cáo", 2000, 2100, engine().clock.now().astimezone(LOCAL_TZ).year)
    period = request.args.get("period", "q1")
    if period not in reports.PERIOD_MONTHS:
        raise ValidationError(
            f"Kỳ báo cáo không hợp lệ: “{period}” (tháng m1–m12, quý q1–q4, 6 tháng h1, 9 tháng 9m, năm year)"
        )
    plan = (request.args.get("plan") or "").strip()
    if plan and plan not in reports.CUTOFF_PRESETS:
        raise ValidationError(f"Kế hoạch không hợp lệ: “{plan}” (calendar, 000 hoặc 002)")
    rule = reports.CUTOFF_PRESETS[plan] if plan else reports.CutoffRule()
    start_name = "start" if request.args.get("start") else "cutoff"
    start = _int_arg(start_name, "Ngày chốt số liệu", 1, 28, rule.start_day)
    end_raw = (request.args.get("end") or "").strip()
    end = _int_arg("end", "Ngày cuối kỳ số liệu", 1, 31, 0) if end_raw else rule.end_day
    if start != rule.start_day or end != rule.end_day:
        rule = reports.CutoffRule(start, end)
    return year, period, rule


@bp.get("/reports/index766")
@requires(*REPORT_READERS)
def index766() -> ResponseReturnValue:
    """Decision 766 as a director's view: each line's value, target, gap, trend and the dossiers
    behind the gap, then the groups' points and the sub-indicator rates behind them."""
    first, last = date_range()
    view = engine().director_view_766(first, last, scorecard_config())
    if request.args.get("format", "html") != "html":
        return _table_answer(scorecard_table(view), f"chiso766-{first}-{last}", "auditor/table.html")
    paid = [p for p in request.args.getlist("paid") if p]
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("format", "paid")}
    return render_template(
        "auditor/index766.html",
        view=view,
        card=view.card,
        chart=view.as_dict(),
        procedures=_fee_procedures(),
        paid=set(paid),
        status_labels=INDICATOR_STATUS,
        group_names=GROUP_NAMES,
        args=args,
        csv_url=url_for("auditor.index766", **args, paid=paid, format="csv"),
        xlsx_url=url_for("auditor.index766", **args, paid=paid, format="xlsx"),
    )


def scorecard_config() -> ScorecardConfig:
    """The scorecard settings of a request: integrated fee procedures (``paid``, repeated) and group
    maxima by group code (``group_max=CKMB=18,TDGQ=20,…``; default the national values)."""
    fee_procedures = _fee_procedures()
    paid = [p for p in request.args.getlist("paid") if p]
    unknown = sorted(set(paid) - {p.procedure_id for p in fee_procedures})
    if unknown:
        raise ValidationError(f"Không có thủ tục có phí: {', '.join(unknown)}")
    maxima = parse_group_max(request.args.get("group_max") or _group_max_fields())
    config = ScorecardConfig(online_payment_procedures=frozenset(paid) if paid else None)
    return replace(config, group_max=maxima) if maxima else config


def _group_max_fields() -> str:
    """The form's one input per group code (``max_CKMB=18`` …) in ``parse_group_max``'s spelling."""
    given = {code: (request.args.get(f"max_{code}") or "").strip() for code in DEFAULT_GROUP_MAX}
    return ",".join(f"{code}={value.replace(',', '.')}" for code, value in given.items() if value)


def scorecard_answer(first: date, last: date) -> dict[str, Any]:
    """The director's view as JSON (the API's answer), with each dossier's page behind the gaps."""
    view = engine().director_view_766(first, last, scorecard_config())
    answer = view.as_dict()
    for line in answer["lines"]:
        line["behind_links"] = [url_for("auditor.case", code=code) for code in line["behind"]]
    return answer


def _table_answer(table: reports.Table, stem: str, template: str, **extra: Any) -> ResponseReturnValue:
    fmt = request.args.get("format", "html")
    if fmt not in FORMATS:
        raise ValidationError(f"Định dạng không hỗ trợ: “{fmt}” (html, csv hoặc xlsx)")
    if fmt == "csv":
        return _download(reports.to_csv(table), f"{stem}.csv", "text/csv; charset=utf-8")
    if fmt == "xlsx":
        return _download(reports.to_xlsx(table), f"{stem}.xlsx", XLSX)
    args = {**(request.view_args or {}), **{k: v for k, v in request.args.items() if k != "format"}}
    endpoint = request.endpoint or ""
    return render_template(
        template,
        table=table,
        csv_url=url_for(endpoint, **{k: v for k, v in args.items() if k not in PAGE_ARGS}, format="csv"),
        xlsx_url=url_for(endpoint, **{k: v for k, v in args.items() if k not in PAGE_ARGS}, format="xlsx"),
        **extra,
    )


#: Arguments that pick a page of a table, dropped from its download links (a download is whole).
PAGE_ARGS = ("after", "after_code")


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    return Response(
        data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def date_range() -> tuple[date, date]:
    defaults = _default_period()
    first = _date_arg("from", "Từ ngày", defaults["first"])
    last = _date_arg("to", "Đến ngày", defaults["last"])
    if first > last:
        raise ValidationError(f"Từ ngày {first:%d/%m/%Y} sau đến ngày {last:%d/%m/%Y}")
    if (last - first).days > 3 * 366:
        raise ValidationError("Khoảng thời gian tối đa là 3 năm")
    return first, last


def _date_arg(name: str, label: str, default: date) -> date:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"{label} không hợp lệ: “{raw}” (định dạng năm-tháng-ngày)") from None


def _int_arg(name: str, label: str, low: int, high: int, default: int) -> int:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationError(f"{label} không hợp lệ: “{raw}” (từ {low} đến {high})")
    return int(raw)


def _default_period() -> dict[str, Any]:
    """This month so far (local), and the current year, as the forms' starting values."""
    today = engine().clock.now().astimezone(LOCAL_TZ).date()
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return {"first": first, "last": next_month - timedelta(days=1), "year": today.year}


def _fee_procedures() -> list[Any]:
    return [p for p in engine().list_procedures() if int(p.meta.get("fee") or 0) > 0]
