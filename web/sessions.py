"""Flask's session, kept server-side in the engine's session store; the cookie is only a random id.

Login rotates the id (no session fixation), logout deletes the record (a copied cookie is dead),
and a record expires after the store's idle and absolute limits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Request, Response, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from engine.service import Engine
from engine.sessions import TOUCH_EVERY, SessionRecord, new_session_id

_serializer = TaggedJSONSerializer()  # keeps tuples and bytes (flashes, Flask-WTF) intact


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        sid: str | None = None,
        record: SessionRecord | None = None,
    ) -> None:
        def on_update(_: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.record = record
        self.modified = False
        self.rotate = False  # set at login: the next save moves the contents to a fresh id
        # A store that could not be read (database away) is reported from inside the request, where
        # the error handlers answer 503; Flask would otherwise turn it into a bare 500.
        self.load_error: Exception | None = None

    def regenerate(self) -> None:
        self.rotate = True
        self.modified = True


class ServerSessionInterface(SessionInterface):
    def _engine(self, app: Flask) -> Engine:
        engine: Engine = app.extensions["motcua_engine"]
        return engine

    def _now(self, app: Flask) -> datetime:
        # Session lifetimes are about real elapsed time, like leases (tests move this clock).
        return self._engine(app).lease_clock.now()

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid and len(sid) <= 100:
            try:
                record = self._engine(app).sessions.load(sid, self._now(app))
            except Exception as exc:  # noqa: BLE001 - re-raised by raise_session_error
                broken = ServerSession()
                broken.load_error = exc
                return broken
            if record is not None:
                return ServerSession(_serializer.loads(record.data["blob"]), sid, record)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.load_error is not None:
            return
        store = self._engine(app).sessions
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not session:
            if session.sid is not None:
                store.delete(session.sid)
                response.delete_cookie(name, domain=domain, path=path)
            return
        now = self._now(app)
        if session.rotate and session.sid is not None:
            store.delete(session.sid)
            session.sid, session.record = None, None
        if session.sid is None:
            session.sid = new_session_id()
            record = SessionRecord({}, now, now)
        else:
            assert session.record is not None
            record = session.record
            if not session.modified and now - record.last_seen_at < TOUCH_EVERY:
                return
        user = session.get("user")
        record.data = {"blob": _serializer.dumps(dict(session))}
        record.username = user if isinstance(user, str) else None
        record.last_seen_at = now
        store.save(session.sid, record)
        response.set_cookie(
            name,
            session.sid,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=domain,
            path=path,
        )
        response.vary.add("Cookie")


def raise_session_error() -> None:
    """``before_request``: surface a session store failure to the error handlers."""
    if isinstance(session, ServerSession) and session.load_error is not None:
        raise session.load_error
