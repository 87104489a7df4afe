"""Where the digital one-stop pages get their file store and population-data adapter.

``create_app(config=...)`` may pass ``FILE_STORE`` / ``POPULATION_DATA`` objects (tests, embedding);
otherwise they come from the environment (``MOTCUA_FILES_DIR``, ``MOTCUA_POPULATION_URL`` …).
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from flask import current_app, request

from engine.errors import ValidationError
from engine.identity import PopulationData, population_data_from_env
from engine.storage import FileStore

from .security import engine

SECRET_ENV = "MOTCUA_PORTAL_IDENTITY_SECRET"


def file_store() -> FileStore:
    store = current_app.config.get("FILE_STORE")
    return store if store is not None else engine().files  # type: ignore[no-any-return]


def population_data() -> PopulationData:
    source = current_app.config.get("POPULATION_DATA")
    return source if source is not None else population_data_from_env(engine().db)  # type: ignore[no-any-return]


def portal_identity(token: str | None = None) -> dict[str, Any] | None:
    """The identity the portal asserted for this request (``X-Motcua-Identity``, or ``token`` a page
    received from the portal's redirect), verified; None when the request carries none."""
    from handlers.identity_assertion import HEADER, verify_assertion

    token = token or request.headers.get(HEADER)
    if not token:
        return None
    secret = str(current_app.config.get("PORTAL_IDENTITY_SECRET") or os.environ.get(SECRET_ENV, ""))
    return verify_assertion(secret.encode("utf-8"), token[:4000], engine().lease_clock.now())


def parse_day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise ValidationError(
            f"Ngày '{text or ''}' không đúng định dạng YYYY-MM-DD",
            details={"fields": [{"field": field, "message": "không đúng định dạng"}]},
        ) from exc
