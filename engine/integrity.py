"""Proving a case history is intact: chain verification and the daily digest (seal).

Each case's events are hash-chained (:mod:`engine.audit`), which catches an edited, deleted,
inserted or reordered event. It cannot catch the disappearance of a whole case, nor a chain that
someone rewrote end to end with freshly computed hashes. The daily digest covers both: once a day
the SHA-256 over every case's chain head (code, last seq, last hash) as of the end of that local day
is stored, and digests are chained to each other. ``verify --all`` recomputes the heads as of the
latest digest from the events and names every case that is missing, rewritten or back-dated.

Verification reads rows straight from ``case_events`` in storage order (``id``) and in ``seq``
order, recomputes every hash, and checks the ``cases`` row's ``last_seq``/``last_hash``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, locks, sla
from .errors import NotFound, ValidationError
from .models import AuditDigest, AuditDigestEntry, Case, CaseEvent, DossierDocument
from .storage import FileStore, StorageError

Head = tuple[int, str]  # (last seq, last hash) of one case


@dataclass(frozen=True)
class Finding:
    """One integrity problem: which case, which event, why (``problem`` is a stable English code)."""

    case: str | None
    seq: int | None
    problem: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case, "seq": self.seq, "problem": self.problem, "reason": self.reason}


@dataclass(frozen=True)
class StoredEvent:
    """A ``case_events`` row exactly as stored (``id`` gives the storage order)."""

    id: int
    seq: int
    at: datetime
    actor: str
    kind: str
    task_id: str | None
    element_id: str | None
    status_from: int | None
    status_to: int | None
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass
class VerifyReport:
    """What ``audit verify`` found; intact when there are no findings."""

    cases: int = 0
    events: int = 0
    digest_day: str | None = None
    digest_seal: str | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cases": self.cases,
            "events": self.events,
            "digest_day": self.digest_day,
            "digest_seal": self.digest_seal,
            "findings": [f.as_dict() for f in self.findings],
        }


# ------------------------------------------------------------------------------------ pure checks


def check_case(code: str, rows: Sequence[StoredEvent], last_seq: int, last_hash: str) -> list[Finding]:
    """Every problem class found in one case's rows (given in storage order), earliest event first."""
    found: list[Finding] = []
    if not rows:
        return [Finding(code, 1, "no_events", "Hồ sơ không còn sự kiện nào trong nhật ký")]
    by_id = [r.seq for r in rows]
    by_seq = sorted(rows, key=lambda r: r.seq)
    seqs = [r.seq for r in by_seq]
    missing = next((k for k in range(1, len(seqs) + 1) if seqs[k - 1] != k), None)
    if missing is not None:
        found.append(
            Finding(
                code, missing, "event_missing", f"Thiếu sự kiện số {missing} (đã bị xoá hoặc đánh số lại)"
            )
        )
    elif by_id != seqs:
        index = next(i for i, (a, b) in enumerate(zip(by_id, seqs, strict=True)) if a != b)
        found.append(
            Finding(
                code,
                seqs[index],
                "event_reordered",
                f"Thứ tự lưu bị đảo: sự kiện {by_id[index]} được ghi vào chỗ của sự kiện {seqs[index]}",
            )
        )
    broken = _first_chain_break(code, by_seq)
    if broken is not None:
        found.append(broken)
    tail = by_seq[-1]
    if tail.seq != last_seq or tail.hash != last_hash:
        if tail.seq > last_seq:
            reason = (
                f"Có sự kiện {tail.seq} sau sự kiện cuối mà hồ sơ ghi nhận ({last_seq}): sự kiện bị chèn thêm"
            )
            seq = last_seq + 1
        elif tail.seq < last_seq:
            reason = f"Hồ sơ ghi nhận {last_seq} sự kiện nhưng nhật ký chỉ còn đến sự kiện {tail.seq}"
            seq = tail.seq + 1
        else:
            reason = f"Mã băm của sự kiện cuối ({tail.seq}) khác với mã băm hồ sơ ghi nhận"
            seq = tail.seq
        found.append(Finding(code, seq, "head_mismatch", reason))
    return sorted(found, key=lambda f: f.seq or 0)


