"""Decision 766/QĐ-TTg scorecard (pure): group points and the sub-indicator rates behind them.

The formulas follow ``../shared/domain/index766.md``. What the national rules leave open — how a
group's points split between its sub-indicators, the 2.1 curve — is configuration, proportional by
default (points = rate × max, or min(1, rate / threshold) × max where the rule says "full score
from X %"). An indicator whose data the system does not hold (payments integration, digitisation,
complaints) is reported as "no data" and left out of the points, never guessed; the scorecard says
how many points were measurable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from . import sla
from .feedback_stats import FeedbackIndicators
from .reports import DossierFacts, local_bounds

Status = Literal["ok", "partial", "no_data", "not_applicable"]

DEFAULT_GROUP_MAX: dict[str, float] = {"CKMB": 18, "TDGQ": 20, "CLGQ": 12, "TTTT": 10, "MDHL": 18, "MDSH": 22}
GROUP_NAMES: dict[str, str] = {
    "CKMB": "Công khai, minh bạch",
    "TDGQ": "Tiến độ giải quyết",
    "CLGQ": "Dịch vụ công trực tuyến",
    "TTTT": "Thanh toán trực tuyến",
    "MDHL": "Mức độ hài lòng",
    "MDSH": "Số hóa hồ sơ",
}


@dataclass(frozen=True)
class IndicatorRule:
    """One sub-indicator: its share of the group's points and, if any, its full-score threshold."""

    code: str
    group: str
    name: str
    weight: float  # share of the group's max points
    full_from: float | None = None  # "full score from X %": points = min(1, rate / X) × max


DEFAULT_INDICATORS: tuple[IndicatorRule, ...] = (
    IndicatorRule("1.4", "CKMB", "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia", 1.0),
    IndicatorRule("2.1", "TDGQ", "Tỷ lệ hồ sơ giải quyết đúng hạn", 1.0),
    IndicatorRule("2.2", "TDGQ", "Thời gian giải quyết trung bình", 0.0),
    IndicatorRule("3.1", "CLGQ", "Tỷ lệ thủ tục cung cấp dịch vụ công trực tuyến", 0.5, 0.8),
    IndicatorRule("3.3", "CLGQ", "Tỷ lệ hồ sơ trực tuyến", 0.5, 0.5),
    IndicatorRule("3.5", "TTTT", "Tỷ lệ thủ tục có phí tích hợp thanh toán trực tuyến", 0.5, 0.8),
    IndicatorRule("3.6", "TTTT", "Tỷ lệ hồ sơ thanh toán trực tuyến", 0.5),
    IndicatorRule("4.1", "MDSH", "Tỷ lệ hồ sơ cấp kết quả điện tử", 1 / 3),
    IndicatorRule("4.2", "MDSH", "Tỷ lệ số hóa hồ sơ, kết quả", 1 / 3, 0.8),
    IndicatorRule("4.3", "MDSH", "Tỷ lệ khai thác, sử dụng lại dữ liệu số hóa", 1 / 3, 0.8),
    IndicatorRule("5.1", "MDHL", "Công khai kết quả xử lý phản ánh, kiến nghị", 5 / 18),
    IndicatorRule("5.2", "MDHL", "Xử lý phản ánh, kiến nghị đúng hạn", 5 / 18),
    IndicatorRule("5.3", "MDHL", "Tỷ lệ phản ánh, kiến nghị được giải quyết thỏa đáng", 2 / 18),
    IndicatorRule("5.4", "MDHL", "Mức độ hài lòng trong giải quyết thủ tục hành chính", 6 / 18, 0.9),
)


@dataclass(frozen=True)
class ProcedureInfo:
    """What 3.1 and 3.5 need about each procedure offered."""

    procedure_id: str
    online_level: str  # full | partial | none
    fee: int = 0
    payment_integrated: bool = False  # the procedure's paymentIntegrated metadata


@dataclass(frozen=True)
class ScorecardConfig:
    """Group maxima (national API defaults), sub-indicator rules, and facts from outside the system."""

    group_max: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_GROUP_MAX))
    indicators: tuple[IndicatorRule, ...] = DEFAULT_INDICATORS
    # Which fee-bearing procedures are integrated with online payment (3.5); None = as each
    # procedure's paymentIntegrated metadata says.
    online_payment_procedures: frozenset[str] | None = None
    hours_per_day: float = 8.0


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    group: str
    name: str
    status: Status
    numerator: float | None
    denominator: float | None
    rate: float | None
    max_points: float
    points: float | None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class GroupResult:
    code: str
    name: str
    max_points: float
    measured_max: float  # points of the sub-indicators with data
    points: float | None  # None when no sub-indicator has data
    indicators: tuple[IndicatorResult, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "max_points": self.max_points,
            "measured_max": self.measured_max,
            "points": self.points,
            "indicators": [i.as_dict() for i in self.indicators],
        }


