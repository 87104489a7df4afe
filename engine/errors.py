"""Exception hierarchy of the engine.

Every error the engine raises on purpose derives from :class:`MotcuaError`, so the web layer can map
them to HTTP answers in one place. ``message`` is Vietnamese (shown to users); ``code`` is a stable
English identifier for API clients.
"""

from __future__ import annotations

from typing import Any


class MotcuaError(Exception):
    """Root of all deliberate engine errors."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationError(MotcuaError):
    """Input does not satisfy a schema, a form or a business rule; nothing was changed."""

    code = "validation_error"
    http_status = 422


class NotFound(MotcuaError):
    """The case, task, procedure or user does not exist."""

    code = "not_found"
    http_status = 404


class ConflictError(MotcuaError):
    """Someone else changed the case first (optimistic concurrency) or the task is no longer open."""

    code = "conflict"
    http_status = 409


class Busy(ConflictError):
    """Another process is doing the same background chore (a seal, a compaction) right now: it does
    the work, this one skips and looks again on its next pass (engine.locks)."""

    code = "busy"


class Forbidden(MotcuaError):
    """The actor's role or unit does not allow the operation."""

    code = "forbidden"
    http_status = 403


class SlaViolation(MotcuaError):
    """The operation would break a statutory time rule (e.g. continuing a late case without apology)."""

    code = "sla_violation"
    http_status = 409


class ProcedureError(MotcuaError):
    """A procedure definition (BPMN + metadata) is invalid or cannot be deployed."""

    code = "procedure_error"
    http_status = 422


class UnsafeXmlError(ProcedureError):
    """Uploaded XML was rejected by the hardened parser (DTD, entities, size, syntax)."""

    code = "unsafe_xml"


class SandboxError(MotcuaError):
    """An expression or script was rejected or stopped by the sandbox."""

    code = "sandbox_error"
    http_status = 422
