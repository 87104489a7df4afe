"""The typed shape of a case: what the rules read and what every event changes.

``CaseState`` is the one description of a dossier's business state. The runtime stores it in the
``cases`` row and ``work_items`` (``engine.cases``); replay rebuilds it from the history
(``engine.replay``); both change it only through :func:`engine.domain.evolve.apply`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

WaitingFor = Literal["supplementation", "payment"]
#: Format of the histories this code writes (``case_started.payload.format``): the rules a case
#: started under stay the rules it replays with. Before 2: no ``task_cancelled`` and withdrawal as a
#: bare status change. Before 3: a due extension moved a 17:00 appointment to 07:30 of the next day.
#: Before 4: supplementation could be asked for again and again (now once per phase, a second time
#: only with a head's approval where the procedure allows it), and receipt requests were not counted.
HISTORY_FORMAT = 4


#: Fields a case keeps from its start: the ``cases`` row, the case view and replay's public state
#: copy them as they are.
START_FIELDS = ("procedure_id", "channel", "submitted_at")
#: Fields every operation may change and the ``cases`` row keeps as they are (the row is the state's
#: snapshot). One list for the four copies: state → row and row → state (``engine.cases``), row →
#: case view (``engine.service``) and row → the auditor's stored view (``engine.audit_store``);
#: ``data``, ``sla`` (JSON) and the open tasks (``work_items``) travel beside them.
ROW_FIELDS = (
    "status",
    "receipt_due_at",
    "received_at",
    "due_at",
    "finished_at",
    "returned_at",
    "completed",
    "outcome",
)


@dataclass(frozen=True)
class Event:
    """One event as the rules produce it and as the history stores it (without its hash)."""

    kind: str
    at: datetime
    actor: str
    task_id: str | None = None
    element_id: str | None = None
    status_from: int | None = None
    status_to: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0  # 0 until stored


@dataclass(frozen=True)
class Withdrawal:
    """The citizen's request to withdraw (status 7), kept to show it and to know where it came from."""

    requested_at: datetime
    reason: str
    previous_status: int
    #: The signed paper request the desk scanned when it entered the request (a dossier document).
    paper_document_id: int | None = None