@dataclass(frozen=True)
class Scorecard:
    first: date
    last: date
    groups: tuple[GroupResult, ...]

    @property
    def points(self) -> float:
        """Points earned on what could be measured."""
        return round(sum(g.points or 0.0 for g in self.groups), 4)

    @property
    def measured_max(self) -> float:
        return round(sum(g.measured_max for g in self.groups), 4)

    @property
    def max_points(self) -> float:
        return round(sum(g.max_points for g in self.groups), 4)

    def group(self, code: str) -> GroupResult:
        return next(g for g in self.groups if g.code == code)

    def indicator(self, code: str) -> IndicatorResult:
        return next(i for g in self.groups for i in g.indicators if i.code == code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "points": self.points,
            "measured_max": self.measured_max,
            "max_points": self.max_points,
            "groups": [g.as_dict() for g in self.groups],
        }


# ------------------------------------------------------------------------------------ 2.1


@dataclass(frozen=True)
class OnTime:
    """How one dossier counts in 2.1, with the moments used (for the auditor to check by hand)."""

    on_time: bool
    end: datetime
    waited: timedelta
    appointment: datetime | None
    reason: str


def on_time_766(
    f: DossierFacts, start: datetime, end: datetime, legal: timedelta | None = None
) -> OnTime | None:
    """2.1 for one dossier in [start, end); None when it was not received or processed in the period.

    End of processing = result ready (9), else returned (10), else stopped/refused (8/3); a dossier
    waiting for supplementation ends at the request; one still open is measured at the period's end.
    The waiting time of answered supplementation requests is subtracted; more than one request, or
    an apology letter, makes it late. On time ⇔ end − waiting ≤ the appointment on the receipt.
    """
    if f.received_at is None or f.received_at >= end:
        return None
    ended = f.ended_at
    if ended is not None and ended < start:
        return None
    requests = [r for r, _ in f.supplements if r < end]
    if ended is not None and ended < end:
        moment, why = ended, "kết thúc xử lý"
    elif (pending := f.waiting_at(end)) is not None:
        moment, why = pending, "đang chờ bổ sung: tính đến lúc yêu cầu"
    elif (paying := f.paying_at(end)) is not None and not f.fee_wait_counts:
        moment, why = paying, "đang chờ thực hiện nghĩa vụ tài chính: tính đến lúc yêu cầu"
    else:
        moment, why = end, "đang xử lý: tính đến cuối kỳ"
    waited = sum(
        (
            (resumed - requested)
            for requested, resumed in f.paused_waits()
            if resumed is not None and resumed <= moment
        ),
        timedelta(0),
    )
    appointment = f.original_due_at
    if len(requests) > 1:
        return OnTime(False, moment, waited, appointment, "yêu cầu bổ sung nhiều hơn một lần")
    if any(a < end for a in f.apologies):
        return OnTime(False, moment, waited, appointment, "có phiếu xin lỗi, hẹn lại")
    if appointment is None:
        if legal is None:
            return OnTime(True, moment, waited, None, "không có ngày hẹn và thời hạn luật định")
        ok = moment - f.received_at - waited <= legal
        return OnTime(ok, moment, waited, None, why + "; so với thời hạn luật định")
    return OnTime(moment - waited <= appointment, moment, waited, appointment, why)


# ------------------------------------------------------------------------------------ 4.1–4.3


def electronic_result_766(f: DossierFacts) -> bool:
    """4.1: the dossier's result was issued electronically (signed by the agency)."""
    return bool(f.electronic_result)


def digitised_766(f: DossierFacts, end: datetime) -> bool:
    """4.2: components in electronic form and, once a result was returned before ``end``, the result
    digitised or issued signed."""
    returned = f.returned_at is not None and f.returned_at < end
    return f.components_digital and (not returned or f.result_digital or bool(f.electronic_result))


def reused_766(f: DossierFacts) -> bool:
    """4.3: at least one component taken from the citizen's data store."""
    return f.reused


