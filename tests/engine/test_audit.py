"""Hash chain (pure): any edit, deletion, insertion or reordering breaks verification."""

from __future__ import annotations

from typing import Any

from engine.audit import GENESIS, chain_hash, event_content, verify_chain
from tests.support.fixtures import vn


def _chain(n: int) -> list[tuple[int, str, str, dict[str, Any]]]:
    rows = []
    prev = GENESIS
    for seq in range(1, n + 1):
        content = event_content(
            case_code="H99.12-260302-0001",
            seq=seq,
            at=vn(2026, 3, 2, 8, seq),
            actor="clerk",
            kind="task_completed",
            task_id=None,
            element_id="review",
            status_from=None,
            status_to=None,
            payload={"data": {"ghi_chu": f"Lần {seq}"}},
        )
        digest = chain_hash(prev, content)
        rows.append((seq, prev, digest, content))
        prev = digest
    return rows


def test_intact_chain_verifies() -> None:
    assert verify_chain(_chain(5)) is None


def test_edited_content_is_detected() -> None:
    rows = _chain(5)
    seq, prev, digest, content = rows[2]
    rows[2] = (seq, prev, digest, {**content, "actor": "mallory"})
    broken = verify_chain(rows)
    assert broken is not None and broken.seq == 3


def test_deleted_reordered_and_inserted_events_are_detected() -> None:
    rows = _chain(5)
    deleted = rows[:2] + rows[3:]
    assert verify_chain(deleted) is not None
    reordered = [rows[0], rows[2], rows[1], rows[3], rows[4]]
    assert verify_chain(reordered) is not None
    fake = (3, rows[1][2], chain_hash(rows[1][2], rows[2][3]), rows[2][3])
    inserted = rows[:2] + [fake] + [(s + 1, p, h, c) for s, p, h, c in rows[2:]]
    assert verify_chain(inserted) is not None


def test_canonical_form_keeps_vietnamese_text() -> None:
    rows = _chain(1)
    assert rows[0][3]["payload"]["data"]["ghi_chu"] == "Lần 1"
    assert verify_chain(rows) is None
