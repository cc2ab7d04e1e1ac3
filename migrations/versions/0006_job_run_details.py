"""What a run could not do, in detail: ``job_runs.details``.

A JSON object beside the counts: each failed ticker's reason, closes dropped or missing per
ticker, revised closes, clients whose figures could not be stored and why, tickers not
fetched before the run's deadline. Older rows have none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("details", JSONB(none_as_null=True)))


def downgrade() -> None:
    op.drop_column("job_runs", "details")
