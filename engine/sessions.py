"""Server-side login sessions: the browser holds a random id, everything else stays here.

A stateless signed cookie cannot be taken back: one copied before logout keeps working until it
expires, and whatever it carries (lookup secrets) is readable by anyone holding it. Here the cookie
is only a 256-bit random id; the store keys records by the id's SHA-256 (a leaked table yields no
usable cookie), forgets them at logout, when the account is deactivated, after an idle period and
after an absolute lifetime. Two stores share one interface: the database (the embedded default,
no extra service) and Redis (``MOTCUA_REDIS_URL``), whose keys expire by themselves.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, or_, select

from .db import Database
from .models import WebSession

DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_ABSOLUTE = timedelta(hours=10)
TOUCH_EVERY = timedelta(minutes=1)  # last-seen is written at most this often (no write per request)


@dataclass
class SessionRecord:
    """One session's contents as stored; ``username`` is None for an anonymous visitor."""

    data: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime
    username: str | None = None


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = DEFAULT_IDLE
    absolute: timedelta = DEFAULT_ABSOLUTE

    def expired(self, record: SessionRecord, now: datetime) -> bool:
        return now - record.last_seen_at >= self.idle or now - record.created_at >= self.absolute

    @classmethod
    def from_env(cls) -> SessionPolicy:
        """``MOTCUA_SESSION_IDLE_MINUTES`` (30) and ``MOTCUA_SESSION_ABSOLUTE_HOURS`` (10)."""
        return cls(
            idle=timedelta(minutes=float(os.environ.get("MOTCUA_SESSION_IDLE_MINUTES", "30"))),
            absolute=timedelta(hours=float(os.environ.get("MOTCUA_SESSION_ABSOLUTE_HOURS", "10"))),
        )


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def id_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(Protocol):
    """Where sessions live; every method takes the cookie's id, never its digest."""

    policy: SessionPolicy

    def load(self, session_id: str, now: datetime) -> SessionRecord | None:
        """The live record, or None (unknown, revoked or expired — an expired one is removed)."""
        ...

    def save(self, session_id: str, record: SessionRecord) -> None: ...

    def delete(self, session_id: str) -> None: ...

    def revoke_user(self, username: str) -> int:
        """End every session of ``username``; returns how many were ended."""
        ...


@dataclass
class SqlSessionStore:
    """Sessions in the ``web_sessions`` table (SQLite or PostgreSQL)."""

    db: Database
    policy: SessionPolicy = field(default_factory=SessionPolicy)

    def load(self, session_id: str, now: datetime) -> SessionRecord | None:
        with self.db.read() as session:
            row = session.get(WebSession, id_digest(session_id))
            record = (
                None
                if row is None
                else SessionRecord(dict(row.data), row.created_at, row.last_seen_at, row.username)
            )
        if record is not None and self.policy.expired(record, now):
            self.delete(session_id)
            return None
        return record

    def save(self, session_id: str, record: SessionRecord) -> None:
        key = id_digest(session_id)
        with self.db.unit_of_work() as session:
            row = session.get(WebSession, key)
            if row is None:
                self._purge(session, record.last_seen_at)
                session.add(
                    WebSession(
                        id_digest=key,
                        username=record.username,
                        data=record.data,
                        created_at=record.created_at,
                        last_seen_at=record.last_seen_at,
                    )
                )
            else:
                row.username = record.username
                row.data = record.data
                row.last_seen_at = record.last_seen_at

    def _purge(self, session: Any, now: datetime) -> None:
        """Expired rows go when new ones come, so the table stays the size of the live sessions."""
        session.execute(
            delete(WebSession).where(
                or_(
                    WebSession.last_seen_at <= now - self.policy.idle,
                    WebSession.created_at <= now - self.policy.absolute,
                )
            )
        )

    def delete(self, session_id: str) -> None:
        with self.db.unit_of_work() as session:
            session.execute(delete(WebSession).where(WebSession.id_digest == id_digest(session_id)))

    def revoke_user(self, username: str) -> int:
        with self.db.unit_of_work() as session:
            keys = list(session.scalars(select(WebSession.id_digest).where(WebSession.username == username)))
            session.execute(delete(WebSession).where(WebSession.username == username))
            return len(keys)


class RedisSessionStore:
    """Sessions in Redis, shared by every web process; idle expiry is Redis's own key TTL."""

    def __init__(self, url: str, policy: SessionPolicy | None = None, prefix: str = "motcua") -> None:
        import redis

        self.policy = policy or SessionPolicy()
        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}:session:{id_digest(session_id)}"

    def _user_key(self, username: str) -> str:
        return f"{self._prefix}:user-sessions:{username}"

    def load(self, session_id: str, now: datetime) -> SessionRecord | None:
        raw = self._redis.get(self._key(session_id))
        if raw is None:
            return None
        value = json.loads(raw)
        record = SessionRecord(
            value["data"],
            datetime.fromisoformat(value["created_at"]),
            datetime.fromisoformat(value["last_seen_at"]),
            value.get("username"),
        )
        if self.policy.expired(record, now):
            self.delete(session_id)
            return None
        return record

    def save(self, session_id: str, record: SessionRecord) -> None:
        value = {
            "data": record.data,
            "created_at": record.created_at.astimezone(UTC).isoformat(),
            "last_seen_at": record.last_seen_at.astimezone(UTC).isoformat(),
            "username": record.username,
        }
        ttl = max(1, int(self.policy.idle.total_seconds()))
        pipe = self._redis.pipeline()
        pipe.set(self._key(session_id), json.dumps(value), ex=ttl)
        if record.username:
            pipe.sadd(self._user_key(record.username), id_digest(session_id))
            pipe.expire(self._user_key(record.username), int(self.policy.absolute.total_seconds()))
        pipe.execute()

    def delete(self, session_id: str) -> None:
        self._redis.delete(self._key(session_id))

    def revoke_user(self, username: str) -> int:
        members = self._redis.smembers(self._user_key(username))
        keys = [f"{self._prefix}:session:{m.decode() if isinstance(m, bytes) else m}" for m in members]
        removed = int(self._redis.delete(*keys)) if keys else 0
        self._redis.delete(self._user_key(username))
        return removed


def session_store_from_env(db: Database) -> SessionStore:
    """Redis when ``MOTCUA_REDIS_URL`` is set (several web processes), else the database."""
    policy = SessionPolicy.from_env()
    url = os.environ.get("MOTCUA_REDIS_URL")
    if url:
        return RedisSessionStore(url, policy, os.environ.get("MOTCUA_REDIS_PREFIX", "motcua"))
    return SqlSessionStore(db, policy)
