"""File storage behind one interface: the database keeps hashes and metadata, the bytes live here.

Files are content-addressed by SHA-256, so storing the same scan twice costs nothing, a name can
never point at other bytes, and every read can be checked against the digest the case history
holds. The default store is a folder (``var/files/`` or ``MOTCUA_FILES_DIR``); an object store only
has to implement :class:`FileStore`.

A file is written before the transaction that references it commits. If that transaction rolls
back, the file stays unreferenced: harmless (content-addressed, never served without a row that
names it) and collectable by a sweep of hashes no table mentions.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .errors import MotcuaError, NotFound, ValidationError

DEFAULT_ROOT = Path("var") / "files"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StorageError(MotcuaError):
    """A stored file is damaged (its bytes no longer match its SHA-256) or cannot be written."""

    code = "storage_error"
    http_status = 500


@dataclass(frozen=True)
class StoredFile:
    """What the database keeps about a stored file."""

    sha256: str
    size: int


class FileStore(Protocol):
    """Where file bytes live; implementations must be content-addressed by SHA-256."""

    def put(self, content: bytes) -> StoredFile:
        """Store ``content`` (idempotent) and say under which digest."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``, verified; :class:`NotFound` when absent."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether bytes are stored under ``sha256``."""
        ...


def check_digest(sha256: str) -> str:
    """A digest as the stores accept it; anything else could name a path outside the root."""
    value = (sha256 or "").strip().lower()
    if not _SHA256.match(value):
        raise ValidationError(f"Mã băm SHA-256 '{sha256}' không hợp lệ (64 ký tự 0-9, a-f)")
    return value


class DiskFileStore:
    """Files under ``root/ab/cd/<sha256>``; two-level fan-out keeps directories small."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        digest = check_digest(sha256)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, content: bytes) -> StoredFile:
        """Write atomically (temporary file + rename) so a crash never leaves a half file under a
        digest; an existing file with the right bytes is left as it is."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path_of(digest)
        if target.exists() and _digest_of(target) == digest:
            return StoredFile(digest, len(content))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StorageError(f"Không ghi được tệp vào kho lưu trữ {self.root}: {exc.strerror}") from exc
        return StoredFile(digest, len(content))

    def get(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        try:
            content = path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"Không tìm thấy tệp {sha256[:12]}… trong kho lưu trữ") from exc
        if hashlib.sha256(content).hexdigest() != path.name:
            raise StorageError(
                f"Tệp {sha256[:12]}… trong kho lưu trữ đã bị thay đổi (mã băm SHA-256 không khớp)",
                details={"sha256": path.name},
            )
        return content

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()


def _digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_store_from_env() -> DiskFileStore:
    """The deployment's store: ``MOTCUA_FILES_DIR`` or ``var/files``."""
    return DiskFileStore(Path(os.environ.get("MOTCUA_FILES_DIR", str(DEFAULT_ROOT))))
