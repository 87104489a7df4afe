"""Administration: the working-calendar override table, outbox incidents and the staff list (``admin``).

Thin like the other blueprints: the engine stores overrides (append-only, so the table is its own
history) and re-queues failed deliveries; this module parses forms and renders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.calendar import FIRST_YEAR, LAST_YEAR
from engine.errors import NotFound, ValidationError
from engine.index766_targets import TARGET_SPECS
from engine.outbox import EMAIL, PAYMENT_REQUEST, RESULT_PUBLISH, SMS, STATUS_SYNC
from engine.sla import LOCAL_TZ
from engine.users import ROLES

from .api_models import CalendarOverrideView, override_views
from .schema_forms import field_errors
from .security import engine, require_actor, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROLE = "admin"

KINDS = {"off": "Nghỉ thêm (ngày nghỉ)", "work": "Làm bù (ngày làm việc)", "none": "Huỷ điều chỉnh trước đó"}
HANDLERS = {
    STATUS_SYNC: "Đồng bộ trạng thái lên Cổng DVCQG",
    EMAIL: "Thư điện tử cho người nộp",
    SMS: "Tin nhắn SMS cho người nộp",
    PAYMENT_REQUEST: "Yêu cầu thanh toán phí, lệ phí",
    RESULT_PUBLISH: "Công bố kết quả điện tử",
}
TARGET_NAMES = {spec.code: spec.name for spec in TARGET_SPECS}
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
UNITS = {"hours": "giờ làm việc", "days": "ngày làm việc"}
MAX_AMOUNT = {"hours": 20_000.0, "days": 2_500.0}  # ~10 years: more is a typo, not a question


class BadInput(ValidationError):
    """A form field that cannot be parsed: 400, like a malformed request."""

    http_status = 400


def _field(name: str, message: str) -> dict[str, Any]:
    return {"fields": [{"field": name, "message": message}]}


# ------------------------------------------------------------------------------------------ index


@bp.get("/")
@requires(ROLE)
def index() -> ResponseReturnValue:
    open_incidents = engine().incidents(open_only=True)
    overrides = engine().calendar_overrides()
    return render_template("admin/index.html", open_incidents=len(open_incidents), overrides=len(overrides))


# --------------------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class Trial:
    """The "thử tính" helper: a start moment plus an amount of working time, and the result."""

    start: str = ""
    amount: str = ""
    unit: str = "days"
    result: datetime | None = None
    error: str | None = None


def _history(year: int) -> list[CalendarOverrideView]:
    """The year's override rows, by day, newest row of a day first."""
    rows = override_views(engine().calendar_overrides())
    return sorted((r for r in rows if r.day.year == year), key=lambda r: (r.day, -r.id))


def _year(raw: str | None) -> int:
    if raw is None or not raw.strip():
        return engine().clock.now().astimezone(LOCAL_TZ).year
    try:
        year = int(raw)
    except ValueError:
        raise BadInput(f"Năm không hợp lệ: {raw[:20]}", details=_field("year", "phải là số")) from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadInput(
            f"Năm phải trong khoảng {FIRST_YEAR}–{LAST_YEAR}", details=_field("year", "ngoài phạm vi")
        )
    return year


