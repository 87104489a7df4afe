"""The one door through which the digital one-stop modules add an event to a case's history.

They record facts about a dossier (identity checked, a component digitised) that change no status,
work item or timer. Kinds the case core knows (:class:`engine.domain.vocab.EventKind`) go through
``CaseRuntime.record``, like documents and payments. Until the core lists this module's kinds
(``identity_checked``, ``identity_overridden``, ``document_digitised``: the lead adds them to the
vocabulary, ``evolve`` and the golden histories), the event row is appended exactly as the core
writes one — same canonical content, same hash chain — so ``audit verify`` holds either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from . import audit
from .cases import CaseRuntime
from .domain.vocab import EventKind
from .models import Case, CaseEvent
from .users import Actor

DIGITAL_KINDS = frozenset({"identity_checked", "identity_overridden", "document_digitised"})
_CORE_KINDS = frozenset(k.value for k in EventKind)


def record_case_event(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    kind: str,
    payload: Mapping[str, Any],
    actor: Actor,
) -> int:
    """Append ``kind`` with ``payload`` to ``case``'s chain in ``session``'s transaction; its seq."""
    if kind not in DIGITAL_KINDS:
        raise ValueError(f"not a digital one-stop event kind: {kind}")
    if kind in _CORE_KINDS:
        runtime.record(session, case, actor, EventKind(kind), payload)
        return case.last_seq
    at = runtime.clock.now()
    seq = case.last_seq + 1
    body = dict(payload)
    content = audit.event_content(
        case_code=case.code,
        seq=seq,
        at=at,
        actor=actor.username,
        kind=kind,
        task_id=None,
        element_id=None,
        status_from=None,
        status_to=None,
        payload=body,
    )
    digest = audit.chain_hash(case.last_hash, content)
    session.add(
        CaseEvent(
            case_id=case.id,
            seq=seq,
            at=at,
            actor=actor.username,
            kind=kind,
            task_id=None,
            element_id=None,
            status_from=None,
            status_to=None,
            payload=body,
            prev_hash=case.last_hash,
            hash=digest,
        )
    )
    case.last_seq = seq
    case.last_hash = digest
    session.flush()
    return seq
