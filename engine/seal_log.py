"""Audit seals anchored outside the database: an append-only, Ed25519-signed JSON Lines file.

A seal stored only in the database proves nothing against whoever can write the database: they can
rewrite a history with fresh hashes and re-seal every day after it. Each seal is therefore also
appended to a file outside the database (``var/audit-seals.jsonl``, or ``MOTCUA_SEAL_LOG`` — point
it at write-once storage or a log shipper) and signed with an Ed25519 key kept outside the
database too (``MOTCUA_SEAL_KEY_FILE``). ``audit verify --seals FILE`` checks every line's
signature and that the database still holds exactly the seal each line recorded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ValidationError
from .integrity import Finding
from .models import AuditDigest

DEFAULT_LOG = Path("var") / "audit-seals.jsonl"
DEFAULT_KEY = Path("var") / "seal-signing-key.pem"
SIGNED_FIELDS = ("day", "as_of", "case_count", "event_count", "digest", "prev_seal", "seal")


def log_path() -> Path:
    return Path(os.environ.get("MOTCUA_SEAL_LOG", str(DEFAULT_LOG)))


def key_path() -> Path:
    return Path(os.environ.get("MOTCUA_SEAL_KEY_FILE", str(DEFAULT_KEY)))


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The signing key (PEM, owner-only); created once, with its public half beside it (``.pub``)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            public = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            path.with_suffix(".pub").write_bytes(public)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValidationError(f"{path} không phải khoá Ed25519")
    return loaded


def _message(entry: dict[str, Any]) -> bytes:
    return json.dumps({k: entry[k] for k in SIGNED_FIELDS}, sort_keys=True, separators=(",", ":")).encode()


def _entry(row: AuditDigest) -> dict[str, Any]:
    return {
        "day": row.day,
        "as_of": row.as_of.isoformat(),
        "case_count": row.case_count,
        "event_count": int(row.event_count),
        "digest": row.digest,
        "prev_seal": row.prev_seal,
        "seal": row.seal,
    }


@dataclass(frozen=True)
class SealLog:
    """The outside copy: one signed JSON object per line, only ever appended to."""

    path: Path
    key: Ed25519PrivateKey

    def entries(self) -> list[dict[str, Any]]:
        return read_entries(self.path)

    def export(self, session: Session) -> int:
        """Append every database seal not yet in the file (oldest first); returns how many.

        Called after each sealing transaction commits; anything a crash left out is appended by
        the next call, so the file converges on the database's seals.
        """
        written = {e.get("day") for e in self.entries()}
        rows = [
            r for r in session.scalars(select(AuditDigest).order_by(AuditDigest.id)) if r.day not in written
        ]
        if not rows:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            for row in rows:
                entry = _entry(row)
                entry["signature"] = self.key.sign(_message(entry)).hex()
                out.write(json.dumps(entry, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return len(rows)


def read_entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"Dòng {number} của tệp niêm phong không phải JSON") from exc
        if not isinstance(value, dict):
            raise ValidationError(f"Dòng {number} của tệp niêm phong không phải một đối tượng JSON")
        entries.append(value)
    return entries


def compare(
    session: Session, entries: Iterable[dict[str, Any]], public_key: Ed25519PublicKey
) -> list[Finding]:
    """Findings where the outside copy and the database disagree, or a line's signature fails."""
    stored = {row.day: _entry(row) for row in session.scalars(select(AuditDigest).order_by(AuditDigest.id))}
    found: list[Finding] = []
    seen: set[str] = set()
    for entry in entries:
        day = str(entry.get("day"))
        seen.add(day)
        try:
            public_key.verify(bytes.fromhex(str(entry.get("signature", ""))), _message(entry))
        except (InvalidSignature, KeyError, ValueError):
            found.append(
                Finding(
                    None,
                    None,
                    "seal_signature_invalid",
                    f"Chữ ký của niêm phong {day} trong tệp không hợp lệ",
                )
            )
            continue
        ours = stored.get(day)
        if ours is None:
            found.append(
                Finding(
                    None,
                    None,
                    "seal_missing",
                    f"Niêm phong {day} có trong tệp bên ngoài nhưng đã mất khỏi CSDL",
                )
            )
        elif any(ours[k] != entry[k] for k in SIGNED_FIELDS):
            found.append(
                Finding(
                    None,
                    None,
                    "seal_rewritten",
                    f"Niêm phong {day} trong CSDL khác bản lưu bên ngoài (mã {ours['seal'][:12]}… "
                    f"so với {str(entry['seal'])[:12]}…): lịch sử đã bị viết lại và niêm phong lại",
                )
            )
    for day in stored:
        if day not in seen:
            found.append(
                Finding(None, None, "seal_not_anchored", f"Niêm phong {day} chưa có trong tệp bên ngoài")
            )
    return found


def public_key_of(path: Path) -> Ed25519PublicKey:
    """The verifying key: a ``.pub`` PEM, or the public half of the private key file."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValidationError(f"{path} không phải khoá Ed25519")
        return private.public_key()
    public = serialization.load_pem_public_key(data)
    if not isinstance(public, Ed25519PublicKey):
        raise ValidationError(f"{path} không phải khoá công khai Ed25519")
    return public
