"""Pure tests of the JSON-Schema → form mapping and of posted values → typed data."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from web.schema_forms import field_errors, fields_from_schema, parse_submission

SCHEMA = {
    "type": "object",
    "properties": {
        "decision": {"type": "string", "enum": ["accept", "refuse"], "x-labels": ["Tiếp nhận", "Từ chối"]},
        "docs": {"type": "array", "items": {"type": "string"}, "x-choices": "documents", "title": "Giấy tờ"},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        "found": {"type": "boolean", "title": "Có trong sổ"},
        "copies": {"type": "integer", "minimum": 1},
        "ratio": {"type": "number"},
        "ref": {"type": "string", "maxLength": 200},
        "note": {"type": "string", "maxLength": 2000},
        "day": {"type": "string", "format": "date"},
        "level": {"type": "string", "enum": ["1", "2", "3", "4", "5"]},
        "approved": {"type": "boolean"},
    },
    "required": ["decision", "approved"],
}
DOCS = [{"code": "TP1", "name": "Đơn"}, {"code": "TP2", "name": "CCCD"}]


def test_widgets_follow_the_schema() -> None:
    fields = {f.name: f for f in fields_from_schema(SCHEMA, DOCS)}
    assert fields["decision"].widget == "radio" and fields["decision"].required
    assert [(o.value, o.label) for o in fields["decision"].options] == [
        ("accept", "Tiếp nhận"),
        ("refuse", "Từ chối"),
    ]
    assert fields["docs"].widget == "checkboxes" and [o.value for o in fields["docs"].options] == [
        "TP1",
        "TP2",
    ]
    assert [o.value for o in fields["tags"].options] == ["a", "b"]
    assert fields["found"].widget == "checkbox" and fields["found"].title == "Có trong sổ"
    assert fields["copies"].widget == "integer" and fields["copies"].minimum == 1
    assert fields["ratio"].widget == "number"
    assert fields["ref"].widget == "text" and fields["ref"].max_length == 200
    assert fields["note"].widget == "textarea"
    assert fields["day"].widget == "date"
    assert fields["level"].widget == "select"
    assert fields["approved"].widget == "yesno" and [o.label for o in fields["approved"].options] == [
        "Có",
        "Không",
    ]
    assert list(fields) == list(SCHEMA["properties"])  # schema order kept
    assert fields_from_schema(None) == []


def test_posted_values_become_typed_data() -> None:
    fields = fields_from_schema(SCHEMA, DOCS)
    form = MultiDict(
        [
            ("decision", "accept"),
            ("docs", "TP1"),
            ("docs", "TP2"),
            ("copies", "3"),
            ("ratio", "0,5"),
            ("ref", "  S1 "),
            ("note", ""),
            ("csrf_token", "x"),
        ]
    )
    data = parse_submission(fields, form)
    assert data == {
        "decision": "accept",
        "docs": ["TP1", "TP2"],
        "tags": [],
        "found": False,
        "copies": 3,
        "ratio": 0.5,
        "ref": "S1",
    }
    assert parse_submission(fields, MultiDict([("copies", "ba"), ("found", "on")]))["copies"] == "ba"


def test_field_errors_from_engine_details() -> None:
    assert field_errors({"fields": [{"field": "a", "message": "m1"}, {"field": "a", "message": "m2"}]}) == {
        "a": "m1"
    }
    assert field_errors(None) == {}