def _first_chain_break(code: str, by_seq: Sequence[StoredEvent]) -> Finding | None:
    expected_prev = audit.GENESIS
    for row in by_seq:
        if row.prev_hash != expected_prev:
            return Finding(
                code, row.seq, "link_broken", f"Sự kiện {row.seq} không nối với mã băm của sự kiện trước"
            )
        if audit.chain_hash(row.prev_hash, audit.stored_content(code, row)) != row.hash:
            return Finding(
                code, row.seq, "content_mismatch", f"Nội dung sự kiện {row.seq} không khớp với mã băm của nó"
            )
        expected_prev = row.hash
    return None


def digest_of(heads: Mapping[str, Head]) -> str:
    """SHA-256 over ``code|seq|hash`` lines sorted by dossier code."""
    digest = hashlib.sha256()
    for code in sorted(heads):
        seq, last_hash = heads[code]
        digest.update(f"{code}|{seq}|{last_hash}\n".encode())
    return digest.hexdigest()


def seal_of(prev_seal: str, day: str, as_of: datetime, digest: str, case_count: int, event_count: int) -> str:
    """Chains one day's digest to the previous day's seal."""
    content = {"day": day, "as_of": as_of.astimezone(UTC).isoformat(), "digest": digest}
    content.update({"cases": str(case_count), "events": str(event_count)})
    return audit.chain_hash(prev_seal, content)


def compare_heads(sealed: Mapping[str, Head], current: Mapping[str, Head], day: str) -> list[Finding]:
    """Cases whose chain head as of a sealed day no longer matches the seal."""
    found: list[Finding] = []
    for code in sorted(set(sealed) | set(current)):
        then, now = sealed.get(code), current.get(code)
        if now is None:
            assert then is not None
            found.append(
                Finding(
                    code,
                    then[0],
                    "case_missing",
                    f"Hồ sơ có trong niêm phong ngày {day} ({then[0]} sự kiện) nhưng đã mất",
                )
            )
        elif then is None:
            found.append(
                Finding(
                    code,
                    1,
                    "case_unsealed",
                    f"Hồ sơ có sự kiện trước cuối ngày {day} nhưng không có trong niêm phong",
                )
            )
        elif then != now:
            seq = min(then[0], now[0])
            found.append(
                Finding(
                    code,
                    seq,
                    "sealed_head_changed",
                    f"Đầu chuỗi tại cuối ngày {day} là sự kiện {now[0]}, "
                    f"niêm phong ghi sự kiện {then[0]} với mã băm khác",
                )
            )
    return found


# ------------------------------------------------------------------------------------ database


def verify(session: Session, case_code: str | None = None, store: FileStore | None = None) -> VerifyReport:
    """Verify one case (``case_code``) or every case plus the latest digest; documents kept in the
    file store are read from ``store`` (without one, only documents whose row holds the bytes)."""
    report = VerifyReport()
    cases = select(Case.id, Case.code, Case.last_seq, Case.last_hash).order_by(Case.id)
    if case_code is not None:
        cases = cases.where(Case.code == case_code)
    heads = {row.id: (row.code, row.last_seq, row.last_hash) for row in session.execute(cases)}
    if case_code is not None and not heads:
        sealed = _sealed_heads(session)
        if sealed is not None and case_code in sealed[1]:
            report.digest_day = sealed[0].day
            report.findings.append(
                Finding(
                    case_code,
                    sealed[1][case_code][0],
                    "case_missing",
                    "Hồ sơ có trong niêm phong nhưng đã mất",
                )
            )
            return report
        raise NotFound(f"Không tìm thấy hồ sơ '{case_code}'")
    seen: set[int] = set()
    for case_id, rows in _events_by_case(session, list(heads) if case_code is not None else None):
        report.events += len(rows)
        head = heads.get(case_id)
        if head is None:
            report.findings.append(
                Finding(
                    None,
                    rows[0].seq,
                    "orphan_events",
                    f"{len(rows)} sự kiện thuộc hồ sơ #{case_id} không còn tồn tại",
                )
            )
            continue
        seen.add(case_id)
        report.findings.extend(check_case(head[0], rows, head[1], head[2]))
    for case_id, (code, last_seq, last_hash) in heads.items():
        if case_id not in seen:
            report.findings.extend(check_case(code, [], last_seq, last_hash))
    report.cases = len(heads)
    report.findings.extend(check_documents(session, list(heads) if case_code is not None else None, store))
    sealed = _sealed_heads(session)
    if sealed is not None:
        digest_row, sealed_heads = sealed
        report.digest_day, report.digest_seal = digest_row.day, digest_row.seal
        report.findings.extend(_check_seals(session))
        current = heads_as_of(session, digest_row.as_of, case_code)
        if case_code is not None:
            sealed_heads = {k: v for k, v in sealed_heads.items() if k == case_code}
        elif digest_of(sealed_heads) != digest_row.digest:
            report.findings.append(
                Finding(
                    None,
                    None,
                    "digest_mismatch",
                    f"Các dòng niêm phong ngày {digest_row.day} không khớp mã niêm phong",
                )
            )
        report.findings.extend(compare_heads(sealed_heads, current, digest_row.day))
    return report


