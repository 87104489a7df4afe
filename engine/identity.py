"""Identity at receipt: the applicant's CCCD is validated, then verified against population data.

Plan 004 asks the desk to "kiểm tra, xác thực dữ liệu dân cư" when it receives a dossier. The
verification goes through a :class:`PopulationData` adapter: :class:`HttpPopulationData` for a real
service (URL + credentials), :class:`LocalPopulationData` for the fixtures table used by demos and
tests. The outcome is recorded as the case event ``identity_checked``; a ``mismatch`` blocks
acceptance (:func:`require_identity_ok`) until the clerk records an override reason
(``identity_overridden``). ``unavailable`` does not block: the desk cannot stop because a remote
service is down, and the event shows the dossier was received unverified.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .cases import find_case
from .cccd import parse_birth_date, parse_cccd
from .db import Database
from .digital_models import IdentityCheck, PopulationRecord
from .domain.vocab import EventKind
from .errors import Forbidden, NotFound, ValidationError
from .sla import LOCAL_TZ
from .users import CITIZEN, Actor

if TYPE_CHECKING:
    from .cases import CaseRuntime
    from .models import Case
    from .service import Engine

Outcome = Literal["verified", "mismatch", "unavailable"]
CHECK_ROLES = frozenset({"desk_clerk", "admin"})
OUTCOME_LABELS: dict[str, str] = {
    "verified": "Đã xác thực",
    "mismatch": "Không khớp dữ liệu dân cư",
    "unavailable": "Không kết nối được cơ sở dữ liệu dân cư",
}
MIN_OVERRIDE_REASON = 10


@dataclass(frozen=True)
class Citizen:
    """A person as the population database knows them."""

    cccd: str
    full_name: str
    date_of_birth: date
    gender: str


class PopulationUnavailable(Exception):
    """The population data could not be asked (timeout, network, server or configuration error)."""


class PopulationData(Protocol):
    """Who the holder of a CCCD number is, according to population data."""

    name: str

    def lookup(self, cccd: str) -> Citizen | None:
        """The holder of ``cccd``, None when unknown; :class:`PopulationUnavailable` when not asked."""
        ...


class HttpPopulationData:
    """``GET {url}/citizens/{cccd}`` with HTTP Basic credentials; JSON ``{cccd, full_name,
    date_of_birth, gender}``; 404 = unknown. Anything else (timeout included) is "unavailable"."""

    name = "http"

    def __init__(self, url: str, username: str, password: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._auth = f"Basic {token}"
        self.timeout = timeout

    def lookup(self, cccd: str) -> Citizen | None:
        request = urllib.request.Request(
            f"{self.url}/citizens/{urllib.parse.quote(cccd)}",
            headers={"Authorization": self._auth, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise PopulationUnavailable(f"máy chủ dữ liệu dân cư trả lời mã {exc.code}") from exc
        except TimeoutError as exc:
            raise PopulationUnavailable("hết thời gian chờ máy chủ dữ liệu dân cư") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise PopulationUnavailable("hết thời gian chờ máy chủ dữ liệu dân cư") from exc
            raise PopulationUnavailable(f"không kết nối được máy chủ dữ liệu dân cư: {exc.reason}") from exc
        except (OSError, ValueError) as exc:
            raise PopulationUnavailable(f"trả lời không đọc được từ máy chủ dữ liệu dân cư: {exc}") from exc
        try:
            return Citizen(
                cccd=str(body["cccd"]),
                full_name=str(body["full_name"]),
                date_of_birth=date.fromisoformat(str(body["date_of_birth"])),
                gender=str(body.get("gender", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PopulationUnavailable("trả lời của máy chủ dữ liệu dân cư thiếu trường bắt buộc") from exc


class LocalPopulationData:
    """The ``population_records`` fixtures table (demo and tests)."""

    name = "local"

    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup(self, cccd: str) -> Citizen | None:
        with self.db.read() as session:
            row = session.get(PopulationRecord, cccd)
            if row is None:
                return None
            return Citizen(row.cccd, row.full_name, row.date_of_birth, row.gender)


def population_data_from_env(db: Database) -> PopulationData:
    """``MOTCUA_POPULATION_URL`` (+ ``_USER``, ``_PASSWORD``, ``_TIMEOUT`` seconds) or the local table."""
    url = os.environ.get("MOTCUA_POPULATION_URL")
    if not url:
        return LocalPopulationData(db)
    return HttpPopulationData(
        url,
        os.environ.get("MOTCUA_POPULATION_USER", ""),
        os.environ.get("MOTCUA_POPULATION_PASSWORD", ""),
        float(os.environ.get("MOTCUA_POPULATION_TIMEOUT", "5")),
    )


# ------------------------------------------------------------------------------ pure decisions


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def compare(found: Citizen | None, date_of_birth: date, full_name: str | None) -> tuple[Outcome, str]:
    """The outcome of a lookup against what the applicant declared, with a Vietnamese detail."""
    if found is None:
        return "mismatch", "Số CCCD không có trong cơ sở dữ liệu dân cư"
    if found.date_of_birth != date_of_birth:
        return "mismatch", "Ngày sinh khai không khớp với cơ sở dữ liệu dân cư"
    if full_name and _name_key(full_name) != _name_key(found.full_name):
        return "mismatch", "Họ tên khai không khớp với cơ sở dữ liệu dân cư"
    return "verified", f"Khớp với cơ sở dữ liệu dân cư: {found.full_name}"


def evolve_identity(
    state: Mapping[str, Any] | None, kind: str, payload: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The identity part of a case's state after one event (for the case core's ``evolve``).

    ``identity_checked`` replaces it; ``identity_overridden`` marks the check it names overridden.
    """
    if kind == "identity_checked":
        return {
            "check_id": payload.get("check_id"),
            "outcome": payload.get("outcome"),
            "overridden": False,
            "override_reason": None,
        }
    if (
        kind == "identity_overridden"
        and state is not None
        and state.get("check_id") == payload.get("check_id")
    ):
        return {**state, "overridden": True, "override_reason": payload.get("reason")}
    return dict(state) if state is not None else None


