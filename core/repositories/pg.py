"""The psycopg layer under the repositories that move whole tables: the connection under a
session, one-row array statements through binary loaders, COPY from Arrow-written CSV.

The scheduler's reads and writes run straight on the psycopg connection (no ORM rows, no
data frames): a small book's daily close is mostly fixed costs, a large one's is rows.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import psycopg
import pyarrow as pa
from psycopg import sql
from pyarrow import csv as pa_csv
from sqlalchemy.orm import Session

from core.analytics.returns import Table


def driver(session: Session) -> psycopg.Connection:
    """The psycopg connection under the session's: the scheduler's statements run on it
    directly (no ORM rows, binary arrays), about a fifth of a millisecond less per
    statement than through SQLAlchemy."""
    return session.connection().connection.driver_connection  # type: ignore[return-value]


def fetch_one(
    session: Session, statement: str | sql.Composed, params: Mapping[str, object]
) -> tuple:
    """The one row of ``statement`` (``%(name)s`` placeholders) on the session's connection,
    through psycopg's binary loaders (arrays come back as lists, without Row objects)."""
    with driver(session).cursor(binary=True) as cursor:
        row = cursor.execute(statement, params).fetchone()
    assert row is not None  # aggregates always return one row
    return tuple(row)


def copy_csv(
    session: Session,
    table: str,
    columns: Sequence[str],
    frame: Table,
    constants: Mapping[str, object] | None = None,
) -> int:
    """COPY ``frame`` (a data frame or a mapping of equal-length arrays; ``columns`` in
    that order) into ``table``, with ``constants`` as columns holding one value on every
    row; returns rows written."""
    arrays = [pa.array(np.asarray(frame[column]), from_pandas=True) for column in columns]
    rows = len(arrays[0]) if arrays else 0
    if not rows:
        return 0
    # Arrow's C++ CSV writer formats floats and dates far faster than pandas.to_csv; None
    # and NaN become empty fields, which COPY reads as NULL.
    names = list(columns)
    for name, value in (constants or {}).items():
        arrays.append(pa.array([value] * rows))
        names.append(name)
    buffer = io.BytesIO()
    pa_csv.write_csv(
        pa.Table.from_arrays(arrays, names=names),
        buffer,
        pa_csv.WriteOptions(include_header=False, quoting_style="none"),
    )
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"
    with driver(session).cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())
    return rows


def epoch_days(days: object) -> np.ndarray:
    """Dates sent as days since 1970-01-01 (``date - DATE '1970-01-01'``, a plain integer in
    a binary array) as datetime64[D]."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")


def array_literal(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of values whose text never needs quoting (integers,
    decimals, ISO dates). psycopg dumps a Python list element by element, about 3 µs each:
    a five-year backfill upserts 630,000 closes of three columns."""
    return "{" + ",".join(map(str, values)) + "}"
