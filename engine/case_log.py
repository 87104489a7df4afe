"""The one door through which the digital one-stop modules add an event to a case's history.

They record facts about a dossier (identity checked, a component digitised) that change no status,
work item or timer, so they only need the hash-chained append. Today that goes through the case
runtime's operation object; when the case core is rewritten, only this function changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from .cases import CaseRuntime, _Operation
from .models import Case
from .users import Actor


def record_case_event(
    runtime: CaseRuntime,
    session: Session,
    case: Case,
    kind: str,
    payload: Mapping[str, Any],
    actor: Actor,
) -> int:
    """Append ``kind`` with ``payload`` to ``case``'s chain in ``session``'s transaction; its seq."""
    version = runtime.procedures.load(session, case.procedure_version_id)
    op = _Operation(runtime, session, case, version, None, actor)
    op.emit(kind, payload=dict(payload))
    op.finish_events_only()
    return case.last_seq
