"""storage totals: each user's stored bytes and objects, kept by triggers

``storage_totals`` holds one row per user: the bytes and objects the storage quota counts (every
upload row — a pending one as an object of 0 bytes — and every TTS result not yet expired). Triggers
on ``users``, ``uploads`` and ``jobs`` keep it equal to those sums in the very statement that
changes them, so ``POST /v1/uploads/presign`` reads one row instead of summing the user's rows
(see ``core/db/storage_tables.py``). Existing users' totals are backfilled here.

SQLite drops a table's triggers with the table: a later migration that rebuilds ``users``,
``uploads`` or ``jobs`` (``batch_alter_table``) must create them again
(tests/integration/test_storage_totals.py checks they exist at the head revision).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# A jobs row counts while it is a TTS job with a result not yet expired (``quota.measure``).
_COUNTS = "{row}.kind = 'tts' AND {row}.result_key IS NOT NULL AND {row}.audio_expired_at IS NULL"


def _objects(row: str) -> str:
    return f"(CASE WHEN {_COUNTS.format(row=row)} THEN 1 ELSE 0 END)"


def _bytes(row: str) -> str:
    return f"(CASE WHEN {_COUNTS.format(row=row)} THEN COALESCE({row}.result_size_bytes, 0) ELSE 0 END)"


def _add(row: str, objects: str, size: str, sign: str = "+") -> str:
    return (
        f"UPDATE storage_totals SET objects = objects {sign} {objects}, "
        f"bytes_used = bytes_used {sign} {size} WHERE user_id = {row}.user_id"
    )


SQLITE_TRIGGERS = {
    "storage_totals_user_insert": "AFTER INSERT ON users BEGIN "
    "INSERT INTO storage_totals (user_id, bytes_used, objects) VALUES (NEW.id, 0, 0); END",
    "storage_totals_upload_insert": "AFTER INSERT ON uploads BEGIN "
    + _add("NEW", "1", "COALESCE(NEW.size_bytes, 0)")
    + "; END",
    "storage_totals_upload_update": "AFTER UPDATE OF size_bytes, user_id ON uploads "
    "WHEN OLD.size_bytes IS NOT NEW.size_bytes OR OLD.user_id IS NOT NEW.user_id BEGIN "
    + _add("OLD", "1", "COALESCE(OLD.size_bytes, 0)", "-")
    + "; "
    + _add("NEW", "1", "COALESCE(NEW.size_bytes, 0)")
    + "; END",
    "storage_totals_upload_delete": "AFTER DELETE ON uploads BEGIN "
    + _add("OLD", "1", "COALESCE(OLD.size_bytes, 0)", "-")
    + "; END",
    "storage_totals_job_insert": f"AFTER INSERT ON jobs WHEN {_COUNTS.format(row='NEW')} BEGIN "
    + _add("NEW", "1", "COALESCE(NEW.result_size_bytes, 0)")
    + "; END",
    "storage_totals_job_update": "AFTER UPDATE OF kind, user_id, result_key, result_size_bytes, "
    f"audio_expired_at ON jobs WHEN {_objects('OLD')} != {_objects('NEW')} OR {_bytes('OLD')} != "
    f"{_bytes('NEW')} OR OLD.user_id IS NOT NEW.user_id BEGIN "
    + _add("OLD", _objects("OLD"), _bytes("OLD"), "-")
    + "; "
    + _add("NEW", _objects("NEW"), _bytes("NEW"))
    + "; END",
    "storage_totals_job_delete": f"AFTER DELETE ON jobs WHEN {_COUNTS.format(row='OLD')} BEGIN "
    + _add("OLD", "1", "COALESCE(OLD.result_size_bytes, 0)", "-")
    + "; END",
}

POSTGRES_FUNCTIONS = {
    "storage_totals_user": """
        BEGIN
            INSERT INTO storage_totals (user_id, bytes_used, objects) VALUES (NEW.id, 0, 0);
            RETURN NULL;
        END""",
    "storage_totals_upload": f"""
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {_add("OLD", "1", "COALESCE(OLD.size_bytes, 0)", "-")};
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {_add("NEW", "1", "COALESCE(NEW.size_bytes, 0)")};
            END IF;
            RETURN NULL;
        END""",
    "storage_totals_job": f"""
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND {_objects("OLD")} = 1 THEN
                {_add("OLD", "1", _bytes("OLD"), "-")};
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND {_objects("NEW")} = 1 THEN
                {_add("NEW", "1", _bytes("NEW"))};
            END IF;
            RETURN NULL;
        END""",
}

POSTGRES_TRIGGERS = {  # name: (table, events, function)
    "storage_totals_user_insert": ("users", "INSERT", "storage_totals_user"),
    "storage_totals_upload_change": (
        "uploads",
        "INSERT OR DELETE OR UPDATE OF size_bytes, user_id",
        "storage_totals_upload",
    ),
    "storage_totals_job_change": (
        "jobs",
        "INSERT OR DELETE OR UPDATE OF kind, user_id, result_key, result_size_bytes, audio_expired_at",
        "storage_totals_job",
    ),
}

BACKFILL = f"""
INSERT INTO storage_totals (user_id, bytes_used, objects)
SELECT users.id,
       COALESCE((SELECT SUM(COALESCE(u.size_bytes, 0)) FROM uploads u WHERE u.user_id = users.id), 0)
     + COALESCE((SELECT SUM({_bytes("j")}) FROM jobs j WHERE j.user_id = users.id), 0),
       (SELECT COUNT(*) FROM uploads u WHERE u.user_id = users.id)
     + COALESCE((SELECT SUM({_objects("j")}) FROM jobs j WHERE j.user_id = users.id), 0)
FROM users
"""


def upgrade() -> None:
    op.create_table(
        "storage_totals",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("bytes_used", sa.BigInteger(), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    # Triggers first, in the same transaction as the backfill (PostgreSQL; SQLite migrates alone):
    # no change slips between the sums and the counting.
    if op.get_bind().dialect.name == "postgresql":
        for name, body in POSTGRES_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$")
        for name, (table, events, function) in POSTGRES_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()"
            )
    else:
        for name, definition in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")
    op.execute(BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _, _) in POSTGRES_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("storage_totals")
