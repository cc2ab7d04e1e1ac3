"""Anka's domain errors: one hierarchy, so an entry point catches ``AnkaError`` and maps it.

Every error carries a *message key* from the catalogue in :mod:`core.i18n` (plus format
arguments) instead of prose, so the dashboard can say it in the user's language.
"""

from __future__ import annotations

from typing import Any


class AnkaError(Exception):
    """Base of every error a user may see; ``key`` names the catalogue message."""

    key = "error.unexpected"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class PermissionDenied(AnkaError):
    """The signed-in user's role does not allow this action."""

    key = "error.permission"


class NotFound(AnkaError):
    """The record does not exist (any more)."""

    key = "error.not_found"


class ValidationFailed(AnkaError):
    """Input was refused; ``field_errors`` maps each field to a message key (and params)."""

    key = "error.validation"

    def __init__(self, field_errors: dict[str, tuple[str, dict[str, Any]]]) -> None:
        super().__init__()
        self.field_errors = field_errors

    @classmethod
    def single(cls, field: str, key: str, **params: Any) -> ValidationFailed:
        """Build an error about one field."""
        return cls({field: (key, params)})


class Conflict(ValidationFailed):
    """A uniqueness rule refused the change (e.g. the e-mail belongs to another client)."""

    key = "error.conflict"


class ServiceUnavailable(AnkaError):
    """A backing service (database, Redis, market data) did not answer."""

    key = "error.unavailable"
