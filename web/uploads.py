"""Files posted with a form: one input per procedure document (``doc_<code>``) plus ``doc_other``."""

from __future__ import annotations

import os

from flask import request

from engine.documents import DocumentView
from engine.users import Actor

from .security import client_ip, engine, rate_limits

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


def posted_bytes() -> int:
    """Total size of the posted document files, measured without reading them into memory twice."""
    total = 0
    for field_name, storage in request.files.items(multi=True):
        if field_name.startswith("doc_") and storage and storage.filename:
            stream = storage.stream
            start = stream.tell()
            stream.seek(0, os.SEEK_END)
            total += stream.tell() - start
            stream.seek(start)
    return total


def charge_anonymous_upload() -> None:
    """Count an anonymous request's file bytes against the per-address and global quotas *before*
    anything is stored, so a refused request changes nothing (429 with Retry-After)."""
    size = posted_bytes()
    if size:
        rate_limits().charge_upload(client_ip(), size)


def store_uploads(code: str, actor: Actor) -> list[DocumentView]:
    return [engine().add_document(code, doc, name, content, actor) for doc, name, content in posted_files()]
