"""Single-flight for the chores every worker process runs (facts refresh, audit seals, board
compaction): one process does each at a time, the others skip or wait.

Why a lock and not just a unique key: the chores read a lot before they write (a seal reads every
dossier's chain head), so at an hour's turn N workers would each do the whole read and N − 1 of
them would fail on the key; worse, two seals of different keys (a finished day and the new hour's
checkpoint, both due at midnight) would each link to the same previous seal and fork the chain
that ``verify`` walks. PostgreSQL takes a transaction-scoped advisory lock, released with the
transaction (commit, rollback or a dead connection); SQLite needs none, because its write
transactions (``BEGIN IMMEDIATE``) already run one at a time.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import Busy


class Chore(IntEnum):
    """Advisory lock keys, one per chore (numbers only need to differ from each other)."""

    FACTS_REFRESH = 76613
    AUDIT_SEAL = 76614
    BOARD_COMPACT = 76615


def hold(session: Session, chore: Chore, wait: bool = True) -> bool:
    """Keep other processes out of ``chore`` until this transaction ends: wait for the holder
    (``wait``) or give up at once, returning False, when another transaction holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(select(func.pg_advisory_xact_lock(int(chore))))
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(int(chore)))))


def take(session: Session, chore: Chore, what: str) -> None:
    """Hold ``chore`` for this transaction or raise :class:`Busy` at once (a worker's pass: the
    holder does the work, and the worker is not kept from its timers)."""
    if not hold(session, chore, wait=False):
        raise Busy(f"Một tiến trình khác đang {what}; lượt sau sẽ kiểm tra lại")