@dataclass
class SlaState:
    """The statutory clock's state and the counters reports need (``cases.sla``)."""

    supplements: int = 0  # supplementation requests after acceptance (clock paused for documents)
    apologies: int = 0  # apologies for lateness (new appointment; the dossier counts as late)
    mistake_apologies: int = 0  # apologies for a mistake or a calendar change (not late)
    receipt_supplements: int = 0  # supplementation requests at the desk, before acceptance
    repeat_approved: bool = False  # a head allowed one more supplementation request, not used yet
    flags: list[str] = field(default_factory=list)  # receipt_overdue, overdue
    paused_at: datetime | None = None
    waiting_for: WaitingFor | None = None  # what the paused clock waits for
    late_by_apology: bool = False
    late_766: bool = False  # more than one supplementation request: late by Decision 766
    receipt_decided_at: datetime | None = None
    receipt_outcome: str | None = None  # on_time / late against the 8-working-hour rule
    extensions: list[str] = field(default_factory=list)  # granted motcua:dueExtension fields
    withdrawal: Withdrawal | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored shape: counters always, the rest only when set (what pages and reports read)."""
        out: dict[str, Any] = {
            "supplements": self.supplements,
            "apologies": self.apologies,
            "flags": list(self.flags),
        }
        if self.mistake_apologies:
            out["mistake_apologies"] = self.mistake_apologies
        if self.receipt_supplements:
            out["receipt_supplements"] = self.receipt_supplements
        if self.repeat_approved:
            out["repeat_approved"] = True
        if self.paused_at is not None:
            out["paused_at"] = self.paused_at.isoformat()
        if self.waiting_for is not None:
            out["waiting_for"] = self.waiting_for
        if self.late_by_apology:
            out["late_by_apology"] = True
        if self.late_766:
            out["late_766"] = True
        if self.receipt_decided_at is not None:
            out["receipt_decided_at"] = self.receipt_decided_at.isoformat()
        if self.receipt_outcome is not None:
            out["receipt_outcome"] = self.receipt_outcome
        if self.extensions:
            out["extensions"] = list(self.extensions)
        if self.withdrawal is not None:
            out["withdrawal"] = {
                "requested_at": self.withdrawal.requested_at.isoformat(),
                "reason": self.withdrawal.reason,
                "previous_status": self.withdrawal.previous_status,
            }
            if self.withdrawal.paper_document_id is not None:
                out["withdrawal"]["paper_document_id"] = self.withdrawal.paper_document_id
        return out

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> SlaState:
        """Read the stored shape (unknown keys are refused, so a rewritten row cannot hide in it)."""
        raw = dict(value or {})
        unknown = set(raw) - _SLA_KEYS
        if unknown:
            raise ValueError(f"unknown SLA fields: {sorted(unknown)}")
        w = raw.get("withdrawal")
        waiting = raw.get("waiting_for")
        if waiting not in (None, "supplementation", "payment"):
            raise ValueError(f"unknown waiting_for: {waiting!r}")
        return cls(
            supplements=int(raw.get("supplements", 0)),
            apologies=int(raw.get("apologies", 0)),
            mistake_apologies=int(raw.get("mistake_apologies", 0)),
            receipt_supplements=int(raw.get("receipt_supplements", 0)),
            repeat_approved=bool(raw.get("repeat_approved", False)),
            flags=[str(f) for f in raw.get("flags", [])],
            paused_at=_moment(raw.get("paused_at")),
            waiting_for=waiting,
            late_by_apology=bool(raw.get("late_by_apology", False)),
            late_766=bool(raw.get("late_766", False)),
            receipt_decided_at=_moment(raw.get("receipt_decided_at")),
            receipt_outcome=raw.get("receipt_outcome"),
            extensions=[str(e) for e in raw.get("extensions", [])],
            withdrawal=(
                Withdrawal(
                    requested_at=_required_moment(w.get("requested_at")),
                    reason=str(w.get("reason", "")),
                    previous_status=int(w.get("previous_status", 0)),
                    paper_document_id=(
                        int(w["paper_document_id"]) if w.get("paper_document_id") is not None else None
                    ),
                )
                if isinstance(w, Mapping)
                else None
            ),
        )

    def copy(self) -> SlaState:
        return replace(self, flags=list(self.flags), extensions=list(self.extensions))


_SLA_KEYS = frozenset(
    {
        "supplements",
        "apologies",
        "mistake_apologies",
        "receipt_supplements",
        "repeat_approved",
        "flags",
        "paused_at",
        "waiting_for",
        "late_by_apology",
        "late_766",
        "receipt_decided_at",
        "receipt_outcome",
        "extensions",
        "withdrawal",
    }
)


@dataclass(frozen=True)
class OpenTask:
    """An open user task (a work item): who may do it and by when."""

    task_id: str
    element_id: str
    name: str
    role: str | None
    lane: str | None
    ready_at: datetime
    due_at: datetime | None
    assignee: str | None = None
    unit: str | None = None


@dataclass
class CaseState:
    """A dossier's business state. Mutated only by ``evolve.apply``; copy before keeping a snapshot."""

    procedure_id: str = ""
    version: int = 0
    channel: int = 1
    applicant: dict[str, Any] = field(default_factory=dict)
    status: int = 1
    data: dict[str, Any] = field(default_factory=dict)
    submitted_at: datetime | None = None
    receipt_due_at: datetime | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    finished_at: datetime | None = None
    returned_at: datetime | None = None
    completed: bool = False
    outcome: str | None = None
    sla: SlaState = field(default_factory=SlaState)
    tasks: dict[str, OpenTask] = field(default_factory=dict)  # by task id, in the order they opened
    documents: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    history_format: int = HISTORY_FORMAT
    last_seq: int = 0

    def copy(self) -> CaseState:
        """A snapshot that later events do not change. ``applicant`` and ``data`` are shared: events
        replace them, never change them in place; tasks are immutable; the containers are copied."""
        return replace(
            self,
            sla=self.sla.copy(),
            tasks=dict(self.tasks),
            documents=list(self.documents),
            payments=list(self.payments),
            results=list(self.results),
        )

    @property
    def paused(self) -> bool:
        return self.sla.paused_at is not None

    @property
    def running(self) -> bool:
        """The statutory clock runs: accepted, not paused, not finished."""
        return self.due_at is not None and self.finished_at is None and not self.paused


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _required_moment(value: Any) -> datetime:
    moment = _moment(value)
    if moment is None:
        raise ValueError("a required moment is missing")
    return moment
