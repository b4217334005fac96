"""Migrations run from zero on SQLite and PostgreSQL and produce exactly the models' schema."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection

from core.db.database import Database
from core.db.migrate import alembic_config
from migrations.metadata import TARGET_METADATA, all_tables


def _differences(connection: Connection) -> list[object]:
    combined = MetaData()
    for table in (t for metadata in TARGET_METADATA for t in metadata.tables.values()):
        table.to_metadata(combined)
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, combined))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def test_schema_matches_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            diffs = await conn.run_sync(_differences)
            tables = await conn.run_sync(_tables)
    finally:
        await db.dispose()
    assert diffs == []
    assert tables == set(all_tables())
    assert {"users", "api_keys", "uploads", "jobs", "ledger_entries", "account_balances"} <= tables


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_downgrade_to_base_and_back(database_url: str) -> None:
    async def tables() -> set[str]:
        db = Database(database_url)
        try:
            async with db.engine.connect() as conn:
                return await conn.run_sync(_tables)
        finally:
            await db.dispose()

    config = alembic_config(database_url)
    command.downgrade(config, "base")
    assert asyncio.run(tables()) == set()
    command.upgrade(config, "head")
    assert "jobs" in asyncio.run(tables())
