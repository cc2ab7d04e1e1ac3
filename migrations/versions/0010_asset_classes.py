"""Asset classes: ``assets.asset_class``, an admin's correction of the derived class.

The class is derived from the stored market data by the rules of
:mod:`core.market.asset_classes` each time it is read; this column holds only an admin's
correction (NULL: the derived class applies), so nothing has to be kept in step when the
rules or the market data change. A check keeps it to the stable codes.

Going back drops the column (and the corrections with it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = (
    "asset_class IS NULL OR asset_class IN "
    "('acoes', 'fiis', 'etfs', 'bdrs', 'exterior', 'cripto', 'renda_fixa')"
)


def upgrade() -> None:
    op.add_column("assets", sa.Column("asset_class", sa.String(16), nullable=True))
    op.create_check_constraint(op.f("ck_assets_asset_class"), "assets", CHECK)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_assets_asset_class"), "assets", type_="check")
    op.drop_column("assets", "asset_class")
