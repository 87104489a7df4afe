"""The injected source of time.

Engine code never reads the wall clock itself: it asks a :class:`Clock`. Tests and replays pass a
:class:`FixedClock` and move it (through Tết, if they like) without sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that can say what time it is (aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """Real time: the only place in the engine that reads the wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests, the CLI's ``--now`` and replay."""

    def __init__(self, at: datetime) -> None:
        self._at = to_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = to_utc(at)

    def advance(self, delta: timedelta) -> datetime:
        self._at = self._at + delta
        return self._at


def to_utc(at: datetime) -> datetime:
    """Normalise to aware UTC; naive values are rejected because their zone is a guess."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: give a time zone (e.g. +07:00)")
    return at.astimezone(UTC)
