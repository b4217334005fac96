"""data fixes: jobs.delivery JSON null becomes SQL NULL; e-mails in lower case

Rows written before ``jobs.delivery`` stored SQL NULL held the JSON text ``null`` for jobs with
nowhere to deliver (API jobs), which ``delivery IS NOT NULL`` matched: the reconciler re-sent
them forever. E-mails are now unique regardless of case and stored in lower case; existing ones
are lowered unless that would clash with another account's (left for an administrator).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE jobs SET delivery = NULL WHERE json_typeof(delivery) = 'null'")
    else:
        op.execute("UPDATE jobs SET delivery = NULL WHERE delivery = 'null'")
    op.execute(
        "UPDATE users SET email = lower(email) WHERE email <> lower(email) AND NOT EXISTS "
        "(SELECT 1 FROM users AS other WHERE other.id <> users.id AND lower(other.email) = lower(users.email))"
    )


def downgrade() -> None:
    # SQL NULL reads back as None exactly like JSON null did, and lower-case e-mails stay valid.
    pass
