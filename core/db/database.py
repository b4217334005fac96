"""Engine and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

One ``Database`` per event loop: async engines keep connections bound to the loop that opened
them, so the API and the embedded worker each build their own.

SQLite takes one writer at a time and fails a deferred transaction that reads and then tries to
write after another writer committed. Write transactions therefore start with ``BEGIN IMMEDIATE``,
which makes them queue up (``busy_timeout``) instead of failing; read-only sessions stay deferred.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.errors import ServiceUnavailable

_IMMEDIATE = "nagovori_sqlite_immediate"


class Database:
    """The engine plus two session factories: ``write()`` and ``read()``."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            private_sqlite_file(url)
            _configure_sqlite(self.engine)
        writer = self.engine.execution_options(**{_IMMEDIATE: True}) if self.is_sqlite else self.engine
        self._writes = async_sessionmaker(writer, expire_on_commit=False)
        self._reads = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back on error."""
        async with _translate_outage(), self._writes() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries only; nothing is committed."""
        async with _translate_outage(), self._reads() as session:
            yield session

    async def ping(self) -> None:
        """Raise ServiceUnavailable unless the database answers."""
        async with self.read() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def _translate_outage() -> AsyncIterator[None]:
    """Turn "cannot reach the database" into the domain's 503, leaving real query errors alone."""
    try:
        yield
    except (OperationalError, DBAPIError) as exc:
        if exc.connection_invalidated or _is_connection_error(exc):
            raise ServiceUnavailable("The database is unavailable; try again shortly.") from exc
        raise
    except (OSError, ConnectionError) as exc:
        raise ServiceUnavailable("The database is unavailable; try again shortly.") from exc


def _is_connection_error(exc: DBAPIError) -> bool:
    text_ = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    markers = (
        "connection refused",
        "could not connect",
        "connection was closed",
        "connection reset",
        "unable to open database",
        "cannot connect",
        "connect call failed",
        "terminating connection",
    )
    return any(m in text_ for m in markers)


def private_sqlite_file(url: str) -> None:
    """Make the SQLite file (and its -wal/-shm, which SQLite creates with the file's mode) readable
    by the owner only: it holds every transcript. SQLite itself would create it 0644."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    with contextlib.suppress(FileExistsError, FileNotFoundError):  # exists / no folder: SQLite says
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):  # absent, or not ours to change
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