def identity_facts(events: list[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """``{"identity": ...}`` folded from a case's events (kind, payload), oldest first."""
    state: dict[str, Any] | None = None
    for kind, payload in events:
        state = evolve_identity(state, kind, payload)
    return {"identity": state}


def require_identity_ok(case_facts: Mapping[str, Any], *, required: bool = False) -> None:
    """Refuse acceptance while the latest identity check is a mismatch without an override.

    ``case_facts["identity"]`` is what :func:`evolve_identity` keeps. ``required`` also refuses a
    dossier nobody checked (a per-agency choice; off by default so existing flows keep working).
    """
    identity = case_facts.get("identity")
    if identity is None:
        if required:
            raise ValidationError("Chưa kiểm tra danh tính người nộp (số CCCD) nên chưa thể tiếp nhận hồ sơ")
        return
    if identity.get("outcome") == "mismatch" and not identity.get("overridden"):
        raise ValidationError(
            "Danh tính người nộp không khớp dữ liệu dân cư: cần ghi lý do để tiếp nhận hồ sơ",
            details={"reason": "identity_mismatch", "check_id": identity.get("check_id")},
        )


# ------------------------------------------------------------------------------ service


class IdentityCheckView(BaseModel):
    id: int
    case_code: str
    cccd: str
    date_of_birth: date
    full_name: str | None
    outcome: str
    outcome_label: str
    source: str
    detail: str
    province: str
    checked_at: datetime
    checked_by: str
    override_reason: str | None
    overridden_at: datetime | None
    overridden_by: str | None


def _view(row: IdentityCheck, code: str) -> IdentityCheckView:
    from .cccd import PROVINCE_CODES

    return IdentityCheckView(
        id=row.id,
        case_code=code,
        cccd=row.cccd,
        date_of_birth=row.date_of_birth,
        full_name=row.full_name,
        outcome=row.outcome,
        outcome_label=OUTCOME_LABELS.get(row.outcome, row.outcome),
        source=row.source,
        detail=row.detail,
        province=PROVINCE_CODES.get(row.cccd[:3], ""),
        checked_at=row.checked_at,
        checked_by=row.checked_by,
        override_reason=row.override_reason,
        overridden_at=row.overridden_at,
        overridden_by=row.overridden_by,
    )


def _require_clerk(actor: Actor) -> None:
    if not actor.roles & CHECK_ROLES:
        raise Forbidden("Chỉ cán bộ tiếp nhận được kiểm tra danh tính người nộp")


def check_identity(
    engine: Engine,
    ref: str,
    cccd: str,
    date_of_birth: str | date,
    actor: Actor,
    source: PopulationData,
    full_name: str | None = None,
) -> IdentityCheckView:
    """Validate the number, ask ``source``, record the outcome on the case (event ``identity_checked``).

    Validation errors change nothing; an unreachable source is recorded as ``unavailable``.
    """
    _require_clerk(actor)
    today = engine.clock.now().astimezone(LOCAL_TZ).date()
    dob = date_of_birth if isinstance(date_of_birth, date) else parse_birth_date(date_of_birth, today)
    facts = parse_cccd(cccd, dob)
    name = (full_name or "").strip() or None
    with engine.db.read() as session:
        case = find_case(session, ref)
        if case.completed:
            raise ValidationError("Hồ sơ đã kết thúc, không kiểm tra danh tính được nữa")
    # The remote call happens outside any write transaction: a slow service must not hold locks.
    try:
        outcome, detail = compare(source.lookup(facts.number), dob, name)
    except PopulationUnavailable as exc:
        outcome, detail = "unavailable", f"Không xác thực được: {exc}"
    with engine.db.unit_of_work() as session:
        case = find_case(session, ref)
        row = IdentityCheck(
            case_id=case.id,
            cccd=facts.number,
            date_of_birth=dob,
            full_name=name,
            outcome=outcome,
            source=source.name,
            detail=detail[:500],
            checked_at=engine.clock.now(),
            checked_by=actor.username,
        )
        session.add(row)
        session.flush()
        engine.cases.record(
            session,
            case,
            actor,
            EventKind.IDENTITY_CHECKED,
            {
                "check_id": row.id,
                "cccd": facts.number,
                "date_of_birth": dob.isoformat(),
                "full_name": name,
                "outcome": outcome,
                "source": source.name,
                "detail": row.detail,
            },
        )
        _remember_components(engine, session, case)
        return _view(row, case.code)


class PortalAssertion:
    """The identity the national portal asserted for an online submission (VNeID login): the
    portal already authenticated the person, so the assertion is the population-data answer."""

    name = "portal"

    def __init__(self, asserted: Citizen) -> None:
        self.asserted = asserted

    def lookup(self, cccd: str) -> Citizen | None:
        return self.asserted if cccd == self.asserted.cccd else None


def record_portal_identity(
    engine: Engine, ref: str, cccd: str, date_of_birth: str | date, full_name: str, actor: Actor
) -> IdentityCheckView:
    """Record the portal-asserted identity of an online dossier (``identity_checked``, source
    ``portal``); the number is still checked against its layout, so a malformed assertion fails."""
    today = engine.clock.now().astimezone(LOCAL_TZ).date()
    dob = date_of_birth if isinstance(date_of_birth, date) else parse_birth_date(date_of_birth, today)
    facts = parse_cccd(cccd, dob)
    clerk = Actor(actor.username, actor.full_name, actor.roles | {"desk_clerk"}, actor.unit)
    source = PortalAssertion(Citizen(facts.number, full_name, dob, facts.gender))
    return check_identity(engine, ref, facts.number, dob, clerk, source, full_name)


@dataclass(frozen=True)
class PortalIdentity:
    """The identity the national portal asserted for an online submission, checked for layout."""

    cccd: str
    date_of_birth: date
    full_name: str


def parse_portal_identity(value: Any, today: date) -> PortalIdentity:
    """``{"cccd", "date_of_birth", "full_name"}`` as the portal sends it; the number must match the
    date of birth like at the counter (a malformed assertion refuses the submission)."""
    if not isinstance(value, Mapping):
        raise ValidationError(
            "Danh tính do Cổng dịch vụ công xác thực không hợp lệ (cần cccd, date_of_birth, full_name)",
            details={"fields": [{"field": "identity", "message": "không hợp lệ"}]},
        )
    name = " ".join(str(value.get("full_name") or "").split())
    if not name:
        raise ValidationError(
            "Danh tính do Cổng dịch vụ công xác thực thiếu họ tên",
            details={"fields": [{"field": "identity", "message": "thiếu họ tên"}]},
        )
    dob = parse_birth_date(str(value.get("date_of_birth") or ""), today)
    facts = parse_cccd(str(value.get("cccd") or ""), dob)
    return PortalIdentity(facts.number, dob, name[:300])


def record_portal_identity_in(
    runtime: CaseRuntime, session: Session, case: Case, asserted: PortalIdentity, now: datetime
) -> IdentityCheck:
    """Record, inside the submission's transaction, the identity the portal asserted
    (``identity_checked``, source ``portal``, outcome ``verified``: the portal authenticated the person)."""
    row = IdentityCheck(
        case_id=case.id,
        cccd=asserted.cccd,
        date_of_birth=asserted.date_of_birth,
        full_name=asserted.full_name,
        outcome="verified",
        source=PortalAssertion.name,
        detail=f"Cổng dịch vụ công đã xác thực danh tính: {asserted.full_name}"[:500],
        checked_at=now,
        checked_by=CITIZEN.username,
    )
    session.add(row)
    session.flush()
    runtime.record(
        session,
        case,
        CITIZEN,
        EventKind.IDENTITY_CHECKED,
        {
            "check_id": row.id,
            "cccd": asserted.cccd,
            "date_of_birth": asserted.date_of_birth.isoformat(),
            "full_name": asserted.full_name,
            "outcome": "verified",
            "source": PortalAssertion.name,
            "detail": row.detail,
        },
    )
    return row


def override_identity(engine: Engine, ref: str, reason: str, actor: Actor) -> IdentityCheckView:
    """Record why the clerk accepts an applicant whose latest check is a mismatch (event
    ``identity_overridden``)."""
    _require_clerk(actor)
    text = " ".join((reason or "").split())
    if len(text) < MIN_OVERRIDE_REASON:
        raise ValidationError(
            f"Lý do tiếp nhận khi danh tính không khớp phải có ít nhất {MIN_OVERRIDE_REASON} ký tự",
            details={"fields": [{"field": "reason", "message": "quá ngắn"}]},
        )
    with engine.db.unit_of_work() as session:
        case = find_case(session, ref)
        row = _latest(session, case.id)
        if row is None:
            raise NotFound("Hồ sơ chưa được kiểm tra danh tính")
        if row.outcome != "mismatch":
            raise ValidationError("Chỉ ghi lý do khi kết quả kiểm tra danh tính là không khớp")
        if row.override_reason is not None:
            raise ValidationError("Lần kiểm tra danh tính này đã có lý do tiếp nhận")
        row.override_reason = text[:2000]
        row.overridden_at = engine.clock.now()
        row.overridden_by = actor.username
        engine.cases.record(
            session,
            case,
            actor,
            EventKind.IDENTITY_OVERRIDDEN,
            {"check_id": row.id, "reason": row.override_reason},
        )
        _remember_components(engine, session, case)
        return _view(row, case.code)


def _remember_components(engine: Engine, session: Session, case: Case) -> None:
    """Components digitised before the applicant was identified join their data store now."""
    from .reuse import remember_case

    documents = list(engine.procedures.load(session, case.procedure_version_id).meta.get("documents", []))
    remember_case(session, case, documents, engine.clock.now())


def _latest(session: Session, case_id: int) -> IdentityCheck | None:
    return session.scalar(
        select(IdentityCheck)
        .where(IdentityCheck.case_id == case_id)
        .order_by(IdentityCheck.id.desc())
        .limit(1)
    )


def identity_checks(engine: Engine, ref: str) -> list[IdentityCheckView]:
    """Every identity check of a dossier, oldest first."""
    with engine.db.read() as session:
        case = find_case(session, ref)
        rows = session.scalars(
            select(IdentityCheck).where(IdentityCheck.case_id == case.id).order_by(IdentityCheck.id)
        )
        return [_view(r, case.code) for r in rows]


def case_identity_facts(engine: Engine, ref: str) -> dict[str, Any]:
    """:func:`identity_facts` of a stored case (until the case core keeps it in its state)."""
    from .models import CaseEvent

    with engine.db.read() as session:
        case = find_case(session, ref)
        rows = session.execute(
            select(CaseEvent.kind, CaseEvent.payload)
            .where(
                CaseEvent.case_id == case.id, CaseEvent.kind.in_(("identity_checked", "identity_overridden"))
            )
            .order_by(CaseEvent.seq)
        )
        return identity_facts([(kind, payload) for kind, payload in rows])


# Demo people for `make run` and the tests; numbers follow the layout (province, century, year).
DEMO_CITIZENS: tuple[Citizen, ...] = (
    Citizen("001090012345", "Nguyễn Văn An", date(1990, 5, 12), "nam"),
    Citizen("031185004321", "Trần Thị Bình", date(1985, 11, 3), "nu"),
    Citizen("079203000777", "Lê Hoàng Cường", date(2003, 1, 21), "nam"),
    Citizen("048301000555", "Phạm Minh Châu", date(2001, 7, 9), "nu"),
)


def seed_population_records(db: Database, citizens: tuple[Citizen, ...] = DEMO_CITIZENS) -> int:
    """Insert the demo people that are missing; returns how many were added."""
    added = 0
    with db.unit_of_work() as session:
        for person in citizens:
            if session.get(PopulationRecord, person.cccd) is None:
                session.add(
                    PopulationRecord(
                        cccd=person.cccd,
                        full_name=person.full_name,
                        date_of_birth=person.date_of_birth,
                        gender=person.gender,
                    )
                )
                added += 1
    return added
