"""signin links: one-time links from the Telegram bot's /login into the web dashboard

``signin_links`` keeps the SHA-256 of each link's token, the account it signs in, its expiry and
when it was used (a link works once).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_signin_links_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_signin_links"),
    )
    op.create_index("ix_signin_links_user_id", "signin_links", ["user_id"], unique=False)
    op.create_index("ix_signin_links_expires_at", "signin_links", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_signin_links_expires_at", table_name="signin_links")
    op.drop_index("ix_signin_links_user_id", table_name="signin_links")
    op.drop_table("signin_links")
