"""Batched writes that name the row the database refuses (for the imports' repositories).

A batch of inserts or updates goes in one executemany inside a savepoint. When the database
refuses it (a constraint only it knows, a concurrent change), the savepoint is rolled back
and the rows go in one by one, each in its own savepoint, until the refused one is found:
:class:`RowRefused` says which it is. The caller's transaction stays usable, but what the
batch wrote before the refused row is still in it (the caller rolls back).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

Values = list[dict[str, Any]]


class RowRefused(Exception):
    """The database refused ``values[index]`` of a batch, with ``error``."""

    def __init__(self, index: int, error: IntegrityError) -> None:
        super().__init__(f"row {index} of the batch was refused: {error}")
        self.index = index
        self.error = error


def insert_many(session: Session, table: Table, values: Values) -> list[int]:
    """Insert one row of ``table`` per value and return the new ids (see the module
    docstring); raises :class:`RowRefused`.

    The ids come back in no particular order: ordered RETURNING would make SQLAlchemy send
    one statement per row here (no usable sentinel column), and the audit needs the set.
    Core (table) inserts: the ORM's bulk path sends one statement per row for these mappers.
    """
    if not values:
        return []
    stmt = insert(table).returning(table.c.id)
    try:
        with session.begin_nested():
            return list(session.scalars(stmt, values))
    except IntegrityError:
        pass
    ids = []
    for index, value in enumerate(values):
        try:
            with session.begin_nested():
                ids.append(session.scalars(stmt, [value]).one())
        except IntegrityError as exc:
            raise RowRefused(index, exc) from exc
    return ids


def update_many(session: Session, model: Any, values: Values) -> None:
    """Update rows of ``model`` by primary key (each value holds its ``id``) in one
    executemany (see the module docstring); raises :class:`RowRefused`."""
    if not values:
        return
    try:
        with session.begin_nested():
            session.execute(update(model), values)
        return
    except IntegrityError:
        pass
    for index, value in enumerate(values):
        try:
            with session.begin_nested():
                session.execute(update(model), [value])
        except IntegrityError as exc:
            raise RowRefused(index, exc) from exc
