"""``Database``: writes take the writer's lock, reads never do, and a lookup runs outside any
transaction — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from sqlalchemy import event, text

from core.db.database import SQLITE_PRAGMAS, Database
from core.services import accounts
from core.services.users import create_user


def statements(db: Database) -> list[str]:
    """Every statement the engine sends from now on (BEGINs included)."""
    sent: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.strip().split()[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    return sent


async def in_a_transaction(db: Database, session: Any) -> bool:
    """Whether the session's statements run inside a transaction the database opened for them."""
    if db.is_sqlite:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        return bool(raw.driver_connection._conn.in_transaction)
    # now() is the transaction's start: two statements of one transaction see the same.
    first = await session.scalar(text("SELECT now()"))
    await session.execute(text("SELECT pg_sleep(0.01)"))
    return bool(first == await session.scalar(text("SELECT now()")))


async def test_a_lookup_runs_outside_any_transaction_and_a_read_inside_one(db: Database) -> None:
    async with db.lookup() as session:
        assert await session.scalar(text("SELECT 1")) == 1
        assert not await in_a_transaction(db, session)
    async with db.read() as session:
        await session.execute(text("SELECT 1"))
        assert await in_a_transaction(db, session)


async def test_only_writes_take_the_sqlite_writers_lock(db: Database) -> None:
    if not db.is_sqlite:
        return
    sent = statements(db)
    async with db.lookup() as session:
        await session.execute(text("SELECT 1"))
    async with db.read() as session:
        await session.execute(text("SELECT 1"))
    async with db.write() as session:
        await session.execute(text("SELECT 1"))
    assert sent == ["SELECT", "BEGIN", "SELECT", "BEGIN IMMEDIATE", "SELECT"]


async def test_sqlite_connections_get_the_pragmas(db: Database) -> None:
    if not db.is_sqlite:
        return
    async with db.read() as session:
        found = {
            name: (await session.execute(text(f"PRAGMA {name}"))).scalar()
            for name in ("journal_mode", "synchronous", "busy_timeout", "cache_size", "foreign_keys")
        }
    assert found == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 30000,
        "cache_size": -8192,
        "foreign_keys": 1,
    }
    assert len(SQLITE_PRAGMAS) == len(found)


async def test_the_balance_is_one_statement_and_no_transaction(db: Database) -> None:
    """What ``GET /v1/me`` reads besides the (cached) credential."""
    user = await create_user(db, starting_minutes=2)
    sent = statements(db)
    assert await accounts.balance_seconds(db, user.id) == 120
    assert sent == ["SELECT"]


async def test_sqlite_write_transactions_take_turns_in_arrival_order(db: Database) -> None:
    """In-process writers queue FIFO for SQLite's one writer instead of sleeping in its busy loop."""
    if not db.is_sqlite:
        return
    spans: list[tuple[int, float, float]] = []

    async def writer(index: int) -> None:
        async with db.write() as session:
            began = asyncio.get_running_loop().time()
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.01)
            spans.append((index, began, asyncio.get_running_loop().time()))

    tasks = []
    for index in range(8):
        tasks.append(asyncio.create_task(writer(index)))
        await asyncio.sleep(0)  # arrival order = index order
    await asyncio.gather(*tasks)
    assert [index for index, _, _ in spans] == list(range(8))
    assert all(earlier[2] <= later[1] for earlier, later in itertools.pairwise(spans))
