"""The live poller's latest quotes in PostgreSQL: ``latest_quotes``.

One row per ticker (the poller's last good answer: price, previous close, currency, market
time, when it was fetched and from which adapter). Redis stays the live-quote channel; this
is the copy dashboards read while Redis is down, so they never ask the market-data source
once per open page.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(20, 8)
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "latest_quotes",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("previous_close", MONEY),
        sa.Column("currency", sa.String(8)),
        sa.Column("market_time", TIMESTAMP),
        sa.Column("fetched_at", TIMESTAMP, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name=op.f("pk_latest_quotes")),
        sa.CheckConstraint("price > 0", name=op.f("ck_latest_quotes_price_positive")),
        sa.CheckConstraint(
            "symbol = upper(symbol) AND char_length(symbol) >= 1",
            name=op.f("ck_latest_quotes_symbol"),
        ),
    )


def downgrade() -> None:
    op.drop_table("latest_quotes")
