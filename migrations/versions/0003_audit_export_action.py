"""The audit log also records exports (action ``export``): who took which data out, when,
with which filters, and how many rows.

An export changes nothing, but data leaving the office is worth a record as much as a
change is; the check constraint on ``audit_log.action`` gains the value.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = op.f("ck_audit_log_action")  # already the full name: no naming convention


def upgrade() -> None:
    op.drop_constraint(CONSTRAINT, "audit_log", type_="check")
    op.create_check_constraint(
        CONSTRAINT, "audit_log", "action IN ('create', 'update', 'delete', 'export')"
    )


def downgrade() -> None:
    # Export entries cannot be expressed under the old rule; they go with the downgrade.
    op.execute("DELETE FROM audit_log WHERE action = 'export'")
    op.drop_constraint(CONSTRAINT, "audit_log", type_="check")
    op.create_check_constraint(CONSTRAINT, "audit_log", "action IN ('create', 'update', 'delete')")
