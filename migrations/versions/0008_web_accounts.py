"""web accounts: passwords, browser sessions, sign-in throttling; lower-cased e-mails

``web_credentials`` keeps an argon2id hash per account (out of ``users``, whose rows reach every
edge). ``web_sessions`` keeps the SHA-256 of each signed-in browser's cookie token.
``web_signin_throttle`` counts failed sign-ins per account and per address. E-mails are looked up
lower-cased: existing ones are lower-cased here unless that would collide with another account.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_credentials",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_web_credentials_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_web_credentials"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_web_sessions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"], unique=False)
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"], unique=False)
    op.create_table(
        "web_signin_throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_web_signin_throttle"),
    )
    # Sign-in looks e-mails up lower-cased (core.services.users.normalize_email); rows written
    # before that rule are brought in line unless another account already has the lower-cased form.
    op.execute(
        "UPDATE users SET email = lower(trim(email)) WHERE email IS NOT NULL"
        " AND email <> lower(trim(email))"
        " AND NOT EXISTS (SELECT 1 FROM users AS other WHERE other.email = lower(trim(users.email)))"
    )


def downgrade() -> None:
    op.drop_table("web_signin_throttle")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("web_credentials")
