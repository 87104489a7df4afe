"""The citizen identity card number (số Căn cước công dân, 12 digits) and what it says of its holder.

Layout (Circular 07/2016/TT-BCA, kept by Circular 59/2021/TT-BCA): digits 1–3 the province of birth
registration, digit 4 century and gender, digits 5–6 the last two digits of the birth year,
digits 7–12 a serial. Pure: values in, values or :class:`ValidationError` out.

Province codes are those of the 63 provinces the numbers were issued under; numbers already issued
keep them after the 2025 merger of provinces, so the list is not the current administrative map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .errors import ValidationError

PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi",
    "052": "Bình Định", "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận",
    "062": "Kon Tum", "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
    "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang",
    "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu",
    "096": "Cà Mau",
}  # fmt: skip

GENDERS = {"nam": "nam", "nu": "nữ"}


@dataclass(frozen=True)
class CccdFacts:
    """What the number itself says (checked against the date of birth)."""

    number: str
    province_code: str
    province: str
    gender: str  # nam | nu
    century_start: int  # 1900, 2000, ...


def _field_error(message: str) -> ValidationError:
    return ValidationError(message, details={"fields": [{"field": "cccd", "message": message}]})


def parse_cccd(number: str, date_of_birth: date, gender: str | None = None) -> CccdFacts:
    """Check ``number`` against the layout and the holder's date of birth (and gender if known)."""
    text = (number or "").strip().replace(" ", "")
    if len(text) != 12 or not text.isascii() or not text.isdigit():
        raise _field_error(f"Số CCCD phải gồm đúng 12 chữ số (đã nhập '{number}')")
    province_code = text[:3]
    if province_code not in PROVINCE_CODES:
        raise _field_error(
            f"Mã tỉnh '{province_code}' (ba chữ số đầu của số CCCD) không có trong danh mục mã tỉnh"
        )
    digit = int(text[3])
    century_start = 1900 + 100 * (digit // 2)
    holder_gender = "nam" if digit % 2 == 0 else "nu"
    year = date_of_birth.year
    if not century_start <= year < century_start + 100:
        raise _field_error(
            f"Chữ số thứ tư của số CCCD ({digit}) là của người sinh năm {century_start}–"
            f"{century_start + 99}, không khớp với năm sinh {year}"
        )
    if text[4:6] != f"{year % 100:02d}":
        raise _field_error(f"Hai chữ số năm sinh trong số CCCD ({text[4:6]}) không khớp với năm sinh {year}")
    if gender is not None and gender != holder_gender:
        raise _field_error(
            f"Chữ số thứ tư của số CCCD ({digit}) là của người giới tính {GENDERS[holder_gender]}, "
            f"không khớp với giới tính {GENDERS.get(gender, gender)} đã khai"
        )
    return CccdFacts(text, province_code, PROVINCE_CODES[province_code], holder_gender, century_start)


def parse_birth_date(text: str, today: date) -> date:
    """A date of birth given as YYYY-MM-DD, not in the future."""
    try:
        value = date.fromisoformat((text or "").strip())
    except ValueError as exc:
        message = f"Ngày sinh '{text}' không đúng định dạng YYYY-MM-DD"
        raise ValidationError(
            message, details={"fields": [{"field": "date_of_birth", "message": message}]}
        ) from exc
    if value > today:
        message = f"Ngày sinh {value.isoformat()} ở tương lai"
        raise ValidationError(message, details={"fields": [{"field": "date_of_birth", "message": message}]})
    return value
