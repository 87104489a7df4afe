"""The signed-in citizen of this browser session (set by :mod:`web.citizen_auth`), if any.

The session keeps only what the verified ID token said (CCCD, name, birth date, subject, issuer);
pages turn it back into an :class:`engine.citizen.VerifiedCitizen` to open the citizen's dossiers.
"""

from __future__ import annotations

from datetime import date

from flask import jsonify, session
from flask.typing import ResponseReturnValue

from engine.citizen import CitizenProof, VerifiedCitizen

SESSION_KEY = "citizen"


def signed_in_citizen() -> VerifiedCitizen | None:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or not data.get("cccd"):
        return None
    born = data.get("birthdate")
    return VerifiedCitizen(
        cccd=str(data["cccd"]),
        full_name=str(data.get("full_name") or ""),
        birthdate=date.fromisoformat(born) if isinstance(born, str) and born else None,
        subject=str(data.get("subject") or ""),
        issuer=str(data.get("issuer") or ""),
    )


def remember(citizen: VerifiedCitizen) -> None:
    """Sign ``citizen`` in: a fresh session id (no fixation), any staff login in this browser ends."""
    session.clear()
    regenerate = getattr(session, "regenerate", None)
    if regenerate is not None:
        regenerate()
    session[SESSION_KEY] = {
        "cccd": citizen.cccd,
        "full_name": citizen.full_name,
        "birthdate": citizen.birthdate.isoformat() if citizen.birthdate else None,
        "subject": citizen.subject,
        "issuer": citizen.issuer,
    }
    session.permanent = True


def forget() -> None:
    session.pop(SESSION_KEY, None)
    regenerate = getattr(session, "regenerate", None)
    if regenerate is not None:
        regenerate()


def proof(secret: str) -> CitizenProof:
    """What opens a dossier in this request: the secret typed, else the signed-in citizen."""
    if secret:
        return secret
    citizen = signed_in_citizen()
    return citizen if citizen is not None else ""


def citizen_unauthorized() -> ResponseReturnValue:
    """The API's 401 for a citizen-only answer asked without sign-in."""
    body = {
        "error": "unauthenticated",
        "message": "Ông/bà chưa đăng nhập bằng tài khoản định danh",
        "details": {},
    }
    return jsonify(body), 401
