"""transfer progress: how much of an audio_url the worker has downloaded

``jobs.transfer_progress`` (0–1, nullable) is written by the worker about every second while it
fetches a job's ``audio_url`` from a server that sent a Content-Length, so that
``GET /v1/transcriptions/{id}/status`` can report the transfer stage as it runs.

A plain ``ADD COLUMN`` (no ``batch_alter_table``): SQLite keeps the ``jobs`` table, and with it
the storage-totals triggers of 0007.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("transfer_progress", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("jobs", "transfer_progress")
