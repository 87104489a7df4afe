"""A new lookup secret for a dossier whose applicant lost theirs (or never got it: a counter
dossier's secret is printed once on Mẫu 01).

Only the digest is stored, so a lost secret cannot be shown again; the desk issues a new one, which
invalidates the old one, and the reissue is recorded in the case's hash-chained history (who and
when; the secret itself never enters the history).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from .cases import CaseRuntime, new_secret, secret_digest
from .domain.vocab import EventKind, Role
from .errors import Forbidden
from .models import Case
from .users import Actor


def reissue(runtime: CaseRuntime, session: Session, case: Case, actor: Actor) -> str:
    """Issue a new secret (shown once), record the reissue, and make the old secret useless."""
    if not actor.has_role(Role.DESK_CLERK):
        raise Forbidden("Chỉ Bộ phận một cửa được cấp lại mã tra cứu")
    secret = new_secret()
    runtime.record(session, case, actor, EventKind.SECRET_REISSUED, {})
    case.secret_hash = secret_digest(case.code, secret)
    return secret