def check_documents(
    session: Session, case_ids: list[int] | None = None, store: FileStore | None = None
) -> list[Finding]:
    """Every stored document's bytes against the SHA-256 in its chained ``document_added`` (or
    ``document_reused``) event; bytes come from the row or, for newer rows, the file store.

    The ``dossier_documents`` row carries its own hash, but a forger who swaps the bytes rewrites
    that too; the event's copy is inside the hash chain, so it is the one that counts.
    """
    events = (
        select(Case.id, Case.code, CaseEvent.seq, CaseEvent.payload)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.kind.in_(("document_added", "document_reused")))
    )
    documents = select(
        DossierDocument.id, DossierDocument.case_id, DossierDocument.sha256, DossierDocument.content
    ).order_by(DossierDocument.id)
    if case_ids is not None:
        events = events.where(Case.id.in_(case_ids))
        documents = documents.where(DossierDocument.case_id.in_(case_ids))
    codes: dict[int, str] = {}
    chained: dict[int, tuple[int, str]] = {}  # document id -> (event seq, SHA-256 in the event)
    for cid, code, seq, payload in session.execute(events):
        codes[cid] = code
        if isinstance(payload, Mapping) and isinstance(payload.get("document_id"), int):
            chained[payload["document_id"]] = (seq, str(payload.get("sha256", "")))
    found: list[Finding] = []
    for doc_id, cid, stored_hash, content in session.execute(documents.execution_options(yield_per=50)):
        code = codes.get(cid) or session.scalar(select(Case.code).where(Case.id == cid))
        if doc_id not in chained:
            found.append(
                Finding(
                    code,
                    None,
                    "document_unrecorded",
                    f"Tệp #{doc_id} không có sự kiện ghi nhận trong nhật ký",
                )
            )
            continue
        seq, expected = chained[doc_id]
        if content is None:
            if store is None:
                continue
            content = _stored_bytes(store, stored_hash, expected)
            if content is None:
                found.append(
                    Finding(code, seq, "document_missing", f"Tệp #{doc_id} không còn trong kho lưu trữ")
                )
                continue
        if hashlib.sha256(content).hexdigest() != expected:
            found.append(
                Finding(
                    code,
                    seq,
                    "document_altered",
                    f"Nội dung tệp #{doc_id} khác với mã SHA-256 ghi trong sự kiện {seq} của nhật ký",
                )
            )
        elif stored_hash != expected:
            found.append(
                Finding(code, seq, "document_hash_changed", f"Mã SHA-256 lưu kèm tệp #{doc_id} đã bị sửa")
            )
    return found


def _stored_bytes(store: FileStore, stored_hash: str, chained: str) -> bytes | None:
    """A document's bytes from the store: under the row's digest, else under the history's (a row
    whose digest alone was edited still has its file); None when neither is there. Bytes that no
    longer match their name read as empty, which the caller reports as altered."""
    for digest in dict.fromkeys((stored_hash, chained)):
        try:
            return store.get(digest)
        except (NotFound, ValidationError):
            continue
        except StorageError:
            return b""
    return None


