"""Jinja filters: times in Asia/Ho_Chi_Minh, working hours, labels for codes.

Stored times are UTC; everything a user reads is local time, formatted the Vietnamese way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app

from engine.date_bounds import bounds
from engine.domain.vocab import STEP_KIND_LABELS
from engine.sla import LOCAL_TZ
from engine.statuses import STATUS_LABELS
from engine.users import ROLES

CHANNELS = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}
OUTCOMES = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
COLOURS = {"green": "Còn hạn", "amber": "Sắp đến hạn", "red": "Quá hạn", "none": "—"}
APPLICANT_TYPES = {0: "Công dân", 1: "Doanh nghiệp", 2: "Hộ kinh doanh"}
DOCUMENT_KINDS = {"original": "Bản chính", "copy": "Bản sao", "certified_copy": "Bản sao chứng thực"}
LEGAL_UNITS = {
    "same_working_day": "ngày làm việc (trả trong ngày tiếp nhận)",
    "working_days": "ngày làm việc",
    "working_hours": "giờ làm việc",
    "calendar_days": "ngày",
}
EVENT_LABELS = {
    "case_started": "Nộp hồ sơ",
    "status_changed": "Chuyển trạng thái",
    "task_ready": "Chuyển đến bước",
    "task_completed": "Hoàn thành bước",
    "task_claimed": "Nhận xử lý",
    "task_released": "Trả lại công việc",
    "task_reassigned": "Phân công lại",
    "due_set": "Đặt ngày hẹn trả",
    "clock_paused": "Tạm dừng tính thời gian",
    "timer_fired": "Hết thời hạn chờ",
    "sla_breach": "Vi phạm thời hạn",
    "apology_issued": "Phiếu xin lỗi (Mẫu 04)",
    "case_finished": "Xử lý xong",
    "case_completed": "Kết thúc hồ sơ",
    "document_added": "Đính kèm tệp",
    "secret_reissued": "Cấp lại mã tra cứu",
    "supplement_approved": "Lãnh đạo phòng phê duyệt yêu cầu bổ sung lần thứ hai",
    "calendar_changed": "Điều chỉnh lịch làm việc: tính lại thời hạn",
}


def local(value: datetime | None, fmt: str = "%H:%M %d/%m/%Y") -> str:
    if value is None:
        return "—"
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def legal_days(procedure: Any) -> str:
    """The statutory time as citizens read it: in days, even when the law counts working hours
    (40 working hours are 5 working days of 8 hours)."""
    amount, unit = float(procedure.legal_time), str(procedure.legal_unit)
    if unit == "working_hours":
        amount, unit = amount / 8, "working_days"
    return f"{amount:g}".replace(".", ",") + " " + LEGAL_UNITS.get(unit, unit)


def fee_text(value: Any) -> str:
    """A fee in đồng with Vietnamese thousands separators; 0 reads "Không thu phí"."""
    amount = int(value or 0)
    return "Không thu phí" if amount == 0 else f"{amount:,}".replace(",", ".") + " đồng"


def hours(value: float | None) -> str:
    """Working hours as "3 giờ 15 phút"; negative values read "quá 2 giờ"."""
    if value is None:
        return "—"
    late = value < 0
    minutes = round(abs(value) * 60)
    h, m = divmod(minutes, 60)
    text = f"{h} giờ {m:02d} phút" if h else f"{m} phút"
    return f"quá {text}" if late else text


def fromiso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def filesize(value: int) -> str:
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} KB".replace(".", ",")
    return f"{value / (1024 * 1024):.1f} MB".replace(".", ",")


DUE_REASONS = {
    "accepted": "khi tiếp nhận hồ sơ",
    "supplemented_restart": "hồ sơ đã bổ sung, tính lại thời hạn từ đầu",
    "supplemented_extend": "hồ sơ đã bổ sung, cộng thêm thời gian chờ bổ sung",
    "paid_extend": "đã nộp phí, cộng thêm thời gian chờ nộp phí",
    "paid_restart": "đã nộp phí, tính lại thời hạn từ đầu",
}


def due_reason(reason: str | None) -> str:
    """Why an appointment was set or moved, for staff and citizens alike."""
    if reason and reason.startswith("extended_"):
        return "gia hạn theo quy định của thủ tục"
    return DUE_REASONS.get(reason or "", "")


def date_bounds(spec: Any) -> tuple[str, str]:
    """ISO min/max for a date input, from the same rule the engine checks (engine.date_bounds)."""
    engine = current_app.extensions["motcua_engine"]
    low, high = bounds(spec if isinstance(spec, dict) else {}, engine.clock.now().astimezone(LOCAL_TZ).date())
    return low.isoformat(), high.isoformat()


def register_filters(app: Flask) -> None:
    app.add_template_filter(date_bounds, "date_bounds")
    app.add_template_filter(filesize, "filesize")
    app.add_template_filter(fromiso, "fromiso")
    app.add_template_filter(local, "local")
    app.add_template_filter(hours, "hours")
    app.add_template_filter(legal_days, "legal_days")
    app.add_template_filter(fee_text, "fee")
    app.add_template_filter(due_reason, "due_reason")
    app.add_template_filter(lambda v: STATUS_LABELS.get(int(v), str(v)) if v is not None else "—", "status")
    app.add_template_filter(lambda v: CHANNELS.get(v, str(v)), "channel")
    app.add_template_filter(lambda v: OUTCOMES.get(v, "—") if v else "—", "outcome")
    app.add_template_filter(lambda v: ROLES.get(v, v or "—"), "role")
    app.add_template_filter(lambda v: COLOURS.get(v, v), "colour_label")
    app.add_template_filter(lambda v: DOCUMENT_KINDS.get(v, v), "doc_kind")
    app.add_template_filter(lambda v: EVENT_LABELS.get(v, v), "event_label")
    app.add_template_filter(lambda v: APPLICANT_TYPES.get(v, ""), "applicant_type")

    @app.context_processor
    def labels() -> dict[str, Any]:
        return {
            "LEGAL_UNITS": LEGAL_UNITS,
            "STATUS_LABELS": STATUS_LABELS,
            "ROLES": ROLES,
            "STEP_KIND_LABELS": STEP_KIND_LABELS,
        }
