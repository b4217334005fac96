"""Grants replayed with their idempotency key, at once, on SQLite and PostgreSQL: one is added,
the rest answer as replays (same amount) or conflicts (another amount); none fails otherwise."""

from __future__ import annotations

import asyncio

import pytest

from billing import ledger
from core.db.database import Database
from core.errors import Conflict
from core.services.users import create_user, grant_minutes


async def test_concurrent_replays_of_one_grant_add_it_once(db: Database) -> None:
    user = await create_user(db)

    results = await asyncio.gather(
        *(grant_minutes(db, user.id, 1, reason="promo", idempotency_key="promo-1") for _ in range(8)),
        return_exceptions=True,
    )

    assert results == [60] * 8  # every answer tells the same balance: the grant, once
    async with db.read() as session:
        assert await ledger.balance(session, user.id) == 60


async def test_a_replay_with_another_amount_is_a_conflict_and_adds_nothing(db: Database) -> None:
    user = await create_user(db)
    await grant_minutes(db, user.id, 1, reason="promo", idempotency_key="promo-1")

    with pytest.raises(Conflict) as raised:
        await grant_minutes(db, user.id, 5, reason="promo", idempotency_key="promo-1")

    assert raised.value.details["granted_seconds"] == 60
    async with db.read() as session:
        assert await ledger.balance(session, user.id) == 60
