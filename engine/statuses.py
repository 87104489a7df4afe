"""The national dossier status catalogue (DVCQG ``TrangThai``); defined in ``engine.domain.vocab``."""

from __future__ import annotations

from .domain.vocab import STATUS_LABELS

__all__ = ["STATUS_LABELS"]
