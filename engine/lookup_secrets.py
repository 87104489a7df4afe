"""A new lookup secret for a dossier whose applicant lost theirs (or never got it: a counter
dossier's secret is printed once on Mẫu 01).

Only the digest is stored, so a lost secret cannot be shown again; the desk issues a new one, which
invalidates the old one, and the reissue is recorded in the case's hash-chained history (who and
when; the secret itself never enters the history).
"""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from .cases import CaseRuntime, secret_digest
from .domain.vocab import EventKind
from .errors import Forbidden
from .models import Case
from .users import Actor


def new_secret() -> str:
    """Eight characters like the first one (4 random bytes, hex, upper case)."""
    return secrets.token_hex(4).upper()


def reissue(runtime: CaseRuntime, session: Session, case: Case, actor: Actor) -> str:
    if not actor.has_role("desk_clerk"):
        raise Forbidden("Chỉ Bộ phận một cửa được cấp lại mã tra cứu")
    secret = new_secret()
    runtime.record(session, case, actor, EventKind.SECRET_REISSUED, {})
    case.secret_hash = secret_digest(case.code, secret)
    return secret
