"""Naming the row of an import that the database refuses while it is written.

Every import kind (:mod:`core.services.imports`) writes its rows through a repository's
batched method (``uow.clients.insert_many``, ``uow.clients.update_many``,
``uow.movements.insert_many``): one executemany inside a savepoint, then, when the database
refuses the batch (a constraint only it knows, a concurrent change), one row at a time to
find the refused one (:mod:`core.repositories.batches`). :func:`naming_refused_row` turns
that refusal into the row's reasons in the report and raises
:class:`core.imports.report.ImportRejected` (the caller's transaction rolls back).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError

from core.imports.report import ImportRejected, ImportReport, RowResult
from core.repositories.batches import RowRefused
from core.services.integrity import translate_integrity_error


def refused_by_database(
    report: ImportReport, row: RowResult, exc: IntegrityError
) -> ImportRejected:
    """Mark ``row`` refused with what the database said (a field's message when the
    constraint names one) and return the rejection to raise with ``report``."""
    error = translate_integrity_error(exc)
    for field_name, (key, params) in getattr(error, "field_errors", {}).items():
        row.refuse(key, None if field_name == "__root__" else field_name, **params)
    if row.valid:  # a generic refusal
        row.refuse(error.key, None, **error.params)
    return ImportRejected(report)


@contextmanager
def naming_refused_row(report: ImportReport, rows: list[RowResult]) -> Iterator[None]:
    """Around a batched write of one value per row of ``rows`` (in that order): a row the
    database refuses is marked in ``report`` and :class:`ImportRejected` is raised."""
    try:
        yield
    except RowRefused as refused:
        row = rows[refused.index]
        raise refused_by_database(report, row, refused.error) from refused.error


def as_json(value: Any) -> Any:
    """A date as ISO text (for the audit entry); anything else as it is."""
    return value.isoformat() if isinstance(value, date) else value
