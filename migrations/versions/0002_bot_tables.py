"""bot tables: group chat settings and processed update ids

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_chats",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("auto_transcribe", sa.Boolean(), nullable=False),
        sa.Column("payer_user_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_user_id"],
            ["users.id"],
            name=op.f("fk_bot_chats_payer_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_bot_chats")),
    )
    op.create_table(
        "bot_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_bot_updates")),
    )
    with op.batch_alter_table("bot_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_updates_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bot_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_updates_created_at"))
    op.drop_table("bot_updates")
    op.drop_table("bot_chats")
