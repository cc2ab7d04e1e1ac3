"""Closes lose their per-row foreign key; a trigger deletes them with their asset.

The scheduler upserts closes in bulk (500 a day, about 630,000 in a five-year backfill).
The foreign key to ``assets`` made PostgreSQL check and lock (FOR KEY SHARE) the asset row
for every close it inserted, the same few hundred asset rows over and over: measured on a
two-year backfill of 3,000 clients and 500 tickers, 27 s with the key and 19 s without.
Only the scheduler writes closes, for assets it has just read, and the application never
deletes an asset, so the key guards nothing the writer does not already guarantee.
Deleting an asset (by hand) still deletes its closes: an AFTER DELETE trigger on
``assets`` does it in the same statement, as migration 0002 does for a client's figures
(a row trigger: ``TRUNCATE assets`` needs ``prices`` truncated with it, as before it
needed CASCADE).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION anka_delete_asset_prices() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM prices WHERE asset_id = OLD.id;
    RETURN OLD;
END
$$;
"""


def upgrade() -> None:
    op.drop_constraint("fk_prices_asset_id_assets", "prices", type_="foreignkey")
    op.execute(TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER trg_assets_delete_prices AFTER DELETE ON assets "
        "FOR EACH ROW EXECUTE FUNCTION anka_delete_asset_prices()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_assets_delete_prices ON assets")
    op.execute("DROP FUNCTION IF EXISTS anka_delete_asset_prices()")
    op.execute("DELETE FROM prices WHERE asset_id NOT IN (SELECT id FROM assets)")
    op.create_foreign_key(
        "fk_prices_asset_id_assets", "prices", "assets", ["asset_id"], ["id"], ondelete="CASCADE"
    )
