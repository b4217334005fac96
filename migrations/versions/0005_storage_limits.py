"""storage limits: pinned job inputs, result sizes, expired audio

``jobs.input_sha256`` pins the upload a transcription was created (and billed) for: the worker
refuses other bytes. ``jobs.result_size_bytes`` lets TTS results count toward the storage quota.
``jobs.audio_expired_at`` marks jobs whose audio the retention sweep deleted (the text stays).
``ix_jobs_object_key`` answers "does a job use this upload?" for the expiry sweeps.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("input_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("result_size_bytes", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("audio_expired_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_jobs_object_key", ["object_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_object_key")
        batch.drop_column("audio_expired_at")
        batch.drop_column("result_size_bytes")
        batch.drop_column("input_sha256")
