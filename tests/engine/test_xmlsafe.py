"""Hardened BPMN parsing: classic XML attacks are refused with a clear message, real BPMN is read."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from engine import xmlsafe
from engine.errors import UnsafeXmlError
from engine.xmlsafe import MAX_BPMN_BYTES, parse_xml, parse_xml_file

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SMALL_BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="defs" targetNamespace="urn:test">
  <bpmn:process id="cap_ban_sao" name="Cấp bản sao văn bằng" isExecutable="true">
    <bpmn:startEvent id="start"/>
  </bpmn:process>
</bpmn:definitions>
"""
DTD_MESSAGE = "Tệp BPMN chứa khai báo DTD/thực thể — không được phép"


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]><lolz>&lol9;</lolz>'.encode()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    return secret


@pytest.fixture
def without_prolog_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exercise the second line of defence (parser options and post-parse checks) on its own."""
    monkeypatch.setattr(xmlsafe, "_prolog_declares_doctype", lambda raw: False)


def reject(data: bytes | str, **kwargs: int) -> UnsafeXmlError:
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml(data, **kwargs)
    return caught.value


# ----------------------------------------------------------------------------- accepted


def test_small_bpmn_returns_root_element() -> None:
    root = parse_xml(SMALL_BPMN.encode())
    assert root.tag == f"{{{BPMN_NS}}}definitions"
    assert root.find(f"{{{BPMN_NS}}}process").get("name") == "Cấp bản sao văn bằng"


def test_str_with_encoding_declaration_is_accepted() -> None:
    text = SMALL_BPMN.replace("UTF-8", "windows-1258")  # lxml itself refuses str with a declaration
    root = parse_xml(text)
    assert root.find(f"{{{BPMN_NS}}}process").get("name") == "Cấp bản sao văn bằng"


def test_legacy_encoding_bytes_are_decoded() -> None:
    data = '<?xml version="1.0" encoding="ISO-8859-1"?><a>Café</a>'.encode("latin-1")
    assert parse_xml(data).text == "Café"


def test_doctype_mentioned_inside_cdata_is_not_a_doctype() -> None:
    root = parse_xml(b"<a><![CDATA[<!DOCTYPE html>]]></a>")
    assert root.text == "<!DOCTYPE html>"


def test_processing_instructions_are_dropped() -> None:
    root = parse_xml(b'<?xml version="1.0"?><?xml-stylesheet href="x.xsl"?><a><?php echo 1 ?></a>')
    assert len(root) == 0


def test_parse_xml_file_reads_library_files(tmp_path: Path) -> None:
    path = tmp_path / "thu_tuc.bpmn"
    path.write_text(SMALL_BPMN, encoding="utf-8")
    assert parse_xml_file(path).tag == f"{{{BPMN_NS}}}definitions"


def test_max_bpmn_bytes_is_two_megabytes() -> None:
    assert MAX_BPMN_BYTES == 2_000_000


# ----------------------------------------------------------------------------- DTD and entities


XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{path}">]><x>&e;</x>'


def test_classic_xxe_is_rejected_without_reading_the_file(secret_file: Path) -> None:
    error = reject(XXE.format(path=secret_file).encode())
    assert error.message == DTD_MESSAGE
    assert "TOP-SECRET-MARKER" not in str(error) + repr(error.details)


def test_xxe_on_etc_passwd_is_rejected() -> None:
    data = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    error = reject(data)
    assert error.message == DTD_MESSAGE
    assert "root:" not in str(error)


@pytest.mark.usefixtures("without_prolog_scan")
def test_xxe_is_rejected_by_the_parser_layer_alone(secret_file: Path) -> None:
    error = reject(XXE.format(path=secret_file).encode())
    assert error.message == DTD_MESSAGE
    assert "TOP-SECRET-MARKER" not in str(error)


def test_external_dtd_is_rejected() -> None:
    data = b'<?xml version="1.0"?>\n<!-- comment -->\n<!DOCTYPE x SYSTEM "http://127.0.0.1:1/x.dtd"><x/>'
    assert reject(data).message == DTD_MESSAGE


@pytest.mark.usefixtures("without_prolog_scan")
def test_external_dtd_is_rejected_by_the_parser_layer_alone() -> None:
    assert reject(b'<!DOCTYPE x SYSTEM "http://127.0.0.1:1/x.dtd"><x/>').message == DTD_MESSAGE


@pytest.mark.parametrize("guarded", [False, True], ids=["prolog-scan", "parser-only"])
def test_parameter_entities_are_rejected(
    guarded: bool, secret_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if guarded:
        monkeypatch.setattr(xmlsafe, "_prolog_declares_doctype", lambda raw: False)
    data = f'<!DOCTYPE x [<!ENTITY % p SYSTEM "file://{secret_file}"> %p;]><x/>'.encode()
    error = reject(data)
    assert error.message == DTD_MESSAGE
    assert "TOP-SECRET-MARKER" not in str(error)


def test_doctype_without_entities_is_rejected_too() -> None:
    assert reject(b"<!DOCTYPE a><a/>").message == DTD_MESSAGE


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_doctype_in_wide_encodings_is_rejected(codec: str) -> None:
    declared = codec.upper()
    data = f'<?xml version="1.0" encoding="{declared}"?><!DOCTYPE x [<!ENTITY e "z">]><x>&e;</x>'
    assert reject(data.encode(codec)).message == DTD_MESSAGE


@pytest.mark.parametrize("guarded", [False, True], ids=["prolog-scan", "parser-only"])
def test_billion_laughs_is_rejected_and_stays_small(guarded: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if guarded:
        monkeypatch.setattr(xmlsafe, "_prolog_declares_doctype", lambda raw: False)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(UnsafeXmlError):
        parse_xml(billion_laughs())
    # Expanded, the document would be 3 GB; libxml2's own allocations are invisible to tracemalloc.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 100_000


def test_undeclared_entity_reference_is_rejected() -> None:
    error = reject(b"<a>&foo;</a>")
    assert "không phải XML hợp lệ" in error.message


def test_xinclude_is_rejected() -> None:
    data = (
        b'<a xmlns:xi="http://www.w3.org/2001/XInclude">'
        b'<xi:include href="file:///etc/passwd" parse="text"/></a>'
    )
    assert reject(data).message == "Tệp BPMN chứa XInclude — không được phép"


# ----------------------------------------------------------------------------- size, syntax, depth


def test_oversized_upload_is_rejected_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_parse(*args: object) -> None:
        raise AssertionError("parsed an oversized file")

    monkeypatch.setattr(xmlsafe.etree, "fromstring", must_not_parse)
    data = b"<a>" + b"x" * MAX_BPMN_BYTES + b"</a>"
    error = reject(data)
    assert error.message == "Tệp BPMN vượt quá kích thước cho phép (2 MB)"
    assert error.details["max_bytes"] == MAX_BPMN_BYTES


def test_oversized_str_is_rejected() -> None:
    assert "vượt quá kích thước" in reject("<a>" + "ồ" * 1_000 + "</a>", max_bytes=1_000).message


def test_size_counts_utf8_bytes_not_characters() -> None:
    # 400 characters, but "ồ" is three bytes in UTF-8.
    assert "(1 KB)" in reject("<a>" + "ồ" * 393 + "</a>", max_bytes=1_000).message


def test_oversized_file_is_rejected_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.bpmn"
    path.write_bytes(b"<a>" + b"x" * 2_000 + b"</a>")
    with pytest.raises(UnsafeXmlError, match="vượt quá kích thước"):
        parse_xml_file(path, max_bytes=1_000)


def test_malformed_xml_message_names_the_line() -> None:
    error = reject(b"<a>\n  <b>\n</a>")
    assert error.message.startswith("Tệp BPMN không phải XML hợp lệ: dòng 3")
    assert error.details["line"] == 3


def test_empty_document_is_malformed() -> None:
    assert "không phải XML hợp lệ" in reject(b"").message


def test_excessively_deep_tree_is_rejected() -> None:
    data = b"<a>" * 300 + b"</a>" * 300
    assert "không phải XML hợp lệ" in reject(data).message
