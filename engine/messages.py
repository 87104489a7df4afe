"""pydantic's input errors said in Vietnamese, with the field's title, for the person who typed them.

pydantic's own messages ("Field required", "String should match pattern …") are English and name
fields by their path; people filling a form need "Điện thoại: số điện thoại không hợp lệ".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

FIELD_TITLES = {
    "procedure_id": "Thủ tục",
    "channel": "Hình thức nộp",
    "applicant": "Người nộp",
    "applicant.name": "Họ và tên",
    "applicant.type": "Đối tượng",
    "applicant.id_number": "Số CCCD / mã số",
    "applicant.phone": "Điện thoại",
    "applicant.email": "Thư điện tử",
    "applicant.address": "Địa chỉ",
}
_PATTERN_MESSAGES = {"applicant.email": "thư điện tử không hợp lệ"}


def vietnamese(err: Mapping[str, Any], field: str) -> str:
    """pydantic's English messages, said in Vietnamese for the person who filled the form."""
    kind, ctx = str(err.get("type", "")), err.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "bắt buộc"
    if kind == "string_too_short":
        return f"tối thiểu {ctx.get('min_length')} ký tự"
    if kind == "string_too_long":
        return f"tối đa {ctx.get('max_length')} ký tự"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(field, "sai định dạng")
    if kind == "value_error":
        return str(ctx.get("error") or err.get("msg", "không hợp lệ"))
    if kind == "extra_forbidden":
        return "trường không được phép"
    if kind in ("literal_error", "enum"):
        return "giá trị không nằm trong danh sách cho phép"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "sai kiểu dữ liệu"
    return "không hợp lệ"


def input_problems(exc: PydanticValidationError) -> list[dict[str, str]]:
    """``[{field, title, message}]``, one per error, in Vietnamese."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        title = FIELD_TITLES.get(field) or FIELD_TITLES.get(field.split(".", 1)[-1]) or field
        problems.append({"field": field, "title": title, "message": vietnamese(dict(err), field)})
    return problems