# ------------------------------------------------------------------------------------ scorecard


def scorecard(
    facts: Iterable[DossierFacts],
    first: date,
    last: date,
    procedures: Sequence[ProcedureInfo] = (),
    config: ScorecardConfig | None = None,
    calendar: sla.BusinessCalendar | None = None,
    feedback: FeedbackIndicators | None = None,
) -> Scorecard:
    """The six groups for dossiers received or processed between two local dates (inclusive);
    ``feedback`` (5.1–5.3, from :mod:`engine.feedback_stats`) when complaints are recorded."""
    config = config or ScorecardConfig()
    start, end = local_bounds(first, last)
    dossiers = list(facts)
    measured: dict[str, tuple[Status, float | None, float | None, str, dict[str, Any]]] = {}

    def put(code: str, num: float | None, den: float | None, note: str = "", **detail: Any) -> None:
        if num is None or den is None:
            measured[code] = (
                "no_data",
                None,
                None,
                note or "Hệ thống chưa có dữ liệu cho chỉ số này",
                detail,
            )
        elif den == 0:
            measured[code] = (
                "not_applicable",
                num,
                den,
                note or "Không có hồ sơ, thủ tục thuộc phạm vi",
                detail,
            )
        else:
            measured[code] = ("partial" if note else "ok", num, den, note, detail)

    received = [f for f in dossiers if f.received_at is not None and start <= f.received_at < end]

    # 1.4 — synced to the national portal, among dossiers received in the period.
    with_sync = [f for f in received if f.synced is not None]
    put("1.4", *((sum(bool(f.synced) for f in received), len(received)) if with_sync else (None, None)))

    # 2.1 — on time, among dossiers received or processed in the period.
    judged = [(f, j) for f in dossiers if (j := on_time_766(f, start, end)) is not None]
    on_time = sum(j.on_time for _, j in judged)
    late = [f.code for f, j in judged if not j.on_time]
    put("2.1", on_time, len(judged), late=late)

    # 2.2 — average processing time per procedure, in its own unit (reported, no points by default).
    if calendar is None:
        put("2.2", None, None, "Cần lịch làm việc để tính thời gian xử lý")
    else:
        averages = _average_times(dossiers, start, end, calendar, config.hours_per_day)
        plain = {k: {"average": round(v, 2), "dossiers": n} for k, (v, n) in averages.items()}
        measured["2.2"] = ("ok", None, None, "Chỉ số thông tin (theo đơn vị thời hạn của thủ tục)", plain)

    # 3.1 — procedures offered online (partially or fully).
    if procedures:
        online = sum(p.online_level in ("full", "partial") for p in procedures)
        put("3.1", online, len(procedures))
    else:
        put("3.1", None, None)

    # 3.3 — online dossiers (with an electronic result where the procedure's result is on paper).
    online_ok = sum(
        f.channel == 2 and (f.result_type == "electronic" or bool(f.electronic_result)) for f in received
    )
    sync = measured["1.4"]
    if sync[0] == "ok" and sync[2]:
        factor = float(sync[1] or 0) / float(sync[2])
        put("3.3", online_ok * factor, len(received), sync_rate=factor)
    else:
        put("3.3", online_ok, len(received), "Chưa nhân tỷ lệ đồng bộ (1.4): chưa có dữ liệu đồng bộ")

    # 3.5 — fee-bearing procedures integrated with online payment (paymentIntegrated metadata,
    # unless the configuration names them).
    fee_procedures = [p for p in procedures if p.fee > 0]
    if not procedures:
        put("3.5", None, None, "Chưa có danh sách thủ tục")
    else:
        named = config.online_payment_procedures
        integrated = sum(
            (p.procedure_id in named) if named is not None else p.payment_integrated for p in fee_procedures
        )
        put("3.5", integrated, len(fee_procedures))

    # 3.6 — online-paid dossiers among those of fee-bearing procedures (fees not all zero).
    fee_dossiers = [f for f in received if f.fee > 0]
    if any(f.paid_online is not None for f in fee_dossiers):
        put("3.6", sum(bool(f.paid_online) for f in fee_dossiers), len(fee_dossiers))
    else:
        put("3.6", None, None, "Chưa có dữ liệu thanh toán của hồ sơ")

    # 4.1 — electronic (signed) results among dossiers with a result whose procedure issues a paper
    # result (the national formula; electronic-result procedures count in 3.3).
    resulted = [f for f in dossiers if f.result_type == "paper" and _within(f.returned_at, start, end)]
    put("4.1", sum(electronic_result_766(f) for f in resulted), len(resulted))
    # 4.2 — received dossiers with components (and result, once returned) in electronic form.
    put("4.2", sum(digitised_766(f, end) for f in received), len(received))
    # 4.3 — received dossiers that reused at least one component from the citizen's data store.
    put("4.3", sum(reused_766(f) for f in received), len(received))

    # 5.1–5.3 — complaints and feedback records; 5.4 from lateness, complaints and "dislikes".
    for item in feedback.indicators if feedback is not None else ():
        put(item.code, item.numerator, item.denominator)
    if judged:
        unhappy = [
            f
            for f, _ in judged
            if (f.rating == 1 and f.rated_at is not None and f.rated_at < end)
            or any(start <= c < end for c in f.complaints)
        ]
        overdue_rate = len(late) / len(judged)
        dislike_rate = len(unhappy) / len(judged)
        rate = max(0.0, 1.0 - (overdue_rate + dislike_rate))
        measured["5.4"] = (
            "ok" if feedback is not None else "partial",
            rate * len(judged),
            len(judged),
            "" if feedback is not None else "Chưa tính phản ánh, kiến nghị (chưa có dữ liệu)",
            {"overdue_rate": overdue_rate, "dislike_rate": dislike_rate, "disliked": len(unhappy)},
        )
    else:
        put("5.4", 0, 0)
    return Scorecard(first, last, _groups(config, measured))


