"""Both session stores behave alike: the database table (embedded default) and Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from engine.db import Database
from engine.sessions import (
    RedisSessionStore,
    SessionPolicy,
    SessionRecord,
    SessionStore,
    SqlSessionStore,
    id_digest,
    new_session_id,
)
from tests.support.fixtures import vn

REDIS_URL = os.environ.get("MOTCUA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POLICY = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=10))


@pytest.fixture(params=["table", "redis"])
def store(request: pytest.FixtureRequest, db: Database) -> Iterator[SessionStore]:
    if request.param == "table":
        yield SqlSessionStore(db, POLICY)
        return
    prefix = f"motcua-test-{uuid.uuid4().hex[:8]}"
    yield RedisSessionStore(REDIS_URL, POLICY, prefix)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_save_load_delete_and_revoke_every_session_of_a_user(store: SessionStore) -> None:
    now = vn(2026, 3, 2, 8, 0)
    mine, also_mine, theirs = new_session_id(), new_session_id(), new_session_id()
    store.save(mine, SessionRecord({"blob": "a"}, now, now, "clerk"))
    store.save(also_mine, SessionRecord({"blob": "b"}, now, now, "clerk"))
    store.save(theirs, SessionRecord({"blob": "c"}, now, now, "head"))
    loaded = store.load(mine, now)
    assert loaded is not None and loaded.data == {"blob": "a"} and loaded.username == "clerk"
    assert store.load(id_digest(mine), now) is None  # the stored key is not a usable cookie
    assert store.revoke_user("clerk") == 2
    assert store.load(mine, now) is None and store.load(also_mine, now) is None
    assert store.load(theirs, now) is not None
    store.delete(theirs)
    assert store.load(theirs, now) is None


def test_idle_and_absolute_limits(store: SessionStore) -> None:
    start = vn(2026, 3, 2, 8, 0)
    sid = new_session_id()
    store.save(sid, SessionRecord({}, start, start, "clerk"))
    assert store.load(sid, start + timedelta(minutes=29)) is not None
    assert store.load(sid, start + timedelta(minutes=30)) is None
    old = new_session_id()
    created = start - timedelta(hours=10)
    store.save(old, SessionRecord({}, created, start - timedelta(minutes=1), "clerk"))
    assert store.load(old, start) is None
