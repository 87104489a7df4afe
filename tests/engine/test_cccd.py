"""CCCD layout checks (pure): each rule has a number that passes and one that breaks it."""

from __future__ import annotations

from datetime import date

import pytest

from engine.cccd import PROVINCE_CODES, parse_birth_date, parse_cccd
from engine.errors import ValidationError


def test_a_valid_number_says_province_gender_and_century() -> None:
    facts = parse_cccd("001090012345", date(1990, 5, 12))
    assert (facts.province, facts.gender, facts.century_start) == ("Hà Nội", "nam", 1900)
    facts = parse_cccd("079 303 000777", date(2003, 1, 21))
    assert (facts.number, facts.province, facts.gender, facts.century_start) == (
        "079303000777",
        "Hồ Chí Minh",
        "nu",
        2000,
    )


@pytest.mark.parametrize(
    "number", ["00109001234", "0010900123456", "00109001234a", "", "００１０９００１２３４５"]
)
def test_not_twelve_digits(number: str) -> None:
    with pytest.raises(ValidationError, match="phải gồm đúng 12 chữ số"):
        parse_cccd(number, date(1990, 5, 12))


def test_unknown_province_code() -> None:
    assert "003" not in PROVINCE_CODES and len(PROVINCE_CODES) == 63
    with pytest.raises(ValidationError, match="Mã tỉnh '003'"):
        parse_cccd("003090012345", date(1990, 5, 12))


def test_century_digit_must_match_the_birth_year() -> None:
    with pytest.raises(ValidationError, match=r"Chữ số thứ tư của số CCCD \(2\).*năm sinh 1990"):
        parse_cccd("001290012345", date(1990, 5, 12))


def test_year_digits_must_match_the_birth_year() -> None:
    with pytest.raises(ValidationError, match=r"Hai chữ số năm sinh trong số CCCD \(91\).*1990"):
        parse_cccd("001091012345", date(1990, 5, 12))


def test_gender_digit_must_match_a_declared_gender() -> None:
    parse_cccd("031185004321", date(1985, 11, 3), gender="nu")
    with pytest.raises(ValidationError, match="giới tính nữ, không khớp với giới tính nam"):
        parse_cccd("031185004321", date(1985, 11, 3), gender="nam")


def test_birth_date_format_and_future() -> None:
    assert parse_birth_date("1990-05-12", date(2026, 3, 2)) == date(1990, 5, 12)
    with pytest.raises(ValidationError, match="không đúng định dạng YYYY-MM-DD"):
        parse_birth_date("12/05/1990", date(2026, 3, 2))
    with pytest.raises(ValidationError, match="ở tương lai"):
        parse_birth_date("2026-03-03", date(2026, 3, 2))
