"""The Decision 766 scorecard as a director's view (pure): plan targets, gaps, trend, drill-down.

The points calculator (:mod:`engine.index766`) answers "how many points"; a director asks "how far
are we from the plan's target, is it getting better, and which dossiers make the gap". Each line
here is a plain share the plan names (plan 004, ../shared/domain/plans.md) — not a composite: the
online share is channel-2 dossiers over all received, without 3.3's sync factor — with its target,
the gap and the codes of the dossiers behind the gap. A line without data reads "không áp dụng",
never 0 % or 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from . import sla
from .errors import ValidationError
from .feedback_stats import FeedbackIndicators
from .index766 import (
    DEFAULT_GROUP_MAX,
    ProcedureInfo,
    Scorecard,
    ScorecardConfig,
    digitised_766,
    electronic_result_766,
    on_time_766,
    reused_766,
    scorecard,
)
from .reports import Cell, DossierFacts, Table, local_bounds

LineStatus = Literal["ok", "no_data", "not_applicable"]


@dataclass(frozen=True)
class TargetSpec:
    """One line of the director's view: what it measures and what the dossiers behind its gap are."""

    code: str
    name: str
    behind: str  # the dossiers behind the gap, as the drill-down heads them
    default_target: float | None


#: Plan 004's 2026 targets (plans.md); "4.2"/"4.3" have no data in the system yet.
TARGET_SPECS: tuple[TargetSpec, ...] = (
    TargetSpec("2.1", "Hồ sơ giải quyết trước hạn, đúng hạn", "Hồ sơ quá hạn", 1.0),
    TargetSpec("online", "Hồ sơ tiếp nhận trực tuyến", "Hồ sơ không nộp trực tuyến", 0.994),
    TargetSpec("3.6", "Hồ sơ có phí thanh toán trực tuyến", "Hồ sơ có phí chưa thanh toán trực tuyến", 1.0),
    TargetSpec("4.2", "Hồ sơ số hóa thành phần và kết quả", "Hồ sơ chưa số hóa", 0.996),
    TargetSpec("4.3", "Hồ sơ sử dụng lại dữ liệu số hóa", "Hồ sơ chưa sử dụng lại dữ liệu", 0.98),
    TargetSpec("4.1", "Hồ sơ có kết quả điện tử", "Hồ sơ không có kết quả điện tử", 1.0),
    TargetSpec("satisfied", "Người dân hài lòng", "Hồ sơ bị đánh giá không hài lòng", 0.95),
    TargetSpec(
        "receipt_8h",
        "Hồ sơ trực tuyến được tiếp nhận trong 8 giờ làm việc",
        "Hồ sơ vi phạm hạn tiếp nhận",
        1.0,
    ),
)
DEFAULT_TARGETS: dict[str, float] = {s.code: s.default_target for s in TARGET_SPECS if s.default_target}
TARGET_CODES = frozenset(s.code for s in TARGET_SPECS)


@dataclass(frozen=True)
class TargetLine:
    """One plain share with its target and the dossiers that keep it from the target."""

    code: str
    name: str
    status: LineStatus
    numerator: int | None
    denominator: int | None
    target: float | None
    behind_label: str
    behind: tuple[str, ...] = ()  # dossier codes behind the gap
    note: str = ""

    @property
    def value(self) -> float | None:
        if self.status != "ok" or not self.denominator or self.numerator is None:
            return None
        return self.numerator / self.denominator

    @property
    def gap(self) -> float | None:
        """Value minus target (negative = short of the plan); None without a value or target."""
        value = self.value
        return None if value is None or self.target is None else round(value - self.target, 6)

    @property
    def met(self) -> bool | None:
        gap = self.gap
        return None if gap is None else gap >= -1e-9

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "status": self.status,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "target": self.target,
            "gap": self.gap,
            "met": self.met,
            "behind_label": self.behind_label,
            "behind": list(self.behind),
            "note": self.note,
        }


@dataclass(frozen=True)
class TrendPoint:
    """One month of the trend: the value of each line over that month's part of the period."""

    month: str  # "MM/YYYY"
    first: date
    last: date
    values: dict[str, float | None]


@dataclass(frozen=True)
class DirectorView:
    """The scorecard (points) with the plan's lines, their monthly trend and how much was measurable."""

    card: Scorecard
    lines: tuple[TargetLine, ...]
    trend: tuple[TrendPoint, ...]

    @property
    def indicators_total(self) -> int:
        return sum(len(g.indicators) for g in self.card.groups)

    @property
    def indicators_measured(self) -> int:
        return sum(i.points is not None for g in self.card.groups for i in g.indicators)

    def summary(self) -> str:
        """The total as a sentence that cannot read as a perfect score when little was measured."""
        card = self.card
        return (
            f"Đạt {card.points:g} điểm trên {card.measured_max:g} điểm đo được "
            f"(đo được {self.indicators_measured}/{self.indicators_total} chỉ số thành phần; "
            f"tối đa {card.max_points:g} điểm)"
        )

    def line(self, code: str) -> TargetLine:
        return next(line for line in self.lines if line.code == code)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.card.as_dict(),
            "summary": self.summary(),
            "indicators_measured": self.indicators_measured,
            "indicators_total": self.indicators_total,
            "lines": [line.as_dict() for line in self.lines],
            "trend": [
                {"month": p.month, "from": p.first.isoformat(), "to": p.last.isoformat(), "values": p.values}
                for p in self.trend
            ],
        }


