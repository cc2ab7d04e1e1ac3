"""Writing an import's rows in batched statements, naming the row the database refuses.

Shared by every import kind (:mod:`core.services.imports`): inserts and client updates go in
one executemany inside a savepoint; when the database refuses the batch (a constraint only
it knows, a concurrent change), the rows go in one by one to name the row it refuses, which
raises :class:`core.imports.report.ImportRejected` (the caller's transaction rolls back).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from core.db import UnitOfWork
from core.imports.report import ImportRejected, ImportReport, RowResult
from core.models import Client
from core.services.integrity import translate_integrity_error


def refused_by_database(
    report: ImportReport, row: RowResult, exc: IntegrityError
) -> ImportRejected:
    error = translate_integrity_error(exc)
    for field_name, (key, params) in getattr(error, "field_errors", {}).items():
        row.refuse(key, None if field_name == "__root__" else field_name, **params)
    if row.valid:  # a generic refusal
        row.refuse(error.key, None, **error.params)
    return ImportRejected(report)


def as_json(value: Any) -> Any:
    """A date as ISO text (for the audit entry); anything else as it is."""
    return value.isoformat() if isinstance(value, date) else value


def insert_rows(
    uow: UnitOfWork, report: ImportReport, model: Any, rows: list[RowResult], values: list[dict]
) -> list[int]:
    """Insert one row per value in batched statements and return the new ids.

    The ids come back in no particular order: ordered RETURNING would make SQLAlchemy send
    one statement per row here (no usable sentinel column), and the audit needs the set.

    When the database refuses the batch (a constraint only it knows, a concurrent change),
    the batch's savepoint is rolled back and the rows go in one by one to name the row it
    refuses; that raises :class:`ImportRejected`, and the caller's transaction rolls back.
    """
    if not values:
        return []
    # Core (table) insert: the ORM's bulk path sends one statement per row for this mapper.
    table = model.__table__
    stmt = insert(table).returning(table.c.id)
    try:
        with uow.session.begin_nested():
            return list(uow.session.scalars(stmt, values))
    except IntegrityError:
        pass
    ids = []
    for row, value in zip(rows, values, strict=True):
        try:
            with uow.session.begin_nested():
                ids.append(uow.session.scalars(stmt, [value]).one())
        except IntegrityError as exc:
            raise refused_by_database(report, row, exc) from exc
    return ids


def update_clients(
    uow: UnitOfWork, report: ImportReport, rows: list[RowResult], values: list[dict]
) -> None:
    """Update clients by primary key in one executemany; on a refusal, one by one (as
    :func:`insert_rows`) to name the row."""
    if not values:
        return
    try:
        with uow.session.begin_nested():
            uow.session.execute(update(Client), values)
        return
    except IntegrityError:
        pass
    for row, value in zip(rows, values, strict=True):
        try:
            with uow.session.begin_nested():
                uow.session.execute(update(Client), [value])
        except IntegrityError as exc:
            raise refused_by_database(report, row, exc) from exc
