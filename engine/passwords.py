"""Password policy: long enough and not guessable (zxcvbn score ≥ 3), with generated passwords that pass.

zxcvbn estimates guesses against dictionaries, keyboard patterns and the account's own name, so
``12345678`` or ``nguyenvanan2026`` are refused even though a length rule alone would not notice.
"""

from __future__ import annotations

import secrets

from zxcvbn import zxcvbn

from .errors import ValidationError

MIN_LENGTH = 12
MIN_SCORE = 3
MAX_LENGTH = 256  # argon2 would take anything, but a megabyte "password" is an attack, not a secret


def check_password(password: str, *, username: str = "", full_name: str = "") -> None:
    """Refuse a weak password with a Vietnamese reason; the account's own names count as guessable."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(
            f"Mật khẩu phải có ít nhất {MIN_LENGTH} ký tự",
            details={"fields": [{"field": "password", "message": f"tối thiểu {MIN_LENGTH} ký tự"}]},
        )
    if len(password) > MAX_LENGTH:
        raise ValidationError(
            f"Mật khẩu dài quá {MAX_LENGTH} ký tự",
            details={"fields": [{"field": "password", "message": f"tối đa {MAX_LENGTH} ký tự"}]},
        )
    hints = [part for part in (username, *full_name.split()) if part]
    score = int(zxcvbn(password, user_inputs=hints)["score"])
    if score < MIN_SCORE:
        raise ValidationError(
            "Mật khẩu quá dễ đoán: tránh từ thông dụng, dãy phím, ngày tháng hay tên của chính bạn; "
            "nên dùng một cụm nhiều từ",
            details={"fields": [{"field": "password", "message": "quá dễ đoán"}], "score": score},
        )


def generate_password() -> str:
    """A random password that satisfies :func:`check_password` (printed once, changed at first login)."""
    while True:
        candidate = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        try:
            check_password(candidate)
        except ValidationError:
            continue
        return candidate
