"""Task forms rendered from the step's JSON Schema, and posted values turned back into typed data.

The schema in the BPMN is the only definition of a form: the page renders its ``properties`` and the
engine validates the result against the same schema, so the two can never drift apart. Parsing here
only converts types (checkbox → bool, "3" → 3); it never decides validity — a value that does not
convert is passed on unchanged so the engine reports it with the field's Vietnamese title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from werkzeug.datastructures import MultiDict

Widget = Literal[
    "text", "textarea", "number", "integer", "checkbox", "yesno", "radio", "select", "checkboxes", "date"
]
LONG_TEXT = 300  # strings allowed to be longer than this get a textarea


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    name: str
    title: str
    widget: Widget
    required: bool = False
    options: tuple[Option, ...] = ()
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


YES_NO = (Option("true", "Có"), Option("false", "Không"))


def _options(spec: Mapping[str, Any], documents: Sequence[Mapping[str, Any]]) -> tuple[Option, ...]:
    if spec.get("x-choices") == "documents":
        return tuple(Option(str(d["code"]), f"{d['code']} — {d.get('name', '')}") for d in documents)
    values = spec.get("enum") or []
    labels = spec.get("x-labels") or []
    return tuple(Option(str(v), str(labels[i]) if i < len(labels) else str(v)) for i, v in enumerate(values))


def fields_from_schema(
    schema: Mapping[str, Any] | None, documents: Sequence[Mapping[str, Any]] = ()
) -> list[FormField]:
    """One field per top-level property, in schema order, with a widget chosen from its type."""
    if not schema:
        return []
    required = set(schema.get("required") or [])
    result: list[FormField] = []
    for name, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, Mapping):
            continue
        kind = spec.get("type")
        title = str(spec.get("title") or name)
        common: dict[str, Any] = {
            "name": name,
            "title": title,
            "required": name in required,
            "description": spec.get("description"),
        }
        if kind == "boolean":
            # A required yes/no decides a branch (found? approved?): an explicit Có/Không pair, so a
            # forgotten click is "required" instead of a silent "no". Optional flags stay checkboxes.
            widget = "yesno" if common["required"] else "checkbox"
            result.append(FormField(widget=widget, options=YES_NO if widget == "yesno" else (), **common))
        elif kind == "array":
            items = spec.get("items") or {}
            options = _options(spec, documents) or _options(items, documents)
            # "x-check-all": a button that ticks every box ("Đủ tất cả" for a complete dossier).
            extra = {"check_all": str(spec["x-check-all"])} if spec.get("x-check-all") else {}
            result.append(FormField(widget="checkboxes", options=options, extra=extra, **common))
        elif "enum" in spec:
            options = _options(spec, documents)
            widget: Widget = "radio" if len(options) <= 4 else "select"
            result.append(FormField(widget=widget, options=options, **common))
        elif kind in ("integer", "number"):
            result.append(
                FormField(
                    widget="integer" if kind == "integer" else "number",
                    minimum=spec.get("minimum"),
                    maximum=spec.get("maximum"),
                    **common,
                )
            )
        elif kind == "string" and spec.get("format") == "date":
            result.append(FormField(widget="date", extra={"spec": dict(spec)}, **common))
        elif kind == "string":
            max_length = spec.get("maxLength")
            widget = "textarea" if max_length is None or max_length > LONG_TEXT else "text"
            result.append(FormField(widget=widget, max_length=max_length, **common))
    return result


def _number(raw: str, kind: Widget) -> Any:
    try:
        return int(raw) if kind == "integer" else float(raw.replace(",", "."))
    except ValueError:
        return raw  # the engine reports "sai kiểu dữ liệu" with the field's title


def parse_submission(fields: Sequence[FormField], form: MultiDict[str, str]) -> dict[str, Any]:
    """Typed data for the engine from posted form values; empty inputs are left out (→ "required")."""
    data: dict[str, Any] = {}
    for f in fields:
        if f.widget == "checkbox":
            data[f.name] = form.get(f.name) in ("on", "true", "1", "yes")
        elif f.widget == "yesno":
            raw = form.get(f.name)
            if raw in ("true", "false"):
                data[f.name] = raw == "true"
        elif f.widget == "checkboxes":
            data[f.name] = [v for v in form.getlist(f.name) if v]
        else:
            raw = (form.get(f.name) or "").strip()
            if not raw:
                continue
            data[f.name] = _number(raw, f.widget) if f.widget in ("integer", "number") else raw
    return data


def field_errors(details: Mapping[str, Any] | None) -> dict[str, str]:
    """``{field: message}`` from an engine ``ValidationError``'s details, for inline display."""
    errors: dict[str, str] = {}
    for problem in (details or {}).get("fields", []) or []:
        name = str(problem.get("field", ""))
        errors.setdefault(name, str(problem.get("message", "")))
    return errors
