"""Initial schema: users, clients, assets, allocations, prices, daily returns, metrics,
job runs and the audit log, with the SQL functions their constraints and indexes use.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Accent- and case-folding that PostgreSQL may use in generated columns and indexes:
# unaccent() itself is only STABLE (its dictionary could change), so we pin the dictionary.
FOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION anka_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;
"""

# CPF (11 digits) or CNPJ (14 characters, alphanumeric since 2026) with valid check digits;
# the same rule as core/documents.py. Characters count as ascii(c) - 48.
DOCUMENT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION anka_valid_document(doc text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
AS $$
DECLARE
    w1 int[];
    w2 int[];
    body int;
    s int;
    d1 int;
    d2 int;
    i int;
BEGIN
    IF doc ~ '^(.)\1*$' THEN
        RETURN false;
    END IF;
    IF doc ~ '^[0-9]{11}$' THEN
        w1 := ARRAY[10, 9, 8, 7, 6, 5, 4, 3, 2];
        w2 := ARRAY[11, 10, 9, 8, 7, 6, 5, 4, 3, 2];
        body := 9;
    ELSIF doc ~ '^[0-9A-Z]{12}[0-9]{2}$' THEN
        w1 := ARRAY[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
        w2 := ARRAY[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
        body := 12;
    ELSE
        RETURN false;
    END IF;
    s := 0;
    FOR i IN 1..body LOOP
        s := s + (ascii(substr(doc, i, 1)) - 48) * w1[i];
    END LOOP;
    d1 := CASE WHEN s % 11 < 2 THEN 0 ELSE 11 - s % 11 END;
    s := 0;
    FOR i IN 1..body LOOP
        s := s + (ascii(substr(doc, i, 1)) - 48) * w2[i];
    END LOOP;
    s := s + d1 * w2[body + 1];
    d2 := CASE WHEN s % 11 < 2 THEN 0 ELSE 11 - s % 11 END;
    RETURN ascii(substr(doc, body + 1, 1)) - 48 = d1 AND ascii(substr(doc, body + 2, 1)) - 48 = d2;
END
$$;
"""


def _created() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _updated() -> sa.Column:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


# A name must have a visible character: trim spaces, tabs, line breaks and no-break spaces.
NAME_NOT_BLANK = "char_length(btrim(name, E' \\t\\n\\r\\u00a0')) "
MONEY = sa.Numeric(20, 8)
RATIO = sa.Numeric(24, 12)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute(FOLD_FUNCTION)
    op.execute(DOCUMENT_FUNCTION)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _created(),
        _updated(),
        sa.CheckConstraint("role IN ('admin', 'read_only')", name=op.f("ck_users_role")),
        sa.CheckConstraint(NAME_NOT_BLANK + "BETWEEN 1 AND 120", name=op.f("ck_users_name_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("uq_users_email_lower", "users", [sa.text("lower(email)")], unique=True)

    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("document", sa.String(14)),
        sa.Column("phone", sa.String(30)),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column(
            "sort_name", sa.Text(), sa.Computed("anka_fold(name)", persisted=True), nullable=False
        ),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "anka_fold(name || ' ' || email || ' ' || coalesce(document, ''))", persisted=True
            ),
            nullable=False,
        ),
        _created(),
        _updated(),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_clients_status")),
        sa.CheckConstraint(
            NAME_NOT_BLANK + "BETWEEN 1 AND 200", name=op.f("ck_clients_name_length")
        ),
        sa.CheckConstraint("position('@' in email) > 1", name=op.f("ck_clients_email_shape")),
        sa.CheckConstraint(
            "document IS NULL OR anka_valid_document(document)",
            name=op.f("ck_clients_document_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clients")),
    )
    op.create_index("uq_clients_email_lower", "clients", [sa.text("lower(email)")], unique=True)
    op.create_index("uq_clients_document", "clients", ["document"], unique=True)
    op.create_index("ix_clients_status_name", "clients", ["status", "sort_name", "id"])
    op.create_index("ix_clients_sort_name", "clients", ["sort_name", "id"])
    op.create_index(
        "ix_clients_search_trgm",
        "clients",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )

    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("exchange", sa.String(64)),
        sa.Column("currency", sa.String(8)),
        sa.Column("asset_type", sa.String(32)),
        sa.Column("first_trade_date", sa.Date()),
        _created(),
        sa.CheckConstraint(
            "symbol = upper(symbol) AND char_length(symbol) >= 1", name=op.f("ck_assets_symbol")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("symbol", name=op.f("uq_assets_symbol")),
    )

    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("buy_price", MONEY, nullable=False),
        sa.Column("buy_date", sa.Date(), nullable=False),
        _created(),
        _updated(),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_allocations_quantity_positive")),
        sa.CheckConstraint("buy_price > 0", name=op.f("ck_allocations_buy_price_positive")),
        sa.CheckConstraint(
            "buy_date <= (now() AT TIME ZONE 'America/Sao_Paulo')::date",
            name=op.f("ck_allocations_buy_date_past"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_allocations_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_allocations_asset_id_assets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
    )
    op.create_index("ix_allocations_client_id", "allocations", ["client_id"])
    op.create_index("ix_allocations_asset_id", "allocations", ["asset_id"])

    op.create_table(
        "prices",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("close", MONEY, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column(
            "fetched_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("close > 0", name=op.f("ck_prices_close_positive")),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_prices_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("asset_id", "date", name=op.f("pk_prices")),
    )

    op.create_table(
        "daily_returns",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("market_value", MONEY, nullable=False),
        sa.Column("net_flow", MONEY, nullable=False),
        sa.Column("daily_return", RATIO, nullable=False),
        sa.Column("cumulative_twr", RATIO, nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_daily_returns_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "date", name=op.f("pk_daily_returns")),
    )
    op.create_index("ix_daily_returns_date", "daily_returns", ["date"])

    op.create_table(
        "portfolio_metrics",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("market_value", MONEY, nullable=False),
        sa.Column("invested", MONEY, nullable=False),
        sa.Column("accumulated_return", RATIO),
        sa.Column("twr", RATIO),
        sa.Column("irr", sa.Numeric()),  # unbounded: short-period IRRs are huge
        sa.Column(
            "computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_portfolio_metrics_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "as_of", name=op.f("pk_portfolio_metrics")),
    )

    op.create_table(
        "job_runs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("job_name", sa.String(64), nullable=False),
        sa.Column("target_from", sa.Date()),
        sa.Column("target_to", sa.Date()),
        sa.Column(
            "started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), server_default="running", nullable=False),
        sa.Column("tickers_ok", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tickers_failed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_tickers", postgresql.JSONB()),
        sa.Column("rows_written", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("triggered_by", sa.String(254)),
        sa.CheckConstraint(
            "status IN ('running', 'success', 'partial', 'failed', 'skipped')",
            name=op.f("ck_job_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index("ix_job_runs_job_started", "job_runs", ["job_name", sa.text("started_at DESC")])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor_id", sa.Integer()),
        sa.Column("actor_email", sa.String(254), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=False),
        sa.Column("before", postgresql.JSONB()),
        sa.Column("after", postgresql.JSONB()),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'delete')", name=op.f("ck_audit_log_action")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_log_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", [sa.text("at DESC")])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "job_runs",
        "portfolio_metrics",
        "daily_returns",
        "prices",
        "allocations",
        "assets",
        "clients",
        "users",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS anka_valid_document(text)")
    op.execute("DROP FUNCTION IF EXISTS anka_fold(text)")
    # The pg_trgm and unaccent extensions stay: other schemas of the database may use them.