def _events_by_case(session: Session, case_ids: list[int] | None) -> Iterator[tuple[int, list[StoredEvent]]]:
    """Rows grouped by case, each group in storage (id) order; streamed for large tables."""
    stmt = select(
        CaseEvent.case_id,
        CaseEvent.id,
        CaseEvent.seq,
        CaseEvent.at,
        CaseEvent.actor,
        CaseEvent.kind,
        CaseEvent.task_id,
        CaseEvent.element_id,
        CaseEvent.status_from,
        CaseEvent.status_to,
        CaseEvent.payload,
        CaseEvent.prev_hash,
        CaseEvent.hash,
    ).order_by(CaseEvent.case_id, CaseEvent.id)
    if case_ids is not None:
        stmt = stmt.where(CaseEvent.case_id.in_(case_ids))
    current: int | None = None
    group: list[StoredEvent] = []
    for case_id, *fields in session.execute(stmt.execution_options(yield_per=5000)):
        if case_id != current:
            if current is not None:
                yield current, group
            current, group = case_id, []
        group.append(StoredEvent(*fields))
    if current is not None:
        yield current, group


def heads_as_of(session: Session, as_of: datetime, case_code: str | None = None) -> dict[str, Head]:
    """Each case's chain head among its events before ``as_of``."""
    latest = (
        select(CaseEvent.case_id, func.max(CaseEvent.seq).label("seq"))
        .where(CaseEvent.at < as_of)
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    stmt = (
        select(Case.code, CaseEvent.seq, CaseEvent.hash)
        .join(latest, (CaseEvent.case_id == latest.c.case_id) & (CaseEvent.seq == latest.c.seq))
        .join(Case, Case.id == CaseEvent.case_id)
    )
    if case_code is not None:
        stmt = stmt.where(Case.code == case_code)
    return {code: (seq, h) for code, seq, h in session.execute(stmt)}


def _digests(session: Session) -> list[AuditDigest]:
    return list(session.scalars(select(AuditDigest).order_by(AuditDigest.id)))


def _sealed_heads(
    session: Session, upto: AuditDigest | None = None
) -> tuple[AuditDigest, dict[str, Head]] | None:
    """The heads a digest seals: its own entries over those of every earlier digest."""
    if upto is None:
        upto = session.scalar(select(AuditDigest).order_by(AuditDigest.id.desc()).limit(1))
        if upto is None:
            return None
    heads: dict[str, Head] = {}
    rows = session.execute(
        select(AuditDigestEntry.case_code, AuditDigestEntry.last_seq, AuditDigestEntry.last_hash)
        .where(AuditDigestEntry.digest_id <= upto.id)
        .order_by(AuditDigestEntry.digest_id)
    )
    for code, seq, h in rows:
        heads[code] = (seq, h)
    return upto, heads


def _check_seals(session: Session) -> list[Finding]:
    prev = audit.GENESIS
    for row in _digests(session):
        expected = seal_of(row.prev_seal, row.day, row.as_of, row.digest, row.case_count, row.event_count)
        if row.prev_seal != prev or row.seal != expected:
            return [Finding(None, None, "seal_broken", f"Chuỗi niêm phong bị sửa tại ngày {row.day}")]
        prev = row.seal
    return []


@dataclass(frozen=True)
class DigestView:
    """A stored daily digest, as the CLI prints it."""

    day: str
    as_of: datetime
    case_count: int
    event_count: int
    digest: str
    seal: str
    created: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "as_of": self.as_of.isoformat(),
            "cases": self.case_count,
            "events": self.event_count,
            "digest": self.digest,
            "seal": self.seal,
            "created": self.created,
        }


