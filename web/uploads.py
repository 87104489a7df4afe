"""Files posted with a form: one input per procedure document (``doc_<code>``) plus ``doc_other``."""

from __future__ import annotations

from flask import request

from engine.documents import DocumentView
from engine.users import Actor

from .security import engine

MAX_FILES_PER_REQUEST = 20


def posted_files() -> list[tuple[str, str, bytes]]:
    """(document code, filename, content) of every non-empty file input named ``doc_*``."""
    found: list[tuple[str, str, bytes]] = []
    for field_name, storage in request.files.items(multi=True):
        if not field_name.startswith("doc_") or not storage or not storage.filename:
            continue
        code = field_name[4:]
        found.append(("" if code == "other" else code, storage.filename, storage.read()))
        if len(found) >= MAX_FILES_PER_REQUEST:
            break
    return found


def store_uploads(code: str, actor: Actor) -> list[DocumentView]:
    return [engine().add_document(code, doc, name, content, actor) for doc, name, content in posted_files()]