@dataclass(frozen=True)
class TargetSettings:
    """Targets in force for a year (code → share), e.g. plan 004's defaults overridden by an admin."""

    targets: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))


def target_lines(
    facts: Sequence[DossierFacts], start: datetime, end: datetime, targets: Mapping[str, float]
) -> tuple[TargetLine, ...]:
    """Every line of :data:`TARGET_SPECS` for dossiers received or processed in [start, end)."""
    received = [f for f in facts if f.received_at is not None and start <= f.received_at < end]
    lines: dict[str, TargetLine] = {}

    def put(
        code: str, num: int | None, den: int | None, behind: Iterable[DossierFacts] = (), note: str = ""
    ) -> None:
        spec = next(s for s in TARGET_SPECS if s.code == code)
        if num is None or den is None:
            status: LineStatus = "no_data"
            note = note or "Không áp dụng: hệ thống chưa có dữ liệu cho chỉ tiêu này"
        elif den == 0:
            status, note = "not_applicable", note or "Không áp dụng: không có hồ sơ thuộc phạm vi trong kỳ"
        else:
            status = "ok"
        codes = tuple(sorted({f.code for f in behind})) if status == "ok" else ()
        lines[code] = TargetLine(
            code, spec.name, status, num, den, targets.get(code), spec.behind, codes, note
        )

    judged = [(f, j) for f in facts if (j := on_time_766(f, start, end)) is not None]
    put("2.1", sum(j.on_time for _, j in judged), len(judged), [f for f, j in judged if not j.on_time])

    not_online = [f for f in received if f.channel != sla.ONLINE_CHANNEL]
    put("online", len(received) - len(not_online), len(received), not_online)

    fee_dossiers = [f for f in received if f.fee > 0]
    if any(f.paid_online is not None for f in fee_dossiers) or not fee_dossiers:
        unpaid = [f for f in fee_dossiers if not f.paid_online]
        put("3.6", len(fee_dossiers) - len(unpaid), len(fee_dossiers), unpaid)
    else:
        put("3.6", None, None)

    not_digitised = [f for f in received if not digitised_766(f, end)]
    put("4.2", len(received) - len(not_digitised), len(received), not_digitised)
    not_reused = [f for f in received if not reused_766(f)]
    put("4.3", len(received) - len(not_reused), len(received), not_reused)

    resulted = [
        f
        for f in facts
        if f.result_type == "paper" and f.returned_at is not None and start <= f.returned_at < end
    ]
    paper_only = [f for f in resulted if not electronic_result_766(f)]
    put("4.1", len(resulted) - len(paper_only), len(resulted), paper_only)

    rated = [
        f for f in facts if f.rating is not None and f.rated_at is not None and start <= f.rated_at < end
    ]
    unhappy = [f for f in rated if f.rating == 1]
    put("satisfied", len(rated) - len(unhappy), len(rated), unhappy)

    online = [
        f
        for f in facts
        if f.receipt_due_at is not None and start <= f.submitted_at < end and f.channel == sla.ONLINE_CHANNEL
    ]
    breached = [f for f in online if _receipt_breached(f, end)]
    put("receipt_8h", len(online) - len(breached), len(online), breached)
    return tuple(lines[s.code] for s in TARGET_SPECS)


def _receipt_breached(f: DossierFacts, end: datetime) -> bool:
    """The desk decided after the 8-working-hour deadline, or had not decided when it passed."""
    assert f.receipt_due_at is not None
    decided = f.receipt_decided_at
    if decided is not None and decided < end:
        return decided > f.receipt_due_at
    return end > f.receipt_due_at


