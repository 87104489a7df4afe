"""A hand-computed dataset: 24 dossiers over Q1 and Q2 2026, every report line and every indicator.

Each dossier is written as the events the engine records (folded by ``dossier_facts``, so fee waits
are told apart from supplementations by the ``clock_paused`` payload, as in the database) plus the
facts the history does not hold (unit, fee, result type, payment, e-result, portal sync, rating).
Every expected number below was worked out by hand from the list that follows; the comments
beside each assertion show the working.

Procedures: ``copy`` (same working day, paper result, no fee), ``centre`` (15 working days, fee
1 000 000, paper result), ``transfer`` (40 working hours, electronic result). Units "Phòng A"
(copy) and "Phòng B" (centre, transfer); refused dossiers never reached a department (desk).

- D01 copy, channel 2: sub 05/01 08:00 (receipt due 16:00), acc 09:00 due 17:00, done 15:00 on time, ret
  16:00 e-result; rated 3
- D02 copy, channel 1: acc 06/01 10:00 due 17:00, done 16:00 on time, ret 07/01 paper; rated 1 (not
  satisfied) 07/01
- D03 copy, channel 3: acc 07/01 09:00 due 17:00, apology 16:00 → 08/01 11:00, done 08/01 10:00 late, ret
  post
- D04 transfer, channel 2: sub 12/01 08:00 (due 16:00), acc 13/01 09:00 (receipt late) due 20/01, done
  16/01 10:00 early
- D05 transfer, channel 2: sub 19/01 09:00 (due 20/01 09:30), refused 19/01 10:00
- D06 centre, channel 1: acc 02/02 09:00 due 02/03 09:00, fee wait → paid online 03/02 09:00 (due 03/03),
  done 25/02 early
- D07 centre, channel 2: sub 09/02 08:00, acc 09:00 due 12/03 09:00, fee → paid at desk 10/02 (due
  13/03), done 15/04 late
- D08 centre, channel 2: sub 23/03 08:00, acc 10:00 due 21/04 10:00, fee unpaid at 31/03, paid online
  02/04, done 20/04 early, e-result
- D09 copy, channel 1: acc 02/03 10:00 due 17:00, supplement 11:00 → 03/03 09:00, again 10:00 → 04/03
  09:00, done 15:00 "on time"
- D10 copy, channel 1: acc 09/03 09:00 due 17:00, supplement 10:00 never answered, stopped 16/03 10:00
- D11 transfer, channel 1: acc 16/03 09:00 due 23/03 09:00, withdrawal asked 18/03 09:00, stopped 10:00
- D12 copy, channel 2: sub 30/03 16:00 (due 31/03 16:30), acc 01/04 08:00 due 17:00, done 14:00 on time,
  e-result
- D13 copy, channel 1: acc 25/03 09:00 due 17:00, apology 16:00 → 27/03 17:00, done 02/04 09:00 late
- D14 transfer, channel 2: sub 26/03 08:00, acc 09:00 due 02/04 09:00, done 01/04 16:00 early
- D15 copy, channel 2: sub 06/04 08:00, acc 09:00 due 17:00, done 16:00 on time, e-result; rated 2
- D16 copy, channel 1: sub 06/04 14:00, desk asks supplement 15:00, back 07/04 08:00, acc 09:00 due
  17:00, done 15:00 on time
- D17 centre, channel 1: acc 13/04 09:00 due 12/05 09:00, fee → paid online 14/04, supplement 20/04 →
  22/04, done 06/05 early
- D18 centre, channel 2: sub 04/05 08:00 (due 16:00), acc 05/05 09:00 due 03/06 09:00, paid online 15:00
  (due 15:00), open
- D19 transfer, channel 1: sub 11/05 09:00, refused 09:30
- D20 transfer, channel 2: sub 18/05 08:00, acc 10:00 due 25/05, withdrawal asked 20/05 09:00, stopped
  11:00
- D21 copy, channel 1: acc 01/06 09:00 due 17:00, apology 16:30 → 02/06 11:00, done 02/06 09:00 late;
  rated 1
- D22 copy, channel 2: sub 29/06 08:00, acc 09:00 due 17:00, supplement 10:00, still waiting at 30/06
- D23 copy, channel 2: sub 30/06 15:00 (receipt due 01/07 14:30), not decided by 30/06
- D24 copy, channel 1: acc 08/06 09:00 due 17:00, apology for a mistake (name misspelt on the receipt)
  10:00 without a new appointment, done 14:00 on time, ret 15:00 paper

Portal sync: every dossier synced except D02, D03 and D21.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from engine.calendar import WorkingCalendar
from engine.index766 import ProcedureInfo, ScorecardConfig
from engine.index766_targets import director_view
from engine.replay import ReplayEvent
from engine.reports import DESK_UNIT, DossierFacts, dossier_facts, periodic_report_for, register
from tests.support.fixtures import vn

ELEMENTS = {"return_result": {"kind": "return", "role": "desk_clerk"}}
PROCEDURES = {
    "copy": ("Cấp bản sao văn bằng", 0, "paper", "same_working_day", "Phòng A"),
    "centre": ("Cho phép trung tâm hoạt động", 1_000_000, "paper", "working_days", "Phòng B"),
    "transfer": ("Chuyển trường", 0, "electronic", "working_hours", "Phòng B"),
}
NOT_SYNCED = {"D02", "D03", "D21"}


class History:
    """The events of one dossier, in the shapes the engine records them."""

    def __init__(
        self, code: str, procedure: str, channel: int, at: datetime, receipt_due: datetime | None = None
    ):
        self.code, self.procedure, self.status = code, procedure, 1
        self.events: list[ReplayEvent] = []
        payload = {"procedure_id": procedure, "channel": channel, "applicant": {"name": code}, "data": {}}
        if receipt_due is not None:
            payload["receipt_due_at"] = receipt_due.isoformat()
        self._add(at, "case_started", status_to=1, payload=payload)

    def _add(self, at: datetime, kind: str, **fields: Any) -> History:
        fields.setdefault("payload", {})
        self.events.append(
            ReplayEvent(seq=len(self.events) + 1, at=at, actor="staff", kind=kind, task_id=None,
                        element_id=fields.pop("element_id", None),
                        status_from=fields.pop("status_from", None),
                        status_to=fields.pop("status_to", None), payload=fields.pop("payload"))
        )  # fmt: skip
        return self

    def to(self, at: datetime, status: int) -> History:
        self._add(at, "status_changed", status_from=self.status, status_to=status)
        self.status = status
        return self

    def accept(self, at: datetime, due: datetime) -> History:
        self.to(at, 2)._add(at, "due_set", payload={"reason": "accepted", "due_at": due.isoformat()})
        self.to(at, 4)._add(at, "task_ready", payload={"role": "specialist"})
        return self

    def supplement(self, at: datetime) -> History:
        return self.to(at, 5)._add(
            at, "clock_paused", payload={"supplements": 1, "waiting_for": "supplementation"}
        )

    def supplemented(self, at: datetime, due: datetime) -> History:
        return self.to(at, 4)._add(
            at, "due_set", payload={"reason": "supplemented_restart", "due_at": due.isoformat()}
        )

    def fee(self, at: datetime) -> History:
        return self.to(at, 6)._add(at, "clock_paused", payload={"supplements": 0, "waiting_for": "payment"})

    def paid(self, at: datetime, due: datetime) -> History:
        return self.to(at, 4)._add(
            at, "due_set", payload={"reason": "paid_extend", "due_at": due.isoformat()}
        )

    def apology(self, at: datetime, due: datetime) -> History:
        return self._add(at, "apology_issued", payload={"new_due_at": due.isoformat()})

    def mistake(self, at: datetime) -> History:
        """An apology for a mistake without a new appointment (not late)."""
        payload = {"kind": "mistake", "new_due_at": None, "reason": "Ghi sai tên trên giấy tiếp nhận"}
        return self._add(at, "apology_issued", payload=payload)

    def done(self, at: datetime, outcome: str) -> History:
        return self.to(at, 9)._add(at, "case_finished", payload={"outcome": outcome})

    def returned(self, at: datetime, method: str) -> History:
        self._add(at, "task_completed", element_id="return_result", payload={"data": {"method": method}})
        return self.to(at, 10)

    def facts(self, **sources: Any) -> DossierFacts:
        name, fee, result, unit_of_time, unit = PROCEDURES[self.procedure]
        sources.setdefault("unit", unit if self.status not in (3,) else None)
        return dossier_facts(
            self.code, self.events, procedure_name=name, elements=ELEMENTS, fee=fee, result_type=result,
            legal_unit=unit_of_time, synced=self.code not in NOT_SYNCED, **sources,
        )  # fmt: skip


def dataset() -> list[DossierFacts]:
    return [
        History("D01", "copy", 2, vn(2026, 1, 5, 8, 0), vn(2026, 1, 5, 16, 0))
        .accept(vn(2026, 1, 5, 9, 0), vn(2026, 1, 5, 17, 0)).done(vn(2026, 1, 5, 15, 0), "on_time")
        .returned(vn(2026, 1, 5, 16, 0), "electronic").facts(rating=3, rated_at=vn(2026, 1, 6, 9, 0)),
        History("D02", "copy", 1, vn(2026, 1, 6, 10, 0))
        .accept(vn(2026, 1, 6, 10, 0), vn(2026, 1, 6, 17, 0)).done(vn(2026, 1, 6, 16, 0), "on_time")
        .returned(vn(2026, 1, 7, 9, 0), "in_person").facts(rating=1, rated_at=vn(2026, 1, 7, 10, 0)),
        History("D03", "copy", 3, vn(2026, 1, 7, 9, 0))
        .accept(vn(2026, 1, 7, 9, 0), vn(2026, 1, 7, 17, 0))
        .apology(vn(2026, 1, 7, 16, 0), vn(2026, 1, 8, 11, 0))
        .done(vn(2026, 1, 8, 10, 0), "late").returned(vn(2026, 1, 8, 11, 0), "post").facts(),
        History("D04", "transfer", 2, vn(2026, 1, 12, 8, 0), vn(2026, 1, 12, 16, 0))
        .accept(vn(2026, 1, 13, 9, 0), vn(2026, 1, 20, 9, 0)).done(vn(2026, 1, 16, 10, 0), "early")
        .returned(vn(2026, 1, 16, 11, 0), "electronic").facts(),
        History("D05", "transfer", 2, vn(2026, 1, 19, 9, 0), vn(2026, 1, 20, 9, 30))
        .to(vn(2026, 1, 19, 10, 0), 3).facts(),
        History("D06", "centre", 1, vn(2026, 2, 2, 9, 0))
        .accept(vn(2026, 2, 2, 9, 0), vn(2026, 3, 2, 9, 0)).fee(vn(2026, 2, 2, 9, 0))
        .paid(vn(2026, 2, 3, 9, 0), vn(2026, 3, 3, 9, 0)).done(vn(2026, 2, 25, 10, 0), "early")
        .returned(vn(2026, 2, 26, 9, 0), "in_person").facts(paid_online=True),
        History("D07", "centre", 2, vn(2026, 2, 9, 8, 0), vn(2026, 2, 9, 16, 0))
        .accept(vn(2026, 2, 9, 9, 0), vn(2026, 3, 12, 9, 0)).fee(vn(2026, 2, 9, 9, 0))
        .paid(vn(2026, 2, 10, 9, 0), vn(2026, 3, 13, 9, 0)).done(vn(2026, 4, 15, 10, 0), "late")
        .returned(vn(2026, 4, 16, 9, 0), "in_person").facts(paid_online=False),
        History("D08", "centre", 2, vn(2026, 3, 23, 8, 0), vn(2026, 3, 23, 16, 0))
        .accept(vn(2026, 3, 23, 10, 0), vn(2026, 4, 21, 10, 0)).fee(vn(2026, 3, 23, 10, 0))
        .paid(vn(2026, 4, 2, 10, 0), vn(2026, 4, 30, 10, 0)).done(vn(2026, 4, 20, 10, 0), "early")
        .returned(vn(2026, 4, 21, 9, 0), "electronic").facts(paid_online=True),
        History("D09", "copy", 1, vn(2026, 3, 2, 10, 0))
        .accept(vn(2026, 3, 2, 10, 0), vn(2026, 3, 2, 17, 0)).supplement(vn(2026, 3, 2, 11, 0))
        .supplemented(vn(2026, 3, 3, 9, 0), vn(2026, 3, 3, 17, 0)).supplement(vn(2026, 3, 3, 10, 0))
        .supplemented(vn(2026, 3, 4, 9, 0), vn(2026, 3, 4, 17, 0)).done(vn(2026, 3, 4, 15, 0), "on_time")
        .returned(vn(2026, 3, 5, 9, 0), "in_person").facts(),
        History("D10", "copy", 1, vn(2026, 3, 9, 9, 0))
        .accept(vn(2026, 3, 9, 9, 0), vn(2026, 3, 9, 17, 0)).supplement(vn(2026, 3, 9, 10, 0))
        .to(vn(2026, 3, 16, 10, 0), 8).facts(),
        History("D11", "transfer", 1, vn(2026, 3, 16, 9, 0))
        .accept(vn(2026, 3, 16, 9, 0), vn(2026, 3, 23, 9, 0)).to(vn(2026, 3, 18, 9, 0), 7)
        .to(vn(2026, 3, 18, 10, 0), 8).facts(),
        History("D12", "copy", 2, vn(2026, 3, 30, 16, 0), vn(2026, 3, 31, 16, 30))
        .accept(vn(2026, 4, 1, 8, 0), vn(2026, 4, 1, 17, 0)).done(vn(2026, 4, 1, 14, 0), "on_time")
        .returned(vn(2026, 4, 1, 15, 0), "electronic").facts(),
        History("D13", "copy", 1, vn(2026, 3, 25, 9, 0))
        .accept(vn(2026, 3, 25, 9, 0), vn(2026, 3, 25, 17, 0))
        .apology(vn(2026, 3, 25, 16, 0), vn(2026, 3, 27, 17, 0))
        .done(vn(2026, 4, 2, 9, 0), "late").returned(vn(2026, 4, 2, 10, 0), "in_person").facts(),
        History("D14", "transfer", 2, vn(2026, 3, 26, 8, 0), vn(2026, 3, 26, 16, 0))
        .accept(vn(2026, 3, 26, 9, 0), vn(2026, 4, 2, 9, 0)).done(vn(2026, 4, 1, 16, 0), "early")
        .returned(vn(2026, 4, 2, 8, 0), "electronic").facts(),
        History("D15", "copy", 2, vn(2026, 4, 6, 8, 0), vn(2026, 4, 6, 16, 0))
        .accept(vn(2026, 4, 6, 9, 0), vn(2026, 4, 6, 17, 0)).done(vn(2026, 4, 6, 16, 0), "on_time")
        .returned(vn(2026, 4, 6, 16, 30), "electronic").facts(rating=2, rated_at=vn(2026, 4, 7, 9, 0)),
        History("D16", "copy", 1, vn(2026, 4, 6, 14, 0))
        .to(vn(2026, 4, 6, 15, 0), 5).to(vn(2026, 4, 7, 8, 0), 1)
        .accept(vn(2026, 4, 7, 9, 0), vn(2026, 4, 7, 17, 0)).done(vn(2026, 4, 7, 15, 0), "on_time")
        .returned(vn(2026, 4, 8, 9, 0), "in_person").facts(),
        History("D17", "centre", 1, vn(2026, 4, 13, 9, 0))
        .accept(vn(2026, 4, 13, 9, 0), vn(2026, 5, 12, 9, 0)).fee(vn(2026, 4, 13, 9, 0))
        .paid(vn(2026, 4, 14, 9, 0), vn(2026, 5, 13, 9, 0)).supplement(vn(2026, 4, 20, 9, 0))
        .supplemented(vn(2026, 4, 22, 9, 0), vn(2026, 5, 22, 9, 0)).done(vn(2026, 5, 6, 10, 0), "early")
        .returned(vn(2026, 5, 7, 9, 0), "in_person").facts(paid_online=True),
        History("D18", "centre", 2, vn(2026, 5, 4, 8, 0), vn(2026, 5, 4, 16, 0))
        .accept(vn(2026, 5, 5, 9, 0), vn(2026, 6, 3, 9, 0)).fee(vn(2026, 5, 5, 9, 0))
        .paid(vn(2026, 5, 5, 15, 0), vn(2026, 6, 3, 15, 0)).facts(paid_online=True),
        History("D19", "transfer", 1, vn(2026, 5, 11, 9, 0)).to(vn(2026, 5, 11, 9, 30), 3).facts(),
        History("D20", "transfer", 2, vn(2026, 5, 18, 8, 0), vn(2026, 5, 18, 16, 0))
        .accept(vn(2026, 5, 18, 10, 0), vn(2026, 5, 25, 10, 0)).to(vn(2026, 5, 20, 9, 0), 7)
        .to(vn(2026, 5, 20, 11, 0), 8).facts(),
        History("D21", "copy", 1, vn(2026, 6, 1, 9, 0))
        .accept(vn(2026, 6, 1, 9, 0), vn(2026, 6, 1, 17, 0))
        .apology(vn(2026, 6, 1, 16, 30), vn(2026, 6, 2, 11, 0))
        .done(vn(2026, 6, 2, 9, 0), "late").returned(vn(2026, 6, 2, 10, 0), "in_person")
        .facts(rating=1, rated_at=vn(2026, 6, 3, 9, 0)),
        History("D22", "copy", 2, vn(2026, 6, 29, 8, 0), vn(2026, 6, 29, 16, 0))
        .accept(vn(2026, 6, 29, 9, 0), vn(2026, 6, 29, 17, 0)).supplement(vn(2026, 6, 29, 10, 0)).facts(),
        History("D23", "copy", 2, vn(2026, 6, 30, 15, 0), vn(2026, 7, 1, 14, 30)).facts(),
        History("D24", "copy", 1, vn(2026, 6, 8, 9, 0))
        .accept(vn(2026, 6, 8, 9, 0), vn(2026, 6, 8, 17, 0)).mistake(vn(2026, 6, 8, 10, 0))
        .done(vn(2026, 6, 8, 14, 0), "on_time").returned(vn(2026, 6, 8, 15, 0), "in_person").facts(),
    ]  # fmt: skip


COLUMNS = (
    "carried_over", "received_online", "received_in_person", "received_post", "total",
    "finished_early", "finished_on_time", "finished_late", "in_progress_on_time", "in_progress_overdue",
    "waiting_supplement", "waiting_payment", "supplemented_dossiers", "supplement_requests",
    "refused", "stopped", "withdrawn", "repeat_supplements", "apologies_late", "apologies_mistake",
)  # fmt: skip


def line(counts: Any) -> tuple[int, ...]:
    plain = counts.as_dict()
    return tuple(plain[c] for c in COLUMNS)


# ------------------------------------------------------------------------------------ periodic


def test_quarter_one() -> None:
    report = periodic_report_for(dataset(), 2026, "q1")
    # copy: D01 online, D02 D09 D10 D13 in person, D03 post = 6; finished on time D01 D02 D09 (D09's
    # engine outcome; it is late only for 766), late D03; D13 overdue (its apology moved it to 27/03);
    # supplementations D09 (2 requests; its second, 03/03, is a repeat) and D10 (1); D10 stopped;
    # apologies for lateness D03 (07/01) and D13 (25/03).
    assert line(report.by_procedure["copy"]) == (0, 1, 4, 1, 6, 0, 3, 1, 0, 1, 0, 0, 2, 3, 0, 1, 0, 1, 2, 0)
    # transfer: D04 D14 online, D11 in person = 3; D04 early; D14 open within time (due 02/04);
    # D05 refused at receipt (not received); D11 asked to withdraw (7) and stopped (8).
    transfer = line(report.by_procedure["transfer"])
    assert transfer == (0, 2, 1, 0, 3, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0)
    # centre: D07 D08 online, D06 in person; D06 early; D07 open past its appointment (13/03 after the
    # fee wait) → overdue; D08 waits for its fee → waiting for payment, never a supplementation.
    assert line(report.by_procedure["centre"]) == (0, 2, 1, 0, 3, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
    # Total: 12 received = 6 finished + 4 in progress + 2 stopped (D10, D11).
    assert line(report.total) == (0, 5, 6, 1, 12, 2, 3, 1, 1, 2, 0, 1, 2, 3, 1, 2, 1, 1, 2, 0)
    assert (report.total.finished, report.total.in_progress) == (6, 4)
    assert line(report.by_unit["Phòng A"]) == line(report.by_procedure["copy"])
    # Phòng B = transfer without D05 + centre.
    assert line(report.by_unit["Phòng B"]) == (0, 4, 2, 0, 6, 2, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0)
    assert line(report.by_unit[DESK_UNIT]) == (0,) * 14 + (1, 0, 0) + (0, 0, 0)  # D05's refusal
    assert set(report.by_unit) == {"Phòng A", "Phòng B", DESK_UNIT}


def test_quarter_two() -> None:
    report = periodic_report_for(dataset(), 2026, "q2")
    # copy: D13 carried over (late 02/04); D12 D15 D22 online, D16 D21 D24 in person; on time D12 D15
    # D16 D24; late D13 D21; D22 waits for its supplementation; requests: D16 at the desk (06/04), D22
    # (29/06); apology for lateness D21 (D13's was in Q1), for a mistake D24 (not late).
    assert line(report.by_procedure["copy"]) == (1, 3, 3, 0, 7, 0, 4, 2, 0, 0, 1, 0, 2, 2, 0, 0, 0, 0, 1, 1)
    # transfer: D14 carried over (early 01/04); D20 online, withdrawn and stopped; D19 refused.
    transfer = line(report.by_procedure["transfer"])
    assert transfer == (1, 1, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0)
    # centre: D07 D08 carried over (late, early); D17 in person early with one supplementation and a
    # fee wait (only the supplementation counts); D18 online, open past 03/06 → overdue.
    assert line(report.by_procedure["centre"]) == (2, 1, 1, 0, 4, 2, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0)
    # Total: 13 = 10 finished + 2 in progress + 1 stopped (D20).
    assert line(report.total) == (4, 5, 4, 0, 13, 3, 4, 3, 0, 1, 1, 0, 3, 3, 1, 1, 1, 0, 1, 1)


def test_six_months_count_each_dossier_once() -> None:
    report = periodic_report_for(dataset(), 2026, "h1")
    # 21 received (12 + 9, D05 D19 refused and D23 undecided are not); 16 finished (6 + 10, the four
    # carried over counted once); D18 overdue, D22 waiting; D10 D11 D20 stopped; supplementations
    # D09 ×2 (one repeat), D10, D16, D17, D22 = 5 dossiers, 6 requests; fee waits never among them;
    # apologies for lateness D03 D13 D21, for a mistake D24.
    assert line(report.total) == (0, 10, 10, 1, 21, 5, 7, 4, 0, 1, 1, 0, 5, 6, 2, 3, 2, 1, 3, 1)


def test_register_of_quarter_one() -> None:
    table = register(dataset(), date(2026, 1, 1), date(2026, 3, 31))
    rows = {r[1]: dict(zip(table.headers, r, strict=True)) for r in table.rows}
    # Submitted in Q1, by arrival: D08 (23/03) comes after D09–D11 (02/03–16/03), D12 (30/03) last.
    assert list(rows) == ["D01", "D02", "D03", "D04", "D05", "D06", "D07", "D09", "D10", "D11", "D08",
                          "D13", "D14", "D12"]  # fmt: skip
    assert rows["D05"]["Cơ quan, đơn vị giải quyết"] == DESK_UNIT  # refused at the desk
    assert rows["D09"]["Ghi chú"] == "Đúng hạn; Yêu cầu bổ sung 2 lần"
    assert rows["D07"]["Ghi chú"] == "Quá hạn; Đã thực hiện nghĩa vụ tài chính"  # never "bổ sung"
    assert rows["D11"]["Ghi chú"] == "Dừng xử lý; Rút hồ sơ"
    assert rows["D03"]["Ghi chú"] == "Quá hạn; Phiếu xin lỗi, hẹn lại: 11:00 08/01/2026"


# ------------------------------------------------------------------------------------ Decision 766

INFO = [
    ProcedureInfo("copy", "partial"),
    ProcedureInfo("centre", "partial", 1_000_000),
    ProcedureInfo("transfer", "full"),
]
CONFIG = ScorecardConfig(online_payment_procedures=frozenset({"centre"}))


def test_scorecard_of_quarter_one() -> None:
    view = director_view(dataset(), date(2026, 1, 1), date(2026, 3, 31), INFO, CONFIG, WorkingCalendar())
    card = view.card
    rates = {i.code: (i.numerator, i.denominator) for g in card.groups for i in g.indicators}
    # Received in Q1: D01–D04, D06–D11, D13, D14 = 12; not synced D02, D03 → 1.4 = 10/12.
    assert rates["1.4"] == (10, 12)
    # 2.1: on time D01 D02 D04 D06 (25/02 minus the 1-day fee wait ≤ 02/03) D08 (paused for its fee
    # at 23/03) D11 (stopped 18/03 ≤ 23/03) D14 (open, 01/04 00:00 ≤ 02/04); late D03 D13 (apology),
    # D07 (open at 01/04 minus 1 day > 12/03), D09 (two supplementations), D10 (stopped 16/03 > 09/03).
    assert rates["2.1"] == (7, 12)
    assert sorted(card.indicator("2.1").detail["late"]) == ["D03", "D07", "D09", "D10", "D13"]
    # 2.2 in each procedure's unit: transfer D04 13/01 09:00 → 16/01 10:00 = 6 + 7.5 + 7.5 + 2.5 = 23.5
    # working hours; copy (working days) D01 4 h, D02 4 h, D03 8.5 h, D09 18 h − waits 5.5 h − 6.5 h
    # = 6 h → 22.5 / 4 / 8 = 0.70 day; centre D06 02/02 09:00 → 25/02 10:00 = 6 + 30 + 37.5 + (Tết)
    # + 15 + 2.5 = 91 h − fee wait 7.5 h = 83.5 h = 10.44 days.
    assert card.indicator("2.2").detail == {
        "transfer": {"average": 23.5, "dossiers": 1},
        "copy": {"average": 0.7, "dossiers": 4},
        "centre": {"average": 10.44, "dossiers": 1},
    }
    assert rates["3.1"] == (3, 3) and rates["3.5"] == (1, 1)
    # 3.3: online with an electronic result (or an electronic procedure): D01, D04, D08, D14 = 4,
    # times the sync rate 10/12 → 3.3333 / 12.
    assert rates["3.3"][1] == 12 and rates["3.3"][0] == pytest.approx(4 * 10 / 12)
    assert rates["3.6"] == (2, 3)  # D06, D08 paid online; D07 at the desk
    assert rates["4.1"] == (1, 5)  # paper-result dossiers returned: D01 (e-result), D02, D03, D06, D09
    # 4.2, 4.3 from the histories: no component digitised, uploaded online or reused → 0 of 12.
    assert rates["4.2"] == rates["4.3"] == (0, 12)
    # 5.4 = 1 − (5 late + 1 "not satisfied" (D02)) / 12 = 0.5.
    assert card.indicator("5.4").rate == pytest.approx(0.5)
    # Points: CKMB 18 × 10/12 = 15; TDGQ 20 × 7/12 = 11.6667; CLGQ 6 + 6 × (0.2778 / 0.5) = 9.3333;
    # TTTT 5 + 5 × 2/3 = 8.3333; MDSH 22/3 × 1/5 + 0 + 0 = 1.4667; MDHL 6 × 0.5 / 0.9 = 3.3333 →
    # 49.1333 on 18 + 20 + 12 + 10 + 22 + 6 = 88 measurable points, 10 of 14 indicators (5.1–5.3:
    # no complaint records in this dataset).
    assert card.points == pytest.approx(49.1333, abs=1e-3)
    assert card.measured_max == pytest.approx(88, abs=1e-3)
    assert (view.indicators_measured, view.indicators_total) == (10, 14)
    lines = {ln.code: ln for ln in view.lines}
    assert (lines["2.1"].numerator, lines["2.1"].denominator, lines["2.1"].behind) == (
        7, 12, ("D03", "D07", "D09", "D10", "D13"))  # fmt: skip
    assert lines["2.1"].gap == pytest.approx(7 / 12 - 1)
    # Received online: D01 D04 D07 D08 D14 = 5 of 12 (plain share, no sync factor); target 99.4 %.
    assert (lines["online"].numerator, lines["online"].denominator) == (5, 12)
    assert lines["online"].behind == ("D02", "D03", "D06", "D09", "D10", "D11", "D13")
    assert lines["online"].gap == pytest.approx(5 / 12 - 0.994)
    assert (lines["3.6"].numerator, lines["3.6"].denominator, lines["3.6"].behind) == (2, 3, ("D07",))
    assert (lines["4.1"].numerator, lines["4.1"].behind) == (1, ("D02", "D03", "D06", "D09"))
    assert (lines["satisfied"].numerator, lines["satisfied"].denominator, lines["satisfied"].behind) == (
        1, 2, ("D02",))  # fmt: skip
    # Online dossiers submitted in Q1: D01 D04 D05 D07 D08 D12 D14 = 7; D04 accepted after its
    # deadline, D12 still undecided when its deadline (31/03 16:30) passed → 5/7.
    assert (lines["receipt_8h"].numerator, lines["receipt_8h"].denominator) == (5, 7)
    assert lines["receipt_8h"].behind == ("D04", "D12")
    assert lines["4.2"].status == "ok" and lines["4.2"].value == 0.0
    assert lines["4.2"].gap == pytest.approx(-0.996) and len(lines["4.2"].behind) == 12
    # Trend of 2.1: January D01 D02 D04 on time, D03 late (3/4); February D06 on time and D07 still
    # within time at 01/03 (2/2); March D08 D11 D14 on time, D07 D09 D10 D13 late (3/7).
    assert [(p.month, p.values["2.1"]) for p in view.trend] == [
        ("01/2026", 0.75), ("02/2026", 1.0), ("03/2026", pytest.approx(3 / 7))]  # fmt: skip


def test_scorecard_of_quarter_two() -> None:
    view = director_view(dataset(), date(2026, 4, 1), date(2026, 6, 30), INFO, CONFIG, WorkingCalendar())
    card = view.card
    rates = {i.code: (i.numerator, i.denominator) for g in card.groups for i in g.indicators}
    # Received in Q2: D12 D15 D16 D17 D18 D20 D21 D22 D24 = 9; D21 not synced → 8/9.
    assert rates["1.4"] == (8, 9)
    # 2.1 over D07 D08 D13 D14 (carried over) and the 8 received: late D07 (15/04 − 1 day > 12/03),
    # D13 D21 (apology), D18 (open at 01/07 − 6 h > 03/06); on time D08 (20/04 − 10 days of fee
    # wait ≤ 21/04), D17 (06/05 − 1 day fee − 2 days supplementation ≤ 12/05), D20 (stopped before
    # 25/05), D22 (waiting since 29/06 10:00 ≤ 17:00), D12 D14 D15 D16, and D24 (its apology was for a
    # mistake, not lateness: finished 14:00 ≤ 17:00).
    assert rates["2.1"] == (9, 13)
    assert sorted(card.indicator("2.1").detail["late"]) == ["D07", "D13", "D18", "D21"]
    assert rates["3.6"] == (2, 2)  # D17, D18
    # 3.3: D12 D15 (e-result), D20 (electronic procedure) = 3 of 9, × 8/9.
    assert rates["3.3"][0] == pytest.approx(3 * 8 / 9) and rates["3.3"][1] == 9
    # 4.1: paper-result dossiers returned in Q2: D07 D08 D13 D12 D15 D16 D17 D21 D24 = 9; e-result D08
    # D12 D15.
    assert rates["4.1"] == (3, 9)
    assert card.indicator("5.4").rate == pytest.approx(1 - (4 + 1) / 13)  # D21 not satisfied
    lines = {ln.code: ln for ln in view.lines}
    assert lines["2.1"].behind == ("D07", "D13", "D18", "D21")
    assert (lines["online"].numerator, lines["online"].denominator, lines["online"].behind) == (
        5, 9, ("D16", "D17", "D21", "D24"))  # fmt: skip
    assert lines["3.6"].met is True and lines["3.6"].behind == ()
    assert lines["4.1"].behind == ("D07", "D13", "D16", "D17", "D21", "D24")
    assert (lines["satisfied"].numerator, lines["satisfied"].denominator) == (1, 2)
    # Online dossiers submitted in Q2: D15 D18 D20 D22 D23 = 5; D18 accepted 05/05 09:00 after its
    # 04/05 16:00 deadline; D23's deadline (01/07 14:30) has not passed by the period's end.
    assert (lines["receipt_8h"].numerator, lines["receipt_8h"].denominator, lines["receipt_8h"].behind) == (
        4, 5, ("D18",))  # fmt: skip
    assert [p.month for p in view.trend] == ["04/2026", "05/2026", "06/2026"]


def test_a_period_without_dossiers_is_not_a_perfect_score() -> None:
    # December 2025, before the first dossier (D18 and D22 are still open in any later month).
    view = director_view(dataset(), date(2025, 12, 1), date(2025, 12, 31), INFO, CONFIG, WorkingCalendar())
    # Only 3.1 and 3.5 (the procedure catalogue) can be measured: 6 + 5 = 11 of 100 points.
    assert (view.card.points, view.card.measured_max, view.indicators_measured) == (11.0, 11.0, 2)
    assert view.summary() == (
        "Đạt 11 điểm trên 11 điểm đo được (đo được 2/14 chỉ số thành phần; tối đa 100 điểm)"
    )
    assert all(line.status != "ok" and line.value is None and line.gap is None for line in view.lines)


def test_register_notes_an_apology_for_a_mistake_apart_from_lateness() -> None:
    table = register(dataset(), date(2026, 4, 1), date(2026, 6, 30))
    rows = {r[1]: dict(zip(table.headers, r, strict=True)) for r in table.rows}
    assert rows["D24"]["Ghi chú"] == "Đúng hạn; Phiếu xin lỗi do sai sót: 1"
    assert rows["D21"]["Ghi chú"] == "Quá hạn; Phiếu xin lỗi, hẹn lại: 11:00 02/06/2026"
