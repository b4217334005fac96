"""Engine and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

One ``Database`` per event loop: async engines keep connections bound to the loop that opened
them, so the API and the embedded worker each build their own.

Three kinds of session, so that a read never takes a writer's lock or pays for a transaction it
does not need:

* ``write()``: a unit of work. SQLite takes one writer at a time and fails a deferred transaction
  that reads and then tries to write after another writer committed, so on SQLite write
  transactions start with ``BEGIN IMMEDIATE``: they queue up (``busy_timeout``) instead of failing.
  Once it has committed, the hooks given to ``on_commit`` run with the session's ``info`` (where
  the code that wrote noted what it changed: the ledger notes balances), so that news of a change
  goes out after the change is visible, and never for a rolled-back one.
* ``read()``: several queries that must agree (a report, a list and its count): one deferred,
  read-only transaction (``BEGIN`` on SQLite: a WAL snapshot that never blocks or waits for writers).
* ``lookup()``: one query on its own (a balance, a row by id). One statement is consistent by
  itself, so it runs outside any transaction (SQLite: no ``BEGIN``; PostgreSQL: ``AUTOCOMMIT``, no
  ``BEGIN``/``ROLLBACK`` round trips) — what a hot read such as ``GET /v1/me`` needs.
* ``write_one()``: one writing statement that is a unit of work by itself (a conditional insert),
  committed as it runs, the same way as a lookup — in the writers' turn on SQLite, followed by
  the commit hooks.

Tuning (see docs/operations.md "Database tuning"):

* SQLite, per connection: ``journal_mode=WAL`` (readers and the one writer do not block each other),
  ``synchronous=NORMAL`` (in WAL mode a commit survives a crash of the process; a power loss may
  lose the last commits but never corrupts the file — acceptable for a single-host install, and it
  spares an fsync per commit), ``busy_timeout=30000`` (a writer waits for the lock up to 30 s
  instead of failing at once), ``foreign_keys=ON``, ``cache_size=-8192`` (8 MiB of page cache per
  connection instead of 2 MiB: the hot tables stay in memory; at most 15 connections, 120 MiB).
  Pool: 5 connections kept, 10 more under load (each aiosqlite connection is a thread; WAL lets
  them all read at once while writes take turns). Write transactions of one ``Database`` take
  turns in the process first (an ``asyncio.Lock``, first come first served) and only then ask
  SQLite: SQLite's own wait for its lock sleeps and retries with growing pauses (up to 100 ms),
  which under load left the lock idle while dozens of writers slept (presign p99 ~1 s at 50
  connections); other processes still meet at SQLite's lock. A ROLLBACK with no transaction
  open (after every lookup, and as a connection goes back to the pool) is skipped: each is one
  more trip to aiosqlite's thread for nothing.
* PostgreSQL: 10 connections kept and 20 more under load per ``Database`` — per process and event
  loop, so ``serve --workers N`` plus the workers must stay under the server's ``max_connections``
  (N × 30 + …); connections are pinged when checked out (``pool_pre_ping``), so a restarted
  server costs no failed request.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.errors import ServiceUnavailable

_IMMEDIATE = "nagovori_sqlite_immediate"
_NO_BEGIN = "nagovori_sqlite_no_begin"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA cache_size=-8192",
)

CommitHook = Callable[[Mapping[str, Any]], Awaitable[None]]
WRITER_WAIT_SECONDS = 30  # a write waits its turn this long at most, as SQLite's busy_timeout


class Database:
    """The engine plus three session factories: ``write()``, ``read()`` and ``lookup()``."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
            if not _in_memory(url):  # a memory database keeps SQLAlchemy's single-connection pool
                kwargs.update(pool_size=5, max_overflow=10)
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            private_sqlite_file(url)
            _configure_sqlite(self.engine)
            writer = self.engine.execution_options(**{_IMMEDIATE: True})
            single = self.engine.execution_options(**{_NO_BEGIN: True})
        else:
            writer = self.engine
            single = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._writes = async_sessionmaker(writer, expire_on_commit=False)
        self._reads = async_sessionmaker(self.engine, expire_on_commit=False)
        self._lookups = async_sessionmaker(single, expire_on_commit=False)
        self._commit_hooks: list[CommitHook] = []
        self._writer = asyncio.Lock() if self.is_sqlite else None
        self._writing: asyncio.Task[Any] | None = None

    def on_commit(self, hook: CommitHook) -> None:
        """Run ``hook(session.info)`` after every committed ``write()`` (hooks must not raise:
        the change is committed whatever they do)."""
        self._commit_hooks.append(hook)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back on error; then the commit hooks."""
        async with _translate_outage(), self._writes() as session:
            async with self._writers_turn(), session.begin():
                yield session
            for hook in self._commit_hooks:
                await hook(session.info)

    @asynccontextmanager
    async def write_one(self) -> AsyncIterator[AsyncSession]:
        """A session for one writing statement, committed as it runs (see the module docstring);
        then the commit hooks. Use ``write()`` for anything more."""
        async with _translate_outage(), self._lookups() as session:
            async with self._writers_turn():
                yield session
            for hook in self._commit_hooks:
                await hook(session.info)

    @asynccontextmanager
    async def _writers_turn(self) -> AsyncIterator[None]:
        """On SQLite, one write transaction of this database at a time, in arrival order (a write
        nested in the same task goes on to SQLite, which refuses it as it always did)."""
        task = asyncio.current_task()
        if self._writer is None or self._writing is task:
            yield
            return
        try:
            await asyncio.wait_for(self._writer.acquire(), WRITER_WAIT_SECONDS)
        except TimeoutError:
            raise ServiceUnavailable("The database is busy; try again shortly.") from None
        self._writing = task
        try:
            yield
        finally:
            self._writing = None
            self._writer.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries only; nothing is committed."""
        async with _translate_outage(), self._reads() as session:
            yield session

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[AsyncSession]:
        """A session for one query outside any transaction (see the module docstring); use
        ``read()`` when several queries must see the same state. Never for writes."""
        async with _translate_outage(), self._lookups() as session:
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


def _in_memory(url: str) -> bool:
    """SQLAlchemy's own test for a memory database (which gets a single-connection pool)."""
    parsed = make_url(url)
    return not parsed.database or parsed.database == ":memory:" or parsed.query.get("mode") == "memory"


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
    dialect = sync_engine.dialect
    rollback = dialect.do_rollback

    def _rollback_if_open(dbapi_connection: Any) -> None:
        # sqlite3 knows whether a transaction is open (``in_transaction``, read without a trip to
        # aiosqlite's thread); unknown connections are rolled back as usual.
        connection = getattr(getattr(dbapi_connection, "driver_connection", None), "_conn", None)
        if getattr(connection, "in_transaction", True):
            rollback(dbapi_connection)

    dialect.do_rollback = _rollback_if_open  # type: ignore[method-assign]

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_NO_BEGIN, False):
            return  # a lookup: the driver runs its one statement in autocommit
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_IMMEDIATE, False) else "BEGIN")
