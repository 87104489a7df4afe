"""The register page (Mẫu 06) shows one page of rows at a time, numbered as in the whole register,
with the total and a link to the next page; its CSV and XLSX downloads stay whole (issue 13)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from engine.clock import FixedClock
from engine.service import Engine
from tests.web.test_auditor import csv_rows, page, run_case, xlsx_rows
from web import auditor

URL = "/auditor/reports/register?from=2026-03-01&to=2026-03-31"


def test_the_register_page_is_cut_in_pages_and_the_downloads_are_whole(
    engine: Engine, clock: FixedClock, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auditor, "REGISTER_PAGE_SIZE", 2)
    codes = [run_case(engine, clock, f"Người nộp {i}", steps=1) for i in range(5)]
    head = as_user("head")
    seen: list[tuple[str, str]] = []  # (STT, code) of every row shown, page after page
    url: str | None = URL
    pages = 0
    while url is not None:
        text = page(head.get(url))
        pages += 1
        seen += re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td>", text)
        assert "trong 5 hồ sơ" in text
        following = re.search(r'href="([^"]+)" id="register-next"', text)
        url = html.unescape(following.group(1)) if following else None
        if following:
            assert "after=" not in re.search(r'href="([^"]+format=csv[^"]*)"', text).group(1)  # type: ignore[union-attr]
    assert pages == 3
    assert seen == [(str(n), code) for n, code in enumerate(codes, start=1)]

    body = [r for r in csv_rows(head.get(URL + "&format=csv").data) if r and r[0].isdigit()]
    assert [r[1] for r in body] == codes
    sheet = xlsx_rows(head.get(URL + "&format=xlsx").data)
    assert [r[1] for r in sheet if r[1] in codes] == codes


def test_a_malformed_page_cursor_is_refused(as_user: Any) -> None:
    response = as_user("head").get(URL + "&after=yesterday&after_code=X")
    assert response.status_code == 422
    assert "Vị trí trang của sổ theo dõi không hợp lệ" in page(response)