def _local_moment(raw: str) -> datetime:
    """``2026-03-02T08:00`` (an HTML datetime-local field) read as Asia/Ho_Chi_Minh time."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadInput("Thời điểm bắt đầu không hợp lệ (ngày và giờ)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise BadInput(f"Thời điểm bắt đầu phải trong khoảng năm {FIRST_YEAR}–{LAST_YEAR}")
    return moment


def _trial(args: Any) -> Trial:
    """Compute the helper when its fields were sent; a wrong field gives a message, not a result."""
    start, amount = (args.get("from") or "").strip(), (args.get("amount") or "").strip()
    unit = args.get("unit") if args.get("unit") in UNITS else "days"
    if not start and not amount:
        return Trial(unit=unit)
    try:
        moment = _local_moment(start)
        try:
            value = float(amount.replace(",", "."))
        except ValueError:
            raise BadInput("Số giờ/ngày làm việc phải là một số") from None
        if not math.isfinite(value) or value < 0:
            raise BadInput("Số giờ/ngày làm việc phải là số không âm")
        if value > MAX_AMOUNT[unit]:
            raise BadInput(f"Số {UNITS[unit]} quá lớn (tối đa {MAX_AMOUNT[unit]:g})")
        calendar = engine().fresh_calendar()
        if unit == "hours":
            result = calendar.add_working_hours(moment, value)
        else:
            result = calendar.add_working_days(moment, value)
    except ValidationError as exc:
        return Trial(start, amount, unit, error=exc.message)
    return Trial(start, amount, unit, result=result.astimezone(LOCAL_TZ))


def _calendar_page(
    year: int, form: Any = None, errors: dict[str, str] | None = None, message: str | None = None
) -> ResponseReturnValue:
    trial = _trial(request.args)
    calendar = engine().fresh_calendar()
    status = 400 if message or trial.error else 200
    return (
        render_template(
            "admin/calendar.html",
            year=year,
            years=range(max(FIRST_YEAR, year - 3), min(LAST_YEAR, year + 3) + 1),
            days_off=calendar.days_off(year),
            make_up_days=calendar.make_up_days(year),
            history=_history(year),
            kinds=KINDS,
            units=UNITS,
            weekdays=WEEKDAYS,
            trial=trial,
            form=form or {},
            errors=errors or {},
            message=message,
        ),
        status,
    )


@bp.get("/calendar")
@requires(ROLE)
def calendar() -> ResponseReturnValue:
    return _calendar_page(_year(request.args.get("year")))


@bp.post("/calendar/overrides")
@requires(ROLE)
def add_override() -> ResponseReturnValue:
    form = request.form
    raw_day, kind, note = (form.get("day") or "").strip(), form.get("kind") or "", form.get("note") or ""
    errors: dict[str, str] = {}
    day: date | None = None
    try:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            errors["day"] = "chọn ngày"
            raise BadInput(f"Ngày không hợp lệ: «{raw_day[:20]}» (định dạng YYYY-MM-DD)") from None
        if kind not in KINDS:
            errors["kind"] = "chọn loại"
            raise BadInput("Chọn loại điều chỉnh: nghỉ thêm, làm bù hoặc huỷ điều chỉnh")
        if not note.strip():
            errors["note"] = "bắt buộc"
            raise BadInput("Phải ghi căn cứ (văn bản, quyết định) của điều chỉnh lịch")
        if len(note) > 500:
            errors["note"] = "tối đa 500 ký tự"
            raise BadInput("Căn cứ điều chỉnh dài quá 500 ký tự")
        row = engine().add_calendar_override(day, kind, note, require_actor())
    except ValidationError as exc:
        shown = day.year if day is not None and FIRST_YEAR <= day.year <= LAST_YEAR else _year(None)
        return _calendar_page(shown, form, errors, exc.message)
    flash(f"Đã ghi điều chỉnh lịch ngày {day:%d/%m/%Y}: {KINDS[row['kind']].lower()}.", "success")
    moved, off = row["moved"], row["appointments_on_day_off"]
    flash(
        f"Đã tính lại hạn tiếp nhận, hạn xử lý của {len(moved)} hồ sơ đang giải quyết"
        + (f": {', '.join(moved)}." if moved else "."),
        "info",
    )
    if off:
        flash(
            f"{len(off)} hồ sơ có ngày hẹn trả đã in rơi vào ngày nghỉ, cần hẹn lại (Mẫu 04): "
            f"{', '.join(off)}. Xem trên bảng theo dõi thời hạn.",
            "error",
        )
    return redirect(url_for("admin.calendar", year=day.year))


# ---------------------------------------------------------------------------------- 766 targets


@bp.get("/targets")
@requires(ROLE)
def targets() -> ResponseReturnValue:
    return _targets_page(_year(request.args.get("year")))


@bp.post("/targets")
@requires(ROLE)
def set_target() -> ResponseReturnValue:
    """Set one line's target for a year; the earlier value stays in the history."""
    form = request.form
    raw_year = (form.get("year") or "").strip()
    code, percent, note = form.get("code") or "", form.get("target") or "", form.get("note") or ""
    year = int(raw_year) if raw_year.isdigit() else 0
    try:
        if not 2000 <= year <= 2100:
            raise BadInput(f"Năm không hợp lệ: «{raw_year[:10]}» (2000–2100)")
        row = engine().set_scorecard_target(year, code, percent, note[:600], require_actor())
    except ValidationError as exc:
        shown = year if 2000 <= year <= 2100 else _year(None)
        return _targets_page(shown, form, exc.message)
    flash(f"Đã đặt chỉ tiêu năm {year}: {TARGET_NAMES[row['code']]} {row['target'] * 100:g} %.", "success")
    return redirect(url_for("admin.targets", year=year))


def _targets_page(year: int, form: Any = None, error: str | None = None) -> ResponseReturnValue:
    data = engine().scorecard_targets(year)
    return (
        render_template(
            "admin/targets.html",
            year=year,
            years=range(year - 3, year + 3),
            data=data,
            names=TARGET_NAMES,
            form=form or {},
            error=error,
        ),
        422 if error else 200,
    )


# -------------------------------------------------------------------------------------- incidents


@bp.get("/incidents")
@requires(ROLE)
def incidents() -> ResponseReturnValue:
    show_resolved = request.args.get("resolved") == "1"
    everything = engine().incidents(open_only=False)
    open_ones = [i for i in everything if i.resolved_at is None]
    resolved = [i for i in everything if i.resolved_at is not None]
    return render_template(
        "admin/incidents.html",
        open_incidents=open_ones,
        resolved=resolved if show_resolved else [],
        resolved_count=len(resolved),
        show_resolved=show_resolved,
        handlers=HANDLERS,
    )


