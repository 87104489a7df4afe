"""Lookup secrets: 64 bits, a peppered digest in the database, and old 32-bit secrets still verify."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from sqlalchemy import select, update

from engine.errors import NotFound
from engine.lookup_secrets import digest, pepper
from engine.models import Case
from engine.service import Engine


def _start(engine: Engine) -> tuple[str, str]:
    view = engine.start_case(
        {"procedure_id": "diploma_copy", "applicant": {"name": "Võ Thị Lan"}, "channel": 2},
        engine.actor("citizen"),
    )
    assert view.secret is not None
    return view.code, view.secret


def test_new_secrets_have_64_bits_and_a_peppered_digest(engine: Engine) -> None:
    code, secret = _start(engine)
    assert re.fullmatch(r"[0-9A-F]{16}", secret)
    with engine.db.read() as session:
        stored = session.scalar(select(Case.secret_hash).where(Case.code == code))
    expected = "p1$" + hmac.new(pepper(), f"{code}\x00{secret}".encode(), hashlib.sha256).hexdigest()
    assert stored == expected
    # Without the pepper the stored value cannot be recomputed from the secret alone.
    unpeppered = hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()
    assert stored != unpeppered and len(pepper()) >= 32
    assert engine.lookup(code, secret.lower()).code == code
    with pytest.raises(NotFound):
        engine.lookup(code, secret[:8])


def test_secrets_issued_before_the_pepper_still_work(engine: Engine) -> None:
    code, _ = _start(engine)
    legacy = "1A2B3C4D"
    old_digest = hmac.new(legacy.encode(), code.encode(), hashlib.sha256).hexdigest()
    with engine.db.unit_of_work() as session:
        session.execute(update(Case).where(Case.code == code).values(secret_hash=old_digest))
    assert digest(code, legacy) == old_digest
    assert engine.lookup(code, legacy).code == code
    with pytest.raises(NotFound):
        engine.lookup(code, "1A2B3C4E")
