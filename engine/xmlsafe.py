"""Hardened parsing of BPMN files, the uploaded ones and those of the built-in library.

A BPMN upload is attacker-controlled XML. DTDs are the root of the classic attacks (external
entities reading ``/etc/passwd`` or calling internal URLs, "billion laughs" expansion), and BPMN
never needs one, so any DTD or entity is rejected outright rather than stripped: a file that
tries is either broken or hostile, and the designer should hear about it.

Defences, each sufficient for the common case, together covering the odd encodings:

* size is checked before any parsing;
* a DOCTYPE in the prolog is refused before libxml2 sees the internal subset;
* the lxml parser never resolves entities, never loads a DTD, never touches the network, keeps
  libxml2's limits on depth and text size, and resolves any URL to nothing;
* the parsed document is checked for a DTD, entity nodes and XInclude elements.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from lxml import etree

from .errors import UnsafeXmlError
from .refusals import translate

MAX_BPMN_BYTES = 2_000_000

_DTD_MESSAGE = "Tệp BPMN chứa khai báo DTD/thực thể — không được phép"
_XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
_XML_DECLARATION = re.compile(r"^\ufeff?<\?xml\b[^>]*\?>")
_ENCODING = re.compile(r"""\bencoding\s*=\s*(["'])[^"']*\1""")
# Encodings whose prolog is not ASCII-compatible, recognised by their byte-order mark or, without
# one, by how "<?" or "<" is spelt in them.
_BYTE_ORDER_MARKS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_UNMARKED_WIDE = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)


class _NothingResolver(etree.Resolver):  # type: ignore[misc]
    """Every external reference (DTD, entity, XInclude) resolves to an empty document."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        return self.resolve_string("", context)


def _parser() -> Any:
    # A fresh parser per call: lxml parsers keep state and are not meant to be shared across threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=False,
    )
    parser.resolvers.add(_NothingResolver())
    return parser


def _human_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:g} MB".replace(".", ",")
    if size >= 1_000:
        return f"{size / 1_000:g} KB".replace(".", ",")
    return f"{size} byte"


def _too_large(max_bytes: int, source: str) -> UnsafeXmlError:
    return UnsafeXmlError(
        f"Tệp BPMN vượt quá kích thước cho phép ({_human_size(max_bytes)})",
        details={"source": source, "max_bytes": max_bytes},
    )


def _to_bytes(data: bytes | str, max_bytes: int, source: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if len(data) > max_bytes:  # a character is at least one byte: no need to encode to know
        raise _too_large(max_bytes, source)
    # lxml refuses str with an encoding declaration; the text is already decoded, so say UTF-8.
    match = _XML_DECLARATION.match(data)
    if match:
        declaration = _ENCODING.sub('encoding="UTF-8"', match.group(0).lstrip("\ufeff"))
        data = declaration + data[match.end() :]
    try:
        return data.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsafeXmlError(
            f"Tệp BPMN không phải XML hợp lệ: ký tự không mã hóa được ở vị trí {exc.start}",
            details={"source": source},
        ) from exc


def _prolog_text(raw: bytes) -> str:
    for mark, codec in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            return raw[len(mark) :].decode(codec, errors="replace")
    for start, codec in _UNMARKED_WIDE:
        if raw.startswith(start):
            return raw.decode(codec, errors="replace")
    # UTF-8 and the legacy 8-bit encodings agree with latin-1 on the ASCII markup of a prolog.
    return raw.decode("latin-1")


def _prolog_declares_doctype(raw: bytes) -> bool:
    """Whether a DOCTYPE comes before the root element (a CDATA mention later is harmless)."""
    text = _prolog_text(raw)
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n\ufeff":
            pos += 1
        if text.startswith("<?", pos):
            opening, closing = "<?", "?>"
        elif text.startswith("<!--", pos):
            opening, closing = "<!--", "-->"
        else:
            return text.startswith("<!DOCTYPE", pos)
        end = text.find(closing, pos + len(opening))
        if end < 0:
            return False  # unterminated: the parser reports it as malformed
        pos = end + len(closing)


def _malformed(exc: etree.XMLSyntaxError, source: str) -> UnsafeXmlError:
    line, column = exc.position if exc.position else (exc.lineno or 0, 0)
    last = exc.error_log.last_error
    detail = (last.message if last is not None else str(exc)).strip()
    reason = translate(detail) or "cấu trúc XML sai"
    return UnsafeXmlError(
        f"Tệp BPMN không phải XML hợp lệ: dòng {line}, cột {column}: {reason}",
        details={"source": source, "line": line, "column": column, "detail": detail},
    )


def _check_document(root: Any, source: str) -> None:
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXmlError(_DTD_MESSAGE, details={"source": source})
    if next(root.iter(etree.Entity), None) is not None:
        raise UnsafeXmlError(_DTD_MESSAGE, details={"source": source})
    xinclude = [f"{{{ns}}}*" for ns in _XINCLUDE_NAMESPACES]
    if next(root.iter(*xinclude), None) is not None:
        raise UnsafeXmlError("Tệp BPMN chứa XInclude — không được phép", details={"source": source})


def parse_xml(
    data: bytes | str, *, max_bytes: int = MAX_BPMN_BYTES, source: str = "upload"
) -> etree._Element:
    """Root element of a BPMN document, or UnsafeXmlError saying in Vietnamese why it was refused.

    ``source`` (file name, "upload") only goes into the error details for the logs.
    """
    raw = _to_bytes(data, max_bytes, source)
    if len(raw) > max_bytes:
        raise _too_large(max_bytes, source)
    if _prolog_declares_doctype(raw):
        raise UnsafeXmlError(_DTD_MESSAGE, details={"source": source})
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as exc:
        raise _malformed(exc, source) from exc
    except ValueError as exc:  # e.g. lxml refusing an input it cannot decode
        reason = translate(str(exc)) or "không đọc được nội dung (mã hóa ký tự?)"
        raise UnsafeXmlError(
            f"Tệp BPMN không phải XML hợp lệ: {reason}", details={"source": source, "detail": str(exc)}
        ) from exc
    _check_document(root, source)
    return root


def parse_xml_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_BPMN_BYTES) -> etree._Element:
    """Same hardening for files on disk (the built-in library): a library file is not trusted more."""
    file = Path(path)
    if file.stat().st_size > max_bytes:
        raise _too_large(max_bytes, str(file))
    with file.open("rb") as handle:
        data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    return parse_xml(data, max_bytes=max_bytes, source=str(file))