def months_of(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months of [first, last], each clipped to the period."""
    found: list[tuple[date, date]] = []
    cursor = first
    while cursor <= last:
        next_month = (cursor.replace(day=1) + timedelta(days=32)).replace(day=1)
        found.append((cursor, min(last, next_month - timedelta(days=1))))
        cursor = next_month
    return found


def director_view(
    facts: Iterable[DossierFacts],
    first: date,
    last: date,
    procedures: Sequence[ProcedureInfo] = (),
    config: ScorecardConfig | None = None,
    calendar: sla.BusinessCalendar | None = None,
    targets: Mapping[str, float] | None = None,
    feedback: FeedbackIndicators | None = None,
) -> DirectorView:
    """Points, the plan's lines with targets and gaps for [first, last], and their monthly trend."""
    dossiers = list(facts)
    in_force = dict(DEFAULT_TARGETS if targets is None else targets)
    card = scorecard(dossiers, first, last, procedures, config, calendar, feedback)
    start, end = local_bounds(first, last)
    lines = target_lines(dossiers, start, end, in_force)
    trend = []
    for month_first, month_last in months_of(first, last):
        m_start, m_end = local_bounds(month_first, month_last)
        month_lines = target_lines(dossiers, m_start, m_end, in_force)
        trend.append(
            TrendPoint(
                f"{month_first:%m/%Y}", month_first, month_last, {ln.code: ln.value for ln in month_lines}
            )
        )
    return DirectorView(card, lines, tuple(trend))


def parse_group_max(text: str) -> dict[str, float]:
    """``"CKMB=18,TDGQ=20,CLGQ=11,TTTT=9,MDSH=22,MDHL=18"`` → maxima by group code (any order).

    By code, not by position: the groups' order differs between the national API and the plans,
    and a list of bare numbers silently swaps two groups when entered in the other order.
    """
    found: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        code, sep, value = part.partition("=")
        code = code.strip().upper()
        if not sep or code not in DEFAULT_GROUP_MAX:
            raise ValidationError(
                f"Điểm tối đa nhóm phải ghi theo mã nhóm, ví dụ CKMB=18 (mã hợp lệ: "
                f"{', '.join(DEFAULT_GROUP_MAX)}); nhận được “{part}”"
            )
        try:
            points = float(value)
        except ValueError:
            raise ValidationError(
                f"Điểm tối đa của nhóm {code} không phải là số: “{value.strip()}”"
            ) from None
        if not 0 <= points <= 100:
            raise ValidationError(f"Điểm tối đa của nhóm {code} phải từ 0 đến 100")
        found[code] = points
    missing = [c for c in DEFAULT_GROUP_MAX if c not in found]
    if found and missing:
        raise ValidationError(f"Thiếu điểm tối đa của nhóm: {', '.join(missing)}")
    return found


def parse_target(code: str, value: str) -> float:
    """A target entered as a percentage ("99,4" or "99.4") → share; refuses unknown lines."""
    if code not in TARGET_CODES:
        raise ValidationError(
            f"Chỉ tiêu không xác định: “{code}” (mã hợp lệ: {', '.join(sorted(TARGET_CODES))})"
        )
    try:
        percent = float(value.replace(",", ".").replace("%", "").strip())
    except ValueError:
        raise ValidationError(f"Chỉ tiêu {code} không phải là số phần trăm: “{value}”") from None
    if not 0 <= percent <= 100:
        raise ValidationError(f"Chỉ tiêu {code} phải từ 0 đến 100 %")
    return percent / 100


# ------------------------------------------------------------------------------------ printable

INDICATOR_STATUS = {
    "ok": "Đo được",
    "partial": "Đo được một phần",
    "no_data": "Không áp dụng (chưa có dữ liệu)",
    "not_applicable": "Không áp dụng (không có hồ sơ trong kỳ)",
}


SCORECARD_HEADERS = (
    "Mã",
    "Chỉ tiêu / nhóm / chỉ số",
    "Tử số",
    "Mẫu số",
    "Tỷ lệ (%)",
    "Chỉ tiêu (%) / Điểm",
    "Chênh lệch (%) / Điểm tối đa",
    "Tình trạng",
    "Ghi chú / hồ sơ sau chênh lệch",
)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _line_status(line: TargetLine) -> str:
    if line.status != "ok":
        return "Không áp dụng"
    return "Đạt chỉ tiêu" if line.met else ("Chưa đạt chỉ tiêu" if line.met is not None else "Đo được")


def scorecard_table(view: DirectorView) -> Table:
    """The director's view as a printable table: the plan's lines (value, target, gap, dossiers
    behind the gap), then one line per group and its sub-indicators."""
    card = view.card
    rows: list[tuple[Cell, ...]] = [("I", "CHỈ TIÊU CỦA KẾ HOẠCH", None, None, None, None, None, None, None)]
    for line in view.lines:
        rows.append(
            (
                line.code,
                line.name,
                line.numerator,
                line.denominator,
                _percent(line.value),
                _percent(line.target),
                _percent(line.gap),
                _line_status(line),
                f"{line.behind_label}: {', '.join(line.behind)}" if line.behind else line.note,
            )
        )
    rows.append(("II", "ĐIỂM THEO NHÓM CHỈ SỐ", None, None, None, None, None, None, None))
    for g in card.groups:
        measured = f"Đo được {g.measured_max:g} điểm" if g.points is not None else "Không áp dụng"
        rows.append((g.code, g.name, None, None, None, g.points, g.max_points, measured, None))
        for i in g.indicators:
            rate = None if i.rate is None else round(i.rate * 100, 1)
            status = INDICATOR_STATUS.get(i.status, i.status)
            rows.append(
                (i.code, i.name, i.numerator, i.denominator, rate, i.points, i.max_points, status, i.note)
            )
    rows.append((None, "Tổng cộng", None, None, None, card.points, card.max_points, view.summary(), None))
    subtitle = (f"Từ ngày {card.first:%d/%m/%Y} đến ngày {card.last:%d/%m/%Y}", view.summary())
    return Table(
        "BỘ CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP (QĐ 766/QĐ-TTg)", SCORECARD_HEADERS, tuple(rows), subtitle
    )
