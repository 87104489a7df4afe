"""Move file bytes that older versions kept in the database into the file store (run by ``init-db``).

Rows written before the file store carry their bytes in ``content``. Each is checked against its
own SHA-256 first: a row whose bytes no longer match is left as it is, for ``audit verify`` to
report, instead of being laundered into the store under a new name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .db import Database
from .models import CaseResult, DossierDocument
from .storage import FileStore


@dataclass(frozen=True)
class Moved:
    documents: int
    results: int
    left_in_place: int  # bytes that do not match their row's digest


def move_blobs(db: Database, store: FileStore, batch: int = 200) -> Moved:
    """Store every in-database document and result in ``store`` and clear its ``content``."""
    documents, left_documents = _move(db, store, DossierDocument, batch)
    results, left_results = _move(db, store, CaseResult, batch)
    return Moved(documents, results, left_documents + left_results)


def _move(db: Database, store: FileStore, model: Any, batch: int) -> tuple[int, int]:
    """(moved, left in place) for one table whose rows have ``id``, ``content`` and ``sha256``."""
    moved = left = last = 0
    while True:
        with db.unit_of_work() as session:
            rows = session.scalars(
                select(model)
                .where(model.content.is_not(None), model.id > last)
                .order_by(model.id)
                .limit(batch)
            ).all()
            for row in rows:
                last = row.id
                content = row.content or b""
                if hashlib.sha256(content).hexdigest() != row.sha256:
                    left += 1
                    continue
                store.put(content)
                row.content = None
                moved += 1
        if len(rows) < batch:
            return moved, left
