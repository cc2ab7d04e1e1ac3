"""What an import found: the file's facts, file-level problems, and one result per row.

Reasons are catalogue message keys with params (see :mod:`core.i18n`), each tied to the
column (field) it is about when there is one, so a page says them in the user's language.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from core.errors import AnkaError

Kind = Literal["clients", "allocations", "movements"]
KINDS: tuple[Kind, ...] = ("clients", "allocations", "movements")
Action = Literal["create", "update", "unchanged"]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a row (or the file) is refused: a message key, its params, and the field."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    field: str | None = None


@dataclass(slots=True)
class RowResult:
    """One data row: its number as the spreadsheet shows it, what was read, what is wrong.

    ``raw`` holds the cells as text (what the user typed), ``values`` the parsed values
    of the fields that passed validation; ``action`` says what a commit would do. A row
    of clients that matches a stored client names it in ``matched`` (``name · e-mail``) and
    keeps, in ``previous``, the stored values of the fields the import would change.
    """

    row: int
    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)
    action: Action | None = None
    matched: str | None = None
    previous: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when nothing is wrong with the row."""
        return not self.reasons

    def refuse(self, key: str, field_name: str | None = None, **params: Any) -> None:
        """Add a reason (once per field: the first problem with a cell is the one shown)."""
        if field_name is not None and any(r.field == field_name for r in self.reasons):
            return
        self.reasons.append(Reason(key, params, field_name))


@dataclass(slots=True)
class ImportReport:
    """The preview of an import (and, after a commit, what it did)."""

    kind: Kind
    file_name: str
    sha256: str = ""
    file_format: str | None = None  # "csv" or "xlsx"
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only
    columns: list[str] = field(default_factory=list)  # fields, in the file's order
    file_errors: list[Reason] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was read and every row is valid (a commit may proceed)."""
        return not self.file_errors and bool(self.rows) and all(r.valid for r in self.rows)

    @property
    def valid_count(self) -> int:
        """How many rows are valid."""
        return sum(1 for r in self.rows if r.valid)

    @property
    def invalid_count(self) -> int:
        """How many rows are refused."""
        return len(self.rows) - self.valid_count

    def actions(self) -> dict[str, int]:
        """How many valid rows would be created, updated or left unchanged."""
        counts = Counter(r.action for r in self.rows if r.valid and r.action)
        return {action: counts.get(action, 0) for action in ("create", "update", "unchanged")}


class ImportRejected(AnkaError):
    """A commit found invalid rows (or the file unreadable): nothing was stored."""

    key = "import.rejected"

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What a committed import did."""

    kind: Kind
    rows: int
    created: int
    updated: int
    unchanged: int
    audit_entity_id: str
