"""Online submission as one unit (engine.submit_online): concurrent repeats of one idempotency key
open one dossier on both backends; the key seals the secret so only its holder sees it again."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.errors import ValidationError
from engine.models import Case, SubmissionKey
from engine.service import CaseView, Engine
from engine.submissions import Upload, seal, unseal

PDF = b"%PDF-1.4 test"
REQUEST: dict[str, Any] = {
    "procedure_id": "diploma_copy",
    "applicant": {"name": "Ngô Thị Hai Lần", "phone": "+84 905 123 456"},
    "data": {"diploma_type": "thpt", "graduation_year": 2011, "school": "THPT Hai Bà Trưng", "copies": 1,
             "delivery": "post"},
}  # fmt: skip
UPLOADS = [Upload("TP1", "don.pdf", PDF), Upload("TP2", "cccd.pdf", PDF)]


def cases(engine: Engine) -> int:
    with engine.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def test_concurrent_repeats_of_one_key_open_one_dossier(engine: Engine) -> None:
    key = "double-click-0123456789"
    barrier = threading.Barrier(3)
    answers: list[CaseView] = []
    failures: list[BaseException] = []

    def send() -> None:
        barrier.wait()
        try:
            answers.append(engine.submit_online(REQUEST, UPLOADS, key))
        except BaseException as exc:  # noqa: BLE001 — reported below
            failures.append(exc)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == [] and len(answers) == 3
    assert len({(a.code, a.secret) for a in answers}) == 1
    assert cases(engine) == 1 and len(engine.list_documents(answers[0].code)) == 2
    with engine.db.read() as session:
        row = session.scalar(select(SubmissionKey))
        assert row is not None and key not in row.key_hash and answers[0].secret not in row.sealed_secret


def test_without_a_key_each_submission_is_a_dossier_and_bad_keys_are_refused(engine: Engine) -> None:
    first = engine.submit_online(REQUEST, UPLOADS)
    second = engine.submit_online(REQUEST, UPLOADS)
    assert first.code != second.code and cases(engine) == 2
    with pytest.raises(ValidationError):
        engine.submit_online(REQUEST, UPLOADS, "short")
    assert cases(engine) == 2


def test_sealed_secret_opens_only_with_its_key() -> None:
    sealed = seal("the-right-key-0123456", "H99.12-260302-0001", "AB12CD34")
    assert unseal("the-right-key-0123456", "H99.12-260302-0001", sealed) == "AB12CD34"
    assert unseal("another-key-012345678", "H99.12-260302-0001", sealed) != "AB12CD34"
