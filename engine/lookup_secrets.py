"""Lookup secrets (mã tra cứu): 64 random bits, stored as an HMAC keyed with a server-side pepper.

The first scheme keyed the HMAC with the secret itself, so a copy of the ``cases`` table let anyone
try all 2^32 secrets offline in minutes. Now the key is a pepper that lives outside the database
(``MOTCUA_SECRET_PEPPER``, or a file generated under ``var/`` for the embedded default), and the
secret has 64 bits. Secrets issued under the first scheme (8 hex characters) still verify with it:
nothing about an open dossier changes when this code is deployed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import cache
from pathlib import Path

PEPPER_FILE = Path("var") / "secret_pepper"
LEGACY_LENGTH = 8  # token_hex(4): the 32-bit secrets issued before the pepper
PREFIX = "p1$"  # marks a peppered digest (and leaves room for the next scheme)


@cache
def pepper() -> bytes:
    """``MOTCUA_SECRET_PEPPER`` (every web and worker process must share it), else ``var/secret_pepper``,
    created once with 256 random bits and owner-only permissions."""
    configured = os.environ.get("MOTCUA_SECRET_PEPPER")
    if configured:
        return configured.encode("utf-8")
    path = Path(os.environ.get("MOTCUA_SECRET_PEPPER_FILE", str(PEPPER_FILE)))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def digest(code: str, secret: str) -> str:
    """What is stored for ``secret`` of dossier ``code`` (and what a lookup compares with)."""
    if len(secret) == LEGACY_LENGTH:
        return hmac.new(secret.encode("utf-8"), code.encode("utf-8"), hashlib.sha256).hexdigest()
    message = f"{code}\x00{secret}".encode()
    return PREFIX + hmac.new(pepper(), message, hashlib.sha256).hexdigest()
