"""Procedure metadata of the digital one-stop: paymentIntegrated, a component's dataCode and
validMonths; bad values refuse the file with the attribute's XML name."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.definitions import parse_xml, read_procedure_meta
from engine.errors import ProcedureError

LIBRARY = Path(__file__).resolve().parents[2] / "bpmn"


def _meta(replace: tuple[str, str] | None = None):  # type: ignore[no-untyped-def]
    text = (LIBRARY / "language_centre_operation.bpmn").read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return read_procedure_meta(parse_xml(text.encode("utf-8")))


def test_library_declares_payment_integration_and_reusable_components() -> None:
    meta = _meta()
    assert (meta.fee, meta.payment_integrated) == (1_000_000, True)
    tp2 = next(d for d in meta.documents if d.code == "TP2")
    assert (tp2.data_code, tp2.valid_months) == ("KQ.language_centre_establishment", None)
    diploma = read_procedure_meta(parse_xml((LIBRARY / "diploma_copy.bpmn").read_bytes()))
    assert diploma.result_type == "electronic"
    assert [(d.code, d.data_code, d.valid_months) for d in diploma.documents if d.data_code] == [
        ("TP2", "CCCD", 60)
    ]


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('paymentIntegrated="true"', 'paymentIntegrated="co"', "paymentIntegrated"),
        ('dataCode="KQ.language_centre_establishment"', 'dataCode="có dấu cách"', "dataCode"),
        ('dataCode="KQ.language_centre_establishment"', 'validMonths="0"', "validMonths"),
    ],
)
def test_bad_metadata_is_refused_naming_the_attribute(old: str, new: str, where: str) -> None:
    with pytest.raises(ProcedureError, match=f"thông tin thủ tục không hợp lệ.*{where}"):
        _meta((old, new))