def _groups(
    config: ScorecardConfig,
    measured: Mapping[str, tuple[Status, float | None, float | None, str, dict[str, Any]]],
) -> tuple[GroupResult, ...]:
    groups: list[GroupResult] = []
    for code, group_max in config.group_max.items():
        results: list[IndicatorResult] = []
        for rule in (r for r in config.indicators if r.group == code):
            status, num, den, note, detail = measured.get(rule.code, ("no_data", None, None, "", {}))
            max_points = rule.weight * group_max
            rate = float(num) / float(den) if num is not None and den else None
            points = (
                None
                if rate is None or status in ("no_data", "not_applicable")
                else _points(rate, rule, max_points)
            )
            results.append(
                IndicatorResult(
                    rule.code,
                    code,
                    rule.name,
                    status,
                    num,
                    den,
                    rate,
                    round(max_points, 4),
                    points,
                    note,
                    detail,
                )
            )
        with_data = [r for r in results if r.points is not None]
        # From the unrounded shares: three thirds of 22 points measure 22, not 3 × 7.3333.
        weights = {rule.code: rule.weight for rule in config.indicators if rule.group == code}
        groups.append(
            GroupResult(
                code,
                GROUP_NAMES.get(code, code),
                group_max,
                round(sum(weights[r.code] for r in with_data) * group_max, 4),
                round(sum(r.points or 0.0 for r in with_data), 4) if with_data else None,
                tuple(results),
            )
        )
    return tuple(groups)


def _points(rate: float, rule: IndicatorRule, max_points: float) -> float:
    share = min(1.0, rate / rule.full_from) if rule.full_from else min(1.0, rate)
    return round(share * max_points, 4)


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def _average_times(
    dossiers: Sequence[DossierFacts],
    start: datetime,
    end: datetime,
    calendar: sla.BusinessCalendar,
    per_day: float,
) -> dict[str, tuple[float, int]]:
    """Average (received → result) time minus supplementation waits, per procedure, in its unit."""
    sums: dict[str, tuple[float, int]] = {}
    for f in dossiers:
        if f.received_at is None or not _within(f.finished_at, start, end):
            continue
        assert f.finished_at is not None
        if f.legal_unit == "calendar_days":
            span = (f.finished_at - f.received_at).total_seconds() / 86400
            waits = sum(((b - a).total_seconds() / 86400) for a, b in f.paused_waits() if b is not None)
        else:
            span = calendar.working_hours_between(f.received_at, f.finished_at)
            waits = sum(calendar.working_hours_between(a, b) for a, b in f.paused_waits() if b is not None)
            if f.legal_unit in ("working_days", "same_working_day"):
                span, waits = span / per_day, waits / per_day
        total, count = sums.get(f.procedure_id, (0.0, 0))
        sums[f.procedure_id] = (total + span - waits, count + 1)
    return {k: (total / count, count) for k, (total, count) in sums.items()}
