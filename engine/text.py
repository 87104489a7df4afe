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


def search_key(text: str) -> str:
    """Case- and accent-insensitive form for matching what a clerk types ("nguyen van" finds
    "Nguyễn Văn"); đ has no decomposition, so it is mapped by hand."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


#: Between a dossier's searchable fields in ``cases.search_key``: never in a search (it is refused),
#: so a search matches within one field, as when each field was searched alone.
SEARCH_SEPARATOR = "\n"


def cccd_key(id_number: Any) -> str | None:
    """A CCCD as compared everywhere: the clerk may have typed "001 090 012345" with spaces."""
    number = "".join(str(id_number).split()) if id_number else ""
    return number or None


def dossier_search_key(code: str, applicant_name: str | None, id_number: Any) -> str:
    """What the desk's search looks in: the code, the applicant's name and CCCD, each folded."""
    return SEARCH_SEPARATOR.join(search_key(str(v) if v else "") for v in (code, applicant_name, id_number))
