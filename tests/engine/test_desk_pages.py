"""The desk queue pages by keyset (each page after the last row of the one before) and searches in
SQL through each dossier's folded code, applicant name and CCCD."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import FixedClock
from engine.errors import ValidationError
from engine.service import Engine


def _open(engine: Engine, clock: FixedClock, names: list[tuple[str, int, str | None]]) -> list[str]:
    codes = []
    for n, (name, channel, cccd) in enumerate(names):
        if n % 3 == 2:
            clock.advance(timedelta(minutes=7))  # equal times between some, so the id breaks ties
        applicant = {"name": name, **({"id_number": cccd} if cccd else {})}
        case = engine.start_case(
            {"procedure_id": "diploma_copy", "channel": channel, "applicant": applicant},
            engine.actor("citizen"),
        )
        codes.append(case.code)
    return codes


NAMES = [
    ("Nguyễn Văn Đức", 2, "048090001234"),
    ("Trần Thị Bé", 1, None),
    ("Lê 100% Hoa", 2, None),
    ("Phạm Văn_An", 1, "001100"),
    ("Đỗ Thị Đào", 2, None),
    ("Nguyễn Thị Én", 1, None),
    ("Võ Văn Tám", 2, "079000000008"),
]


def test_pages_cover_the_whole_queue_in_order_once(engine: Engine, clock: FixedClock) -> None:
    _open(engine, clock, NAMES)
    everything = engine.desk_page(1, limit=500)
    assert everything.total == len(everything.rows) == 7 and everything.next_after is None
    # Online dossiers (with a receipt deadline) first, each part in its own order.
    assert [r.channel for r in everything.rows] == [2, 2, 2, 2, 1, 1, 1]
    assert everything.rows == engine.desk_queue(1)
    seen, after, pages = [], None, 0
    while True:
        page = engine.desk_page(1, after=after, limit=2)
        pages += 1
        assert page.total == 7 and len(page.rows) <= 2
        seen += [r.code for r in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == 4 and seen == [r.code for r in everything.rows]
    # A page that ends exactly at the queue's end has no next page.
    assert engine.desk_page(1, limit=7).next_after is None


def test_search_runs_over_the_whole_queue_not_only_its_first_page(engine: Engine, clock: FixedClock) -> None:
    codes = _open(engine, clock, NAMES)
    for query, expected in (
        ("nguyen", {codes[0], codes[5]}),
        ("NGUYỄN VĂN đức", {codes[0]}),
        ("001234", {codes[0]}),
        ("0011", {codes[3]}),  # a CCCD, not the dossier code's digits alone
        (codes[6].lower(), {codes[6]}),
        ("100%", {codes[2]}),  # % and _ are text, not wildcards
        ("van_", {codes[3]}),
        ("%", {codes[2]}),
        ("đao", {codes[4]}),
        ("không có ai", set()),
        ("duc\nnguyen", set()),
    ):
        page = engine.desk_page(1, query, limit=1)
        found = {r.code for r in page.rows}
        after = page.next_after
        while after is not None:
            more = engine.desk_page(1, query, after=after, limit=1)
            found |= {r.code for r in more.rows}
            after = more.next_after
        assert found == expected and page.total == len(expected), query
    # "Đức" then the separator-free next field: a search never matches across two fields.
    assert engine.desk_page(1, "duc 0480").rows == []


def test_a_forged_cursor_is_refused(engine: Engine, clock: FixedClock) -> None:
    _open(engine, clock, NAMES[:2])
    for cursor in ("!!", "bm90IGEgY3Vyc29y", "fHx4"):
        with pytest.raises(ValidationError) as refused:
            engine.desk_page(1, after=cursor)
        assert "Vị trí trang không hợp lệ" in str(refused.value)


def test_a_sections_total_is_summed_from_the_status_counts(engine: Engine, clock: FixedClock) -> None:
    """The total counts no case row (at 1M dossiers a section held 85k of them): it sums the
    board's status count rows, whose number does not grow with the dossiers."""
    from sqlalchemy import event

    _open(engine, clock, NAMES)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()).lower())

    event.listen(engine.db.engine, "before_cursor_execute", seen)
    try:
        assert engine.desk_page(1).total == len(NAMES)
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", seen)
    assert not [s for s in statements if "count(" in s and "from cases" in s], statements
    assert [s for s in statements if "sum(board_counts.n)" in s and "from board_counts" in s]
