"""The client ledger: allocations become buys in ``movements``; asset events; flows in and out.

Every allocation becomes a buy, with its id, client, asset, quantity, price (the buy price),
date (the buy date) and times: the table is renamed and gains the columns a ledger needs
(``kind``: buy, sell or income; ``fees``; for income typed by hand ``income_type``, ``amount``
and ``tax``), so nothing is copied and nothing can be lost. ``asset_events`` holds each
asset's splits, bonus shares and income per share, from market data or an admin.
``daily_returns`` gains the money in (``flow_in``: buys, fees included) and out (``flow_out``:
sells net of fees and income net of tax) of each day, and the income part of the money out;
``net_flow`` (money in) is dropped: an existing row's money in moves to ``flow_in``.

Going back is possible while every movement is a plain buy (no fees) and no event exists:
the buys become allocations again. Otherwise the downgrade refuses, rather than losing
sells, income or events.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(20, 8)
RATIO = sa.Numeric(24, 12)
TIMESTAMP = sa.DateTime(timezone=True)
TODAY = "(now() AT TIME ZONE 'America/Sao_Paulo')::date"
INCOME_TYPES = "('dividend', 'jcp', 'rendimento', 'amortizacao')"
EVENT_KINDS = "('split', 'bonus', 'dividend', 'jcp', 'rendimento', 'amortizacao')"

MOVEMENT_CHECKS = {
    "kind": "kind IN ('buy', 'sell', 'income')",
    "quantity": "(kind = 'income' AND quantity = 0) OR (kind <> 'income' AND quantity > 0)",
    "price": "(kind = 'income' AND price = 0) OR (kind <> 'income' AND price > 0)",
    "fees": "fees >= 0 AND (kind <> 'income' OR fees = 0)",
    "income": (
        "(kind = 'income' AND income_type IN " + INCOME_TYPES + " AND amount > 0 "
        "AND tax >= 0 AND tax <= amount) "
        "OR (kind <> 'income' AND income_type IS NULL AND amount = 0 AND tax = 0)"
    ),
    "date_past": f"date <= {TODAY}",
}
EVENT_CHECKS = {
    "kind": "kind IN " + EVENT_KINDS,
    "ratio": (
        "(kind = 'split' AND ratio > 0 AND ratio <> 1) OR (kind = 'bonus' AND ratio > 0) "
        "OR (kind NOT IN ('split', 'bonus') AND ratio >= 0 AND ratio < 1)"
    ),
    "value": (
        "(kind = 'split' AND value = 0) OR (kind = 'bonus' AND value >= 0) "
        "OR (kind NOT IN ('split', 'bonus') AND value > 0)"
    ),
    "source": "source IN ('yahoo', 'demo', 'admin')",
}


def upgrade() -> None:
    op.rename_table("allocations", "movements")
    op.execute("ALTER SEQUENCE allocations_id_seq RENAME TO movements_id_seq")
    op.execute("ALTER INDEX pk_allocations RENAME TO pk_movements")
    op.execute("ALTER INDEX ix_allocations_client_id RENAME TO ix_movements_client_id")
    op.execute("ALTER INDEX ix_allocations_asset_id RENAME TO ix_movements_asset_id")
    for old, new in (
        ("fk_allocations_client_id_clients", "fk_movements_client_id_clients"),
        ("fk_allocations_asset_id_assets", "fk_movements_asset_id_assets"),
    ):
        op.execute(f"ALTER TABLE movements RENAME CONSTRAINT {old} TO {new}")
    for name in ("quantity_positive", "buy_price_positive", "buy_date_past"):
        op.execute(f"ALTER TABLE movements DROP CONSTRAINT ck_allocations_{name}")
    op.alter_column("movements", "buy_price", new_column_name="price")
    op.alter_column("movements", "buy_date", new_column_name="date")
    op.add_column(
        "movements", sa.Column("kind", sa.String(16), nullable=False, server_default="buy")
    )
    op.add_column("movements", sa.Column("fees", MONEY, nullable=False, server_default="0"))
    op.add_column("movements", sa.Column("income_type", sa.String(16)))
    op.add_column("movements", sa.Column("amount", MONEY, nullable=False, server_default="0"))
    op.add_column("movements", sa.Column("tax", MONEY, nullable=False, server_default="0"))
    for name, condition in MOVEMENT_CHECKS.items():
        op.create_check_constraint(name, "movements", condition)

    op.create_table(
        "asset_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "asset_id",
            sa.Integer(),
            sa.ForeignKey("assets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ex_date", sa.Date(), nullable=False),
        sa.Column("ratio", RATIO, nullable=False, server_default="0"),
        sa.Column("value", MONEY, nullable=False, server_default="0"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("dismissed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("corrected", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        *(sa.CheckConstraint(c, name=n) for n, c in EVENT_CHECKS.items()),
        sa.UniqueConstraint("asset_id", "kind", "ex_date"),
    )

    op.add_column("daily_returns", sa.Column("flow_in", MONEY, nullable=False, server_default="0"))
    op.add_column("daily_returns", sa.Column("flow_out", MONEY, nullable=False, server_default="0"))
    op.add_column("daily_returns", sa.Column("income", MONEY, nullable=False, server_default="0"))
    op.execute("UPDATE daily_returns SET flow_in = net_flow WHERE net_flow <> 0")
    op.drop_column("daily_returns", "net_flow")


def downgrade() -> None:
    blocked = op.get_bind().execute(
        sa.text(
            "SELECT (SELECT count(*) FROM movements WHERE kind <> 'buy' OR fees <> 0) "
            "+ (SELECT count(*) FROM asset_events)"
        )
    )
    if blocked.scalar_one():
        raise RuntimeError(
            "cannot go back below 0008: the ledger holds sells, income, fees or asset events"
            " that allocations cannot represent"
        )
    op.add_column("daily_returns", sa.Column("net_flow", MONEY, nullable=False, server_default="0"))
    op.execute("UPDATE daily_returns SET net_flow = flow_in WHERE flow_in <> 0")
    op.alter_column("daily_returns", "net_flow", server_default=None)
    for column in ("flow_in", "flow_out", "income"):
        op.drop_column("daily_returns", column)
    op.drop_table("asset_events")
    for name in MOVEMENT_CHECKS:
        op.execute(f"ALTER TABLE movements DROP CONSTRAINT ck_movements_{name}")
    for column in ("tax", "amount", "income_type", "fees", "kind"):
        op.drop_column("movements", column)
    op.alter_column("movements", "date", new_column_name="buy_date")
    op.alter_column("movements", "price", new_column_name="buy_price")
    op.create_check_constraint("quantity_positive", "movements", "quantity > 0")
    op.create_check_constraint("buy_price_positive", "movements", "buy_price > 0")
    op.create_check_constraint("buy_date_past", "movements", f"buy_date <= {TODAY}")
    for old, new in (
        ("fk_movements_client_id_clients", "fk_allocations_client_id_clients"),
        ("fk_movements_asset_id_assets", "fk_allocations_asset_id_assets"),
    ):
        op.execute(f"ALTER TABLE movements RENAME CONSTRAINT {old} TO {new}")
    op.execute("ALTER INDEX ix_movements_asset_id RENAME TO ix_allocations_asset_id")
    op.execute("ALTER INDEX ix_movements_client_id RENAME TO ix_allocations_client_id")
    op.execute("ALTER INDEX pk_movements RENAME TO pk_allocations")
    op.execute("ALTER SEQUENCE movements_id_seq RENAME TO allocations_id_seq")
    op.rename_table("movements", "allocations")
    # The check constraints were created on "movements": their names carry that table.
    for name in ("quantity_positive", "buy_price_positive", "buy_date_past"):
        op.execute(
            f"ALTER TABLE allocations RENAME CONSTRAINT ck_movements_{name} "
            f"TO ck_allocations_{name}"
        )
