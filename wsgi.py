"""WSGI entry point for production web processes: ``gunicorn -w 4 -k gthread wsgi:app``.

Every gunicorn worker imports this module and gets its own engine and connection pool; all of them
share one PostgreSQL database (``MOTCUA_DATABASE_URL``) and must share ``MOTCUA_SECRET_KEY`` (CSRF
tokens are signed with it); sessions live in the database or, with ``MOTCUA_REDIS_URL``, in Redis
together with the rate-limit counters, so every process sees the same ones. Timers and the outbox
are handled by separate ``python run.py worker`` processes (built by the same ``handlers.compose``),
not by the web processes.
"""

from __future__ import annotations

from handlers.compose import compose
from web.app import create_app

app = create_app(compose().engine)
