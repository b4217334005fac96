"""The minute ledger on real SQLite and PostgreSQL: holds, settlement, idempotency, concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from billing import ledger
from billing.errors import InsufficientMinutes, UnknownHold
from billing.usage import ledger_sum, usage_report
from core.db.base import utcnow
from core.db.database import Database
from core.services.users import create_user
from tests.integration.ledger_invariant import assert_ledger_consistent


@pytest.fixture(autouse=True)
async def ledger_adds_up_afterwards(db: Database) -> AsyncIterator[None]:
    yield
    await assert_ledger_consistent(db)


async def _user(db: Database, minutes: float = 0) -> str:
    return (await create_user(db, starting_minutes=minutes)).id


async def _balance(db: Database, user_id: str) -> int:
    async with db.read() as session:
        return await ledger.balance(session, user_id)


async def test_starting_minutes_set_the_balance_exactly(db: Database) -> None:
    user_id = await _user(db, minutes=2.5)
    assert await _balance(db, user_id) == 150


async def test_hold_then_settle_charges_only_what_was_used(db: Database) -> None:
    user_id = await _user(db, minutes=1)
    job = str(uuid.uuid4())
    async with db.write() as session:
        await ledger.hold(session, user_id, 40, job_id=job, channel="api", usage_kind="asr")
    assert await _balance(db, user_id) == 20
    async with db.write() as session:
        result = await ledger.settle(session, job, 31)
    assert (result.captured, result.released) == (31, 9)
    assert await _balance(db, user_id) == 29
    async with db.read() as session:
        assert await ledger_sum(session, user_id) == 29


async def test_settling_twice_charges_once(db: Database) -> None:
    user_id = await _user(db, minutes=1)
    job = str(uuid.uuid4())
    async with db.write() as session:
        await ledger.hold(session, user_id, 30, job_id=job, channel="api", usage_kind="asr")
    async with db.write() as session:
        await ledger.settle(session, job, 30)
    async with db.write() as session:
        again = await ledger.settle(session, job, 30)
        also = await ledger.release(session, job)
    assert again.already_settled and also.already_settled
    assert await _balance(db, user_id) == 30


async def test_a_capture_past_the_hold_takes_the_rest_from_the_balance_but_never_below_zero(
    db: Database,
) -> None:
    user_id = await _user(db, minutes=1)
    job, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with db.write() as session:
        await ledger.hold(session, user_id, 10, job_id=job, channel="telegram", usage_kind="asr")
        result = await ledger.settle(session, job, 25)
    assert (result.captured, result.released) == (25, 0)
    assert await _balance(db, user_id) == 35
    async with db.write() as session:
        await ledger.hold(session, user_id, 10, job_id=other, channel="telegram", usage_kind="asr")
        result = await ledger.settle(session, other, 500)
    assert result.captured == 35
    assert await _balance(db, user_id) == 0
    async with db.read() as session:
        assert await ledger_sum(session, user_id) == 0


async def test_release_gives_everything_back(db: Database) -> None:
    user_id = await _user(db, minutes=1)
    job = str(uuid.uuid4())
    async with db.write() as session:
        await ledger.hold(session, user_id, 60, job_id=job, channel="api", usage_kind="tts")
    assert await _balance(db, user_id) == 0
    async with db.write() as session:
        await ledger.release(session, job)
    assert await _balance(db, user_id) == 60


async def test_hold_beyond_the_balance_is_refused_and_changes_nothing(db: Database) -> None:
    user_id = await _user(db, minutes=0.5)
    with pytest.raises(InsufficientMinutes) as caught:
        async with db.write() as session:
            await ledger.hold(session, user_id, 31, job_id=str(uuid.uuid4()), channel="api", usage_kind="asr")
    assert caught.value.details == {"required_seconds": 31, "available_seconds": 30}
    assert await _balance(db, user_id) == 30


async def test_settling_an_unknown_job_is_an_error(db: Database) -> None:
    with pytest.raises(UnknownHold):
        async with db.write() as session:
            await ledger.settle(session, str(uuid.uuid4()), 1)


async def test_idempotent_grants(db: Database) -> None:
    user_id = await _user(db)
    async with db.write() as session:
        assert await ledger.grant(session, user_id, 600, source="purchase", idempotency_key="payment:abc")
    async with db.write() as session:
        assert not await ledger.grant(session, user_id, 600, source="purchase", idempotency_key="payment:abc")
    assert await _balance(db, user_id) == 600


async def test_concurrent_holds_never_overdraw(db: Database) -> None:
    """100 holds of 6 s race for a balance of 60 s: exactly 10 win, the balance ends at zero."""
    user_id = await _user(db, minutes=1)

    async def attempt() -> bool:
        try:
            async with db.write() as session:
                await ledger.hold(
                    session, user_id, 6, job_id=str(uuid.uuid4()), channel="api", usage_kind="asr"
                )
            return True
        except InsufficientMinutes:
            return False

    results = await asyncio.gather(*(attempt() for _ in range(100)))
    assert sum(results) == 10
    assert await _balance(db, user_id) == 0
    async with db.read() as session:
        assert await ledger_sum(session, user_id) == 0


async def test_usage_report_by_channel_and_kind(db: Database) -> None:
    user_id = await _user(db, minutes=10)
    since = utcnow()
    for channel, kind, seconds in (("api", "asr", 30), ("telegram", "asr", 20), ("telegram", "tts", 5)):
        job = str(uuid.uuid4())
        async with db.write() as session:
            await ledger.hold(session, user_id, seconds + 10, job_id=job, channel=channel, usage_kind=kind)
            await ledger.settle(session, job, seconds)
    open_job = str(uuid.uuid4())
    async with db.write() as session:
        await ledger.hold(session, user_id, 7, job_id=open_job, channel="api", usage_kind="asr")
    async with db.read() as session:
        report = await usage_report(session, user_id, since=since, until=utcnow())
    assert report.by_channel == {"api": 30, "telegram": 25}
    assert report.by_kind == {"asr": 50, "tts": 5}
    assert report.used_seconds == 55
    assert report.held_seconds == 7
    assert report.remaining_seconds == 600 - 55 - 7
    assert report.recent[0].kind == "hold"
