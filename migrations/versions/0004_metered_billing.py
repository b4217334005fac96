"""metered billing: jobs.truncated

A job's hold is now an estimate that the worker extends as it processes (ledger kind ``extend``,
no schema change); when the balance runs out the job ends with what was paid for and says so in
``truncated``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("truncated", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("truncated")
