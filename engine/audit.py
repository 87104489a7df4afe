"""Tamper evidence for the case history (pure).

Each event stores the SHA-256 of its canonical content chained with the previous event's hash, so
editing, deleting, inserting or reordering a stored event breaks the chain from that point on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

GENESIS = "0" * 64


def canonical(content: Mapping[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept, datetimes in ISO form."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not canonicalisable: {type(value).__name__}")


def event_content(
    *,
    case_code: str,
    seq: int,
    at: datetime,
    actor: str,
    kind: str,
    task_id: str | None,
    element_id: str | None,
    status_from: int | None,
    status_to: int | None,
    payload: Mapping[str, Any],
) -> dict[str, Any]:
    """The fields an event's hash covers (everything but its own hash and row id)."""
    return {
        "case": case_code,
        "seq": seq,
        "at": at.isoformat(),
        "actor": actor,
        "kind": kind,
        "task_id": task_id,
        "element_id": element_id,
        "status_from": status_from,
        "status_to": status_to,
        "payload": dict(payload),
    }


class HashedFields(Protocol):
    """The columns of a stored event its hash covers (a ``case_events`` row or a copy of one)."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def task_id(self) -> str | None: ...
    @property
    def element_id(self) -> str | None: ...
    @property
    def status_from(self) -> int | None: ...
    @property
    def status_to(self) -> int | None: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


def stored_content(case_code: str, row: HashedFields) -> dict[str, Any]:
    """:func:`event_content` of a stored event, for checking (or, in tests, forging) its hash."""
    return event_content(
        case_code=case_code,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        task_id=row.task_id,
        element_id=row.element_id,
        status_from=row.status_from,
        status_to=row.status_to,
        payload=row.payload,
    )


def chain_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """Where a case's chain stops being consistent, and why."""

    seq: int
    reason: str


def verify_chain(events: Iterable[tuple[int, str, str, Mapping[str, Any]]]) -> ChainBreak | None:
    """Check ``(seq, prev_hash, hash, content)`` rows in storage order; ``None`` when intact."""
    expected_prev = GENESIS
    expected_seq = 1
    for seq, prev_hash, stored_hash, content in events:
        if seq != expected_seq:
            return ChainBreak(seq, f"expected event {expected_seq}, found {seq}")
        if prev_hash != expected_prev:
            return ChainBreak(seq, "previous-hash link broken")
        if chain_hash(prev_hash, content) != stored_hash:
            return ChainBreak(seq, "content does not match its hash")
        expected_prev = stored_hash
        expected_seq += 1
    return None
