"""Text as people typed it, in one Unicode form.

Vietnamese arrives both precomposed (NFC, most keyboards) and decomposed (NFD, some phones and macOS
pasting): "Nguyễn" in the two forms compares unequal and sorts apart, so every text input is stored
in NFC.
"""

from __future__ import annotations

import unicodedata
from typing import Any


def nfc(value: Any) -> Any:
    """``value`` with every string (also inside lists and mappings, keys included) in NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(nfc(v) for v in value)
    return value
