"""Presentation helpers shared by pages: the open task a user may work on, print-form contents.

The printed forms (Mẫu 01–05) are read from the case view and its event history, never stored
separately, so a reprint always says exactly what the register says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import session

from engine import access
from engine.access import Routing
from engine.service import CaseView, EventView, ProcedureView, TaskView
from engine.users import Actor

from .schema_forms import FormField, fields_from_schema

ISSUED_SECRETS_KEY = "issued_secrets"
MAX_REMEMBERED_SECRETS = 20


def workable_task(case: CaseView, actor: Actor | None, role: str | None = None) -> TaskView | None:
    """The first open task of ``case`` the actor may work (its role and unit; optionally only ``role``)."""
    if actor is None:
        return None
    for task in case.tasks:
        if (
            task.role
            and (role is None or task.role == role)
            and access.step_decision(actor, Routing(task.role, task.unit))
        ):
            return task
    return None


def task_fields(task: TaskView | None, procedure: ProcedureView | None) -> list[FormField]:
    documents = list((procedure.meta.get("documents") if procedure else None) or [])
    return fields_from_schema(task.form if task else None, documents)


def prefill(case: CaseView, fields: list[FormField]) -> dict[str, Any]:
    """Current dossier data for the form's fields (a step revisited after a loop shows what was there)."""
    return {f.name: case.data[f.name] for f in fields if f.name in case.data}


def remember_secret(code: str, secret: str) -> None:
    """Keep a counter dossier's lookup secret in the clerk's session until the receipt is printed.

    The engine stores only its digest; the receipt (Mẫu 01) is the one place it is printed.
    """
    secrets = dict(session.get(ISSUED_SECRETS_KEY) or {})
    secrets[code] = secret
    while len(secrets) > MAX_REMEMBERED_SECRETS:
        secrets.pop(next(iter(secrets)))
    session[ISSUED_SECRETS_KEY] = secrets


def issued_secret(code: str) -> str | None:
    value = (session.get(ISSUED_SECRETS_KEY) or {}).get(code)
    return str(value) if value else None


def last_decision(events: list[EventView], decision: str) -> EventView | None:
    """The latest completed step whose data carries ``decision`` (the receipt decision)."""
    for event in reversed(events):
        data = event.payload.get("data") if event.kind == "task_completed" else None
        if isinstance(data, Mapping) and data.get("decision") == decision:
            return event
    return None


def supplement_request(events: list[EventView]) -> EventView | None:
    """The step completion that sent the dossier to the citizen for supplementation (status 5):
    the desk's receipt decision or a department's request during processing (Mẫu 02 either way)."""
    last_to_5 = next((e for e in reversed(events) if e.kind == "status_changed" and e.status_to == 5), None)
    if last_to_5 is None:
        return None
    return next((e for e in reversed(events) if e.kind == "task_completed" and e.seq < last_to_5.seq), None)


def supplement_reason(data: Mapping[str, Any]) -> str:
    """Forms name the explanation differently (reason at the desk, report during appraisal)."""
    for key in ("reason", "supplement_reason", "report", "comment", "note"):
        if data.get(key):
            return str(data[key])
    return ""


def last_event(events: list[EventView], kind: str) -> EventView | None:
    for event in reversed(events):
        if event.kind == kind:
            return event
    return None


def document_rows(procedure: ProcedureView, checked: list[str] | None) -> list[dict[str, Any]]:
    marked = set(checked or [])
    return [{**d, "checked": d.get("code") in marked} for d in (procedure.meta.get("documents") or [])]


def readable_data(
    data: Mapping[str, Any], labels: Mapping[str, Any], documents: list[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """(title, value) pairs of the dossier data in the words of its forms: Có/Không, choice labels,
    document codes with their names."""
    doc_names = {str(d.get("code")): str(d.get("name", "")) for d in documents}
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        label = labels.get(key)
        title = label.title if label is not None else key
        choices: Mapping[str, str] = label.labels if label is not None else {}

        def word(v: Any, choices: Mapping[str, str] = choices) -> str:
            if v is True:
                return "Có"
            if v is False:
                return "Không"
            text = str(v)
            return choices.get(text) or (f"{text} — {doc_names[text]}" if text in doc_names else text)

        if isinstance(value, list):
            rows.append((title, "; ".join(word(v) for v in value) or "—"))
        else:
            rows.append((title, word(value)))
    return rows
