"""The database as the commands meet it: checked once at start, opened for one piece of work.

``require_schema`` turns "no such table" deep inside a command into one line up front: a database
that was never migrated, or is behind this version, says to run ``nagovori migrate``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import make_url
from sqlalchemy.engine import Connection

from core.db.database import Database
from core.db.migrate import alembic_config
from core.errors import InvalidInput, NagovoriError
from core.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


class SchemaNotReady(NagovoriError):
    """The database has no tables yet, or older ones than this version needs."""

    code = "schema_not_ready"


def masked_url(url: str) -> str:
    """The database URL without its password, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def on_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on a database opened for it and closed after."""

    async def run() -> T:
        db = Database(settings.effective_database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


def require_schema(settings: Settings) -> None:
    """Raise SchemaNotReady unless the database is migrated to this version's head (a newer
    schema, from a newer version mid-upgrade, is only warned about)."""
    url = settings.effective_database_url
    _refuse_a_folder(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        # checked before connecting: opening a SQLite file creates it, empty
        raise SchemaNotReady(f"The database {masked_url(url)} has no tables yet: run `nagovori migrate`.")
    current = on_database(settings, _current_revisions)
    script = ScriptDirectory.from_config(alembic_config(url))
    if not current:
        raise SchemaNotReady(f"The database {masked_url(url)} has no tables yet: run `nagovori migrate`.")
    heads = set(script.get_heads())
    if set(current) == heads:
        return
    if all(_known(script, revision) for revision in current):
        raise SchemaNotReady(
            f"The database {masked_url(url)} is at revision {', '.join(current)}; this version needs "
            f"{', '.join(sorted(heads))}: run `nagovori migrate`."
        )
    log.warning("the database is at revision %s, unknown to this version: is it newer?", ", ".join(current))


def _refuse_a_folder(url: str) -> None:
    """SQLite says only "unable to open database file" when the URL names a folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and Path(parsed.database).is_dir():
        raise InvalidInput(
            f"NAGOVORI_DATABASE_URL names a folder, {parsed.database}, where a database file is expected."
        )


async def _current_revisions(db: Database) -> tuple[str, ...]:
    async with db.lookup() as session:
        connection = await session.connection()
        return await connection.run_sync(_heads_of)


def _heads_of(connection: Connection) -> tuple[str, ...]:
    alembic_log = logging.getLogger("alembic.runtime.migration")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # its "Context impl …" lines are for migrations
    try:
        return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        alembic_log.setLevel(level)


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False
