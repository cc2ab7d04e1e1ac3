"""Server-side sessions and a sign-in throttle that lives in PostgreSQL.

``user_sessions`` holds one row per signed-in browser (the SHA-256 of its cookie's random
token), so signing out, a password change, a deactivation or a role change ends sessions on
the server. ``sign_in_failures`` counts failed sign-ins per e-mail, per source and per both,
for growing delays instead of a hard lockout.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64)),
        sa.Column("ticket_hash", sa.String(64)),
        sa.Column("ticket_expires_at", TIMESTAMP),
        sa.Column("source", sa.String(64)),
        sa.Column("created_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_index("uq_user_sessions_token_hash", "user_sessions", ["token_hash"], unique=True)
    op.create_index("uq_user_sessions_ticket_hash", "user_sessions", ["ticket_hash"], unique=True)
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", TIMESTAMP, server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sign_in_failures")
    op.drop_table("user_sessions")