def end_of_local_day(day: date) -> datetime:
    """The first moment after ``day`` in local time (Asia/Ho_Chi_Minh), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), sla.LOCAL_TZ).astimezone(UTC)


def record_digest(session: Session, day: date, now: datetime) -> DigestView:
    """Seal the chain heads as of the end of ``day``; idempotent, seals only move forward."""
    key = day.isoformat()
    as_of = end_of_local_day(day)
    locks.hold(session, locks.Chore.AUDIT_SEAL)  # read the latest seal only once no one else seals
    existing = session.scalar(select(AuditDigest).where(AuditDigest.day == key))
    if existing is not None:
        return _view(existing, created=False)
    if as_of > now:
        raise ValidationError(f"Ngày {key} chưa kết thúc, chưa thể niêm phong")
    latest = _latest(session)
    if latest is not None and latest.as_of >= as_of:
        raise ValidationError(f"Đã có niêm phong đến {latest.day}; chỉ niêm phong được các ngày sau đó")
    return _seal(session, key, as_of, now)


def record_checkpoint(session: Session, now: datetime) -> DigestView | None:
    """Seal the heads as of the start of the current local hour (key ``YYYY-MM-DDTHH:00``), so a
    dossier of today is sealed within the hour instead of after midnight. None when a seal already
    covers that moment; :class:`~engine.errors.Busy` when another process is sealing."""
    local = now.astimezone(sla.LOCAL_TZ).replace(minute=0, second=0, microsecond=0)
    key = local.strftime("%Y-%m-%dT%H:00")
    as_of = local.astimezone(UTC)
    locks.take(session, locks.Chore.AUDIT_SEAL, "niêm phong nhật ký")
    existing = session.scalar(select(AuditDigest).where(AuditDigest.day == key))
    if existing is not None:
        return _view(existing, created=False)
    latest = _latest(session)
    if latest is not None and latest.as_of >= as_of:
        return None
    return _seal(session, key, as_of, now)


def _latest(session: Session) -> AuditDigest | None:
    return session.scalar(select(AuditDigest).order_by(AuditDigest.id.desc()).limit(1))


def _seal(session: Session, key: str, as_of: datetime, now: datetime) -> DigestView:
    sealed = _sealed_heads(session)
    before = sealed[1] if sealed is not None else {}
    current = heads_as_of(session, as_of)
    # A case missing now keeps its sealed head: a digest never launders a deletion.
    merged = {**before, **current}
    digest = digest_of(merged)
    events = sum(seq for seq, _ in merged.values())
    prev_seal = sealed[0].seal if sealed is not None else audit.GENESIS
    row = AuditDigest(
        day=key,
        as_of=as_of,
        case_count=len(merged),
        event_count=events,
        digest=digest,
        prev_seal=prev_seal,
        seal=seal_of(prev_seal, key, as_of, digest, len(merged), events),
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.add_all(
        AuditDigestEntry(digest_id=row.id, case_code=code, last_seq=head[0], last_hash=head[1])
        for code, head in current.items()
        if before.get(code) != head
    )
    session.flush()
    return _view(row, created=True)


def record_due_digests(session: Session, now: datetime, backfill_days: int = 31) -> list[DigestView]:
    """Seal every finished local day since the latest daily digest (the worker calls this); a day an
    hourly checkpoint already covers past its end is skipped. :class:`~engine.errors.Busy` when
    another process is sealing."""
    yesterday = now.astimezone(sla.LOCAL_TZ).date() - timedelta(days=1)
    locks.take(session, locks.Chore.AUDIT_SEAL, "niêm phong nhật ký")
    day_keys = select(AuditDigest.day).where(func.length(AuditDigest.day) == 10)
    latest_day = session.scalar(day_keys.order_by(AuditDigest.id.desc()).limit(1))
    first = date.fromisoformat(latest_day) + timedelta(days=1) if latest_day else yesterday
    first = max(first, yesterday - timedelta(days=backfill_days - 1))
    days: Iterable[date] = (first + timedelta(days=i) for i in range((yesterday - first).days + 1))
    done: list[DigestView] = []
    for day in days:
        latest = _latest(session)
        if latest is not None and latest.as_of >= end_of_local_day(day):
            continue
        done.append(record_digest(session, day, now))
    return done


def latest_digest(session: Session) -> DigestView | None:
    row = session.scalar(select(AuditDigest).order_by(AuditDigest.id.desc()).limit(1))
    return _view(row, created=False) if row is not None else None


def _view(row: AuditDigest, *, created: bool) -> DigestView:
    return DigestView(row.day, row.as_of, row.case_count, row.event_count, row.digest, row.seal, created)
