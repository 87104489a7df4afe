"""Flask application factory (the web layer is a thin adapter over ``engine.service``)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask, render_template

from engine.service import Engine


def create_app(engine: Engine, config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("MOTCUA_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(config or {})
    app.extensions["motcua_engine"] = engine

    @app.get("/")
    def home() -> str:
        return render_template("home.html", procedures=engine.list_procedures())

    return app


def serve(engine: Engine, *, host: str = "127.0.0.1", port: int = 5000, worker: bool = True) -> None:
    """Development/single-machine server with the embedded timer worker."""
    from engine.worker import start_embedded_worker

    app = create_app(engine)
    stop = start_embedded_worker(engine) if worker else None
    print(f"motcua đang chạy tại http://{host}:{port}", flush=True)
    try:
        app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)
    finally:
        if stop is not None:
            stop.set()
