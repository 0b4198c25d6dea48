"""Errors the engine raises; every entry point maps them to a response in Chinese."""

from __future__ import annotations


class EngineError(Exception):
    """Base class: `code` is stable for clients, the message is shown to staff."""

    code = "engine_error"

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotFound(EngineError):
    code = "not_found"


class Conflict(EngineError):
    """The instance changed since the caller read it (stale version) or the task is no longer open."""

    code = "conflict"


class InvalidData(EngineError):
    code = "invalid_data"


class DeploymentRejected(EngineError):
    code = "invalid_bpmn"


class DuplicateTicket(EngineError):
    """The ticket number exists with different content."""

    code = "duplicate_ticket"


class Forbidden(EngineError):
    code = "forbidden"


class WorkflowFailed(EngineError):
    """A script or expression in the diagram failed; nothing was written."""

    code = "workflow_error"
