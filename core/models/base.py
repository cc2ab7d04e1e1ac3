"""The declarative base, its naming convention, the column types and the enums every model uses."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    DateTime,
    MetaData,
    Numeric,
    func,
)
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Precision for stored money/quantities: 20 digits, 8 after the point (fractional shares,
# crypto); returns keep 12 decimal places.
Money = Numeric(20, 8)
# A name must have a visible character: trim spaces, tabs, line breaks and no-break spaces.
NAME_NOT_BLANK = "char_length(btrim(name, E' \\t\\n\\r\\u00a0')) "
Ratio = Numeric(24, 12)


class Role(enum.StrEnum):
    """What a signed-in user may do: ``admin`` writes, ``read_only`` only reads."""

    ADMIN = "admin"
    READ_ONLY = "read_only"


class ClientStatus(enum.StrEnum):
    """Whether the advisor still manages the client."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class JobStatus(enum.StrEnum):
    """Outcome of a scheduler job run."""

    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def now_column() -> Any:
    """A timestamp column set by PostgreSQL when the row is inserted (UTC, required)."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
