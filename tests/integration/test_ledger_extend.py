"""Extending a running job's hold on real SQLite and PostgreSQL: the same conditional update as a
hold, taking what the balance has in whole quanta, never below zero, settled as one hold."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from billing import ledger
from billing.errors import UnknownHold
from billing.usage import ledger_sum, usage_report
from core.db.base import utcnow
from core.db.database import Database
from core.services.users import create_user


async def _hold(db: Database, seconds: int, *, minutes: float) -> tuple[str, str]:
    user_id = (await create_user(db, starting_minutes=minutes)).id
    job = str(uuid.uuid4())
    async with db.write() as session:
        await ledger.hold(session, user_id, seconds, job_id=job, channel="api", usage_kind="asr")
    return user_id, job


async def _balance(db: Database, user_id: str) -> int:
    async with db.read() as session:
        assert await ledger_sum(session, user_id) == await ledger.balance(session, user_id)
        return await ledger.balance(session, user_id)


async def test_extensions_grow_the_hold_and_settle_with_it(db: Database) -> None:
    user_id, job = await _hold(db, 2, minutes=1)
    async with db.write() as session:
        assert await ledger.extend(session, job, 30) == 30
        assert await ledger.extend(session, job, 10) == 10
        assert await ledger.held_seconds(session, job) == 42
    assert await _balance(db, user_id) == 18
    async with db.read() as session:
        report = await usage_report(session, user_id, since=utcnow() - timedelta(days=1), until=utcnow())
        assert report.held_seconds == 42
    async with db.write() as session:
        result = await ledger.settle(session, job, 35)
    assert (result.captured, result.released) == (35, 7)
    assert await _balance(db, user_id) == 25


async def test_an_extension_takes_only_what_is_left_in_whole_quanta(db: Database) -> None:
    user_id, job = await _hold(db, 15, minutes=0.5)  # 15 held, 15 left
    async with db.write() as session:
        assert await ledger.extend(session, job, 60, quantum=10) == 10
        assert await ledger.extend(session, job, 60, quantum=10) == 0
    assert await _balance(db, user_id) == 5
    async with db.write() as session:
        assert await ledger.extend(session, job, 60) == 5
        assert await ledger.extend(session, job, 60) == 0
    assert await _balance(db, user_id) == 0


async def test_a_settled_job_cannot_be_extended(db: Database) -> None:
    user_id, job = await _hold(db, 10, minutes=1)
    async with db.write() as session:
        await ledger.release(session, job)
    async with db.write() as session:
        assert await ledger.extend(session, job, 10) == 0
    assert await _balance(db, user_id) == 60
    with pytest.raises(UnknownHold):
        async with db.write() as session:
            await ledger.extend(session, str(uuid.uuid4()), 10)


async def test_racing_extensions_and_holds_never_overdraw(db: Database) -> None:
    """50 extensions of 7 s and 50 new holds of 7 s race for 100 s: the balance ends at 2 s
    (100 = 14 × 7 + 2), never below zero, and the entries add up."""
    user_id, job = await _hold(db, 20, minutes=2)  # 120 - 20 = 100 left

    async def extend() -> int:
        async with db.write() as session:
            return await ledger.extend(session, job, 7, quantum=7)

    async def hold() -> int:
        try:
            async with db.write() as session:
                await ledger.hold(
                    session, user_id, 7, job_id=str(uuid.uuid4()), channel="api", usage_kind="asr"
                )
            return 7
        except Exception:
            return 0

    taken = await asyncio.gather(*(extend() for _ in range(50)), *(hold() for _ in range(50)))
    assert sum(taken) == 98
    assert await _balance(db, user_id) == 2
