"""Where the digital one-stop pages get their file store and population-data adapter.

``create_app(config=...)`` may pass ``FILE_STORE`` / ``POPULATION_DATA`` objects (tests, embedding);
otherwise they come from the environment (``MOTCUA_FILES_DIR``, ``MOTCUA_POPULATION_URL`` …).
"""

from __future__ import annotations

from datetime import date

from flask import current_app

from engine.errors import ValidationError
from engine.identity import PopulationData, population_data_from_env
from engine.storage import FileStore

from .security import engine


def file_store() -> FileStore:
    store = current_app.config.get("FILE_STORE")
    return store if store is not None else engine().files  # type: ignore[no-any-return]


def population_data() -> PopulationData:
    source = current_app.config.get("POPULATION_DATA")
    return source if source is not None else population_data_from_env(engine().db)  # type: ignore[no-any-return]


def parse_day(text: str | None, field: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise ValidationError(
            f"Ngày '{text or ''}' không đúng định dạng YYYY-MM-DD",
            details={"fields": [{"field": field, "message": "không đúng định dạng"}]},
        ) from exc