def incident_number(raw: str) -> int:
    """An incident id from a URL; anything else (or beyond the column's range) is simply not found."""
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**31:
        raise NotFound(f"Không tìm thấy sự cố #{raw[:20]}")
    return int(raw)


@bp.post("/incidents/<incident_id>/retry")
@requires(ROLE)
def retry_incident(incident_id: str) -> ResponseReturnValue:
    number = incident_number(incident_id)
    was_open = any(i.id == number for i in engine().incidents(open_only=True))
    view = engine().retry_incident(number, require_actor())  # unknown id: 404
    if not was_open:
        flash(f"Sự cố #{view.id} đã được xử lý trước đó ({view.resolved_by}); không gửi lại lần nữa.", "info")
        return redirect(url_for("admin.incidents", resolved=1))
    what = HANDLERS.get(view.handler, view.handler)
    flash(f"Đã đưa «{what}» của sự cố #{view.id} trở lại hàng đợi gửi; sự cố đã được xử lý.", "success")
    return redirect(url_for("admin.incidents"))


# ------------------------------------------------------------------------------------------ users


@bp.get("/users")
@requires(ROLE)
def users() -> ResponseReturnValue:
    return _users_page()


def _users_page(
    form: Any = None, errors: dict[str, str] | None = None, message: str | None = None, status: int = 200
) -> ResponseReturnValue:
    """Every account (inactive ones too) with the form that creates one."""
    eng = engine()
    staff = sorted(eng.list_accounts(require_actor()), key=lambda a: (not a.active, a.unit or "", a.username))
    active = [a for a in staff if a.active]
    per_role = {role: sum(role in a.roles for a in active) for role in ROLES}
    return render_template(
        "admin/users.html",
        staff=staff,
        active_count=len(active),
        per_role=per_role,
        roles=ROLES,
        form=form or {},
        chosen_roles=form.getlist("roles") if form is not None else [],
        errors=errors or {},
        message=message,
    ), status


@bp.post("/users")
@requires(ROLE)
def create_user() -> ResponseReturnValue:
    form = request.form
    try:
        issued = engine().create_account(
            (form.get("username") or "")[:100],
            (form.get("full_name") or "")[:300],
            form.getlist("roles"),
            require_actor(),
            unit=(form.get("unit") or "")[:200] or None,
        )
    except ValidationError as exc:
        return _users_page(form, field_errors(exc.details), exc.message, 422)
    # Rendered, not redirected: the password must not pass through the session or a URL.
    return render_template("admin/issued.html", issued=issued, created=True, reset_url=None)


def _account_page(username: str, message: str | None = None, status: int = 200) -> ResponseReturnValue:
    eng, actor = engine(), require_actor()
    account = eng.account(username[:100], actor)
    return render_template(
        "admin/user.html",
        account=account,
        roles=ROLES,
        events=eng.account_events(actor, account.username)[:50],
        message=message,
    ), status


@bp.get("/users/<username>")
@requires(ROLE)
def user(username: str) -> ResponseReturnValue:
    return _account_page(username)


def _account_change(username: str, change: Any, done: str) -> ResponseReturnValue:
    try:
        change()
    except ValidationError as exc:
        return _account_page(username, exc.message, 422)
    flash(done, "success")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/roles")
@requires(ROLE)
def user_roles(username: str) -> ResponseReturnValue:
    roles = request.form.getlist("roles")
    return _account_change(
        username,
        lambda: engine().change_account_roles(username[:100], roles, require_actor()),
        "Đã cập nhật vai trò.",
    )


@bp.post("/users/<username>/unit")
@requires(ROLE)
def user_unit(username: str) -> ResponseReturnValue:
    unit = (request.form.get("unit") or "")[:200] or None
    return _account_change(
        username,
        lambda: engine().change_account_unit(username[:100], unit, require_actor()),
        "Đã cập nhật đơn vị.",
    )


@bp.post("/users/<username>/active")
@requires(ROLE)
def user_active(username: str) -> ResponseReturnValue:
    active = request.form.get("active") == "1"
    return _account_change(
        username,
        lambda: engine().set_account_active(username[:100], active, require_actor()),
        "Đã kích hoạt lại tài khoản."
        if active
        else "Đã vô hiệu hoá tài khoản; mọi phiên đăng nhập đã kết thúc.",
    )


@bp.post("/users/<username>/reset")
@requires(ROLE)
def user_reset(username: str) -> ResponseReturnValue:
    link = request.form.get("mode", "link") != "password"
    try:
        issued = engine().reset_password(username[:100], require_actor(), link=link)
    except ValidationError as exc:
        return _account_page(username, exc.message, 422)
    reset_url = (
        url_for("auth.reset", token=issued.reset_token, _external=True) if issued.reset_token else None
    )
    return render_template("admin/issued.html", issued=issued, created=False, reset_url=reset_url)
