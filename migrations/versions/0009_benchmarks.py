"""Benchmark values: CDI, Selic, IPCA (Banco Central SGS) and Ibovespa, IFIX (market data).

One row per series and date (``PK(series, date)``). ``value`` is what the source published,
unrounded: a rate as its published percent (CDI and Selic per day, IPCA per month, the
month's row dated on its first day), an index as its close. Rates may be negative (a month
of deflation), closes may not (see docs/benchmarks.md). ``source`` says where it came from:
``bcb`` (the SGS API), ``yahoo`` or ``demo`` (synthetic, offline).

Going back drops the table: the values are market data that the scheduler fetches again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "series": "char_length(series) BETWEEN 1 AND 32",
    "source": "source IN ('bcb', 'yahoo', 'demo')",
}


def upgrade() -> None:
    op.create_table(
        "benchmark_values",
        sa.Column("series", sa.String(32), primary_key=True),
        sa.Column("date", sa.Date(), primary_key=True),
        sa.Column("value", sa.Numeric(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column(
            "fetched_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        *(sa.CheckConstraint(c, name=n) for n, c in CHECKS.items()),
    )


def downgrade() -> None:
    op.drop_table("benchmark_values")
