"""Derived figures lose their per-row foreign keys; a trigger deletes them with the client.

``daily_returns`` and ``portfolio_metrics`` are written in bulk by the scheduler (about
10,000 rows a day, 12 million for a five-year backfill). A foreign key makes PostgreSQL
check and lock the client row for every inserted row: measured, COPY ran at 15,600 rows/s
with the key and 177,000 rows/s without. These rows are derived (always recomputable) and
only the scheduler writes them, from the lots of existing clients, holding a SHARE lock on
``allocations`` while it writes (which blocks a client delete's cascade until it commits),
so the key guards nothing the writer does not already guarantee. Deleting a client still
deletes its figures: an AFTER DELETE trigger on ``clients`` does it in the same statement.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION anka_delete_client_figures() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM daily_returns WHERE client_id = OLD.id;
    DELETE FROM portfolio_metrics WHERE client_id = OLD.id;
    RETURN OLD;
END
$$;
"""


def upgrade() -> None:
    op.drop_constraint("fk_daily_returns_client_id_clients", "daily_returns", type_="foreignkey")
    op.drop_constraint(
        "fk_portfolio_metrics_client_id_clients", "portfolio_metrics", type_="foreignkey"
    )
    op.execute(TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER trg_clients_delete_figures AFTER DELETE ON clients "
        "FOR EACH ROW EXECUTE FUNCTION anka_delete_client_figures()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_clients_delete_figures ON clients")
    op.execute("DROP FUNCTION IF EXISTS anka_delete_client_figures()")
    op.execute("DELETE FROM daily_returns WHERE client_id NOT IN (SELECT id FROM clients)")
    op.execute("DELETE FROM portfolio_metrics WHERE client_id NOT IN (SELECT id FROM clients)")
    op.create_foreign_key(
        "fk_daily_returns_client_id_clients",
        "daily_returns",
        "clients",
        ["client_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "fk_portfolio_metrics_client_id_clients",
        "portfolio_metrics",
        "clients",
        ["client_id"],
        ["id"],
        ondelete="CASCADE",
    )
