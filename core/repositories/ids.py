"""Comparing an id column with an id from outside (a URL, a caller).

PostgreSQL refuses a statement comparing an ``integer`` column with a value past 2^31
("integer out of range", a :class:`sqlalchemy.exc.DataError`), and a ``bigint`` one past
2^63. No row can have such an id, so a lookup of one is simply a lookup of an unknown id:
:func:`id_is` says so without asking the database to cast it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, SmallInteger, false
from sqlalchemy.orm import InstrumentedAttribute


def holds(column: InstrumentedAttribute[Any], value: int) -> bool:
    """Whether ``column``'s integer type (smallint, integer or bigint) can hold ``value``."""
    kind = column.type
    bits = 63 if isinstance(kind, BigInteger) else 15 if isinstance(kind, SmallInteger) else 31
    return -(2**bits) <= value < 2**bits


def id_is(column: InstrumentedAttribute[Any], value: int) -> ColumnElement[bool]:
    """``column = value``; FALSE (no row) when the column's type cannot hold ``value``."""
    return column == value if holds(column, value) else false()
