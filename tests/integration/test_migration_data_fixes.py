"""Migration 0003 on rows written before it, on SQLite and PostgreSQL: e-mails become lower case
unless that would clash with another account's. (Its JSON-null fix is tested with the
reconciler, in test_reconciler_delivery.py.)"""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import select

from core.db.database import Database
from core.db.migrate import alembic_config, upgrade_async
from core.db.models import User


async def test_existing_emails_are_lowered_unless_they_would_clash(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.write() as session:  # as accounts were stored before the fix
            session.add_all(
                [
                    User(id="u1", email="Solo@Example.com", profile={}),
                    User(id="u2", email="Twin@Example.com", profile={}),
                    User(id="u3", email="twin@example.com", profile={}),
                ]
            )
        await db.dispose()
        await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0002")
        await upgrade_async(database_url)

        async with db.read() as session:
            emails = {row.id: row.email for row in await session.execute(select(User.id, User.email))}
    finally:
        await db.dispose()
    assert emails == {"u1": "solo@example.com", "u2": "Twin@Example.com", "u3": "twin@example.com"}
