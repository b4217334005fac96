"""Presigns that arrive together share one write transaction (``core.services.grant_batches``) and
are still decided exactly: near the object and the byte limit exactly the grants that fit are made,
two users share a batch, a failed batch makes none of its grants, a cancelled waiter's grant is
either never made or counted — and the totals always equal a recount. On SQLite and PostgreSQL.

``asyncio.gather`` starts its presigns before the drain task runs, so they all reach one batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError

from cli.bootstrap import build_platform
from core.db.base import utcnow
from core.db.database import Database
from core.db.models import Upload
from core.errors import StorageQuotaExceeded, TooManyObjects
from core.platform import Platform
from core.services import uploads
from core.services.grant_batches import grant_upload
from core.services.quota import measure, recorded_usage, total_mismatches, upload_values
from core.services.users import create_user
from core.storage.s3 import S3ObjectStore
from tests.api_harness import api_settings
from tests.s3_server import fresh_bucket, s3_server, s3_settings

KIB = 1024


@pytest.fixture
async def platform(tmp_path: Path, database_url: str) -> AsyncIterator[Platform]:
    """The local disk store: a grant counts one object and no bytes until its PUT."""
    settings = api_settings(tmp_path, database_url, storage_quota_mb=1, storage_quota_objects=5)
    async with closing(build_platform(settings)) as built:
        yield built


@pytest.fixture
async def s3_platform(tmp_path: Path, database_url: str) -> AsyncIterator[Platform]:
    """Object storage: a grant with a declared size reserves those bytes at once (a direct upload)."""
    server = s3_server()
    settings = api_settings(
        tmp_path,
        database_url,
        storage_quota_mb=1,
        storage_quota_objects=10_000,
        **s3_settings(server, fresh_bucket(server)),
    )
    async with closing(build_platform(settings)) as built:
        assert isinstance(built.store, S3ObjectStore)
        yield built


@asynccontextmanager
async def closing(platform: Platform) -> AsyncIterator[Platform]:
    try:
        yield platform
    finally:
        await platform.events.close()
        await platform.close()


async def assert_totals_exact(platform: Platform, *user_ids: str) -> list[tuple[int, int]]:
    """The audit finds nothing, and each user's total is what ``measure`` sums; the totals."""
    found = []
    async with platform.db.read() as session:
        assert await total_mismatches(session) == []
        for user_id in user_ids:
            recorded = await recorded_usage(session, platform.settings, user_id)
            assert recorded == await measure(session, platform.settings, user_id)
            found.append((recorded.bytes_used, recorded.objects))
    return found


def inserts(db: Database) -> list[bool]:
    """One entry per INSERT sent from now on: whether it was an executemany."""
    sent: list[bool] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            sent.append(many)

    return sent


async def filenames(platform: Platform, user_id: str) -> set[str]:
    async with platform.db.read() as session:
        return set((await session.scalars(select(Upload.filename).where(Upload.user_id == user_id))).all())


def succeeded(outcomes: list[Any]) -> list[Any]:
    return [o for o in outcomes if not isinstance(o, BaseException)]


def refused(outcomes: list[Any]) -> list[BaseException]:
    return [o for o in outcomes if isinstance(o, BaseException)]


async def test_racing_presigns_at_the_object_limit_take_exactly_the_places_left(platform: Platform) -> None:
    user = await create_user(platform.db)
    for index in range(3):
        await uploads.presign(platform, user.id, filename=f"{index}.mp3")
    outcomes = await asyncio.gather(
        *(uploads.presign(platform, user.id, filename=f"race{i}.mp3") for i in range(100)),
        return_exceptions=True,
    )
    assert len(succeeded(outcomes)) == 2, refused(outcomes)[:3]
    assert all(isinstance(o, TooManyObjects) for o in refused(outcomes)), refused(outcomes)[:3]
    # Decided in arrival order: the first two of the batch took the places
    assert {o.object_key for o in succeeded(outcomes)} == {o.object_key for o in outcomes[:2]}  # type: ignore[union-attr]
    assert await assert_totals_exact(platform, user.id) == [(0, 5)]


async def test_racing_direct_presigns_at_the_byte_limit_reserve_exactly_what_fits(
    s3_platform: Platform,
) -> None:
    platform = s3_platform
    user = await create_user(platform.db)
    sent = inserts(platform.db)
    outcomes = await asyncio.gather(
        *(uploads.presign(platform, user.id, filename=f"{i}.wav", size_bytes=100 * KIB) for i in range(100)),
        return_exceptions=True,
    )
    assert len(succeeded(outcomes)) == 10  # 10 × 100 KiB fit in 1 MiB, 11 do not
    assert all(isinstance(o, StorageQuotaExceeded) for o in refused(outcomes)), refused(outcomes)[:3]
    refusal = refused(outcomes)[0]
    assert isinstance(refusal, StorageQuotaExceeded)
    assert refusal.details["used_bytes"] == 1000 * KIB and refusal.details["size_bytes"] == 100 * KIB
    assert sent == [True]  # one batch: its ten rows in one executemany
    assert await assert_totals_exact(platform, user.id) == [(1000 * KIB, 10)]


async def test_a_grant_without_a_size_may_take_what_its_batch_left(s3_platform: Platform) -> None:
    platform = s3_platform
    user = await create_user(platform.db)
    first, unsized, last = await asyncio.gather(
        uploads.presign(platform, user.id, filename="a.wav", size_bytes=300 * KIB),
        uploads.presign(platform, user.id, filename="b.wav"),
        uploads.presign(platform, user.id, filename="c.wav", size_bytes=300 * KIB),
    )
    # The quota left after the grants before it in the batch (the API's own URL: no declared size)
    assert f"max_bytes={1024 * KIB - 300 * KIB}" in unsized.upload_url
    assert platform.settings.effective_public_url in unsized.upload_url
    assert first.upload_url != last.upload_url
    assert await assert_totals_exact(platform, user.id) == [(600 * KIB, 3)]


async def test_two_users_in_one_batch_are_each_decided_on_their_own_total(s3_platform: Platform) -> None:
    platform = s3_platform
    small, large = await create_user(platform.db), await create_user(platform.db)
    sent = inserts(platform.db)
    requests = []
    for index in range(6):  # interleaved: small, large, small, large, …
        requests.append(uploads.presign(platform, small.id, filename=f"s{index}.wav", size_bytes=300 * KIB))
        requests.append(uploads.presign(platform, large.id, filename=f"l{index}.wav", size_bytes=500 * KIB))
    outcomes = await asyncio.gather(*requests, return_exceptions=True)
    small_outcomes, large_outcomes = outcomes[0::2], outcomes[1::2]
    assert [isinstance(o, StorageQuotaExceeded) for o in small_outcomes] == [False] * 3 + [True] * 3
    assert [isinstance(o, StorageQuotaExceeded) for o in large_outcomes] == [False] * 2 + [True] * 4
    assert sent == [True]
    assert await assert_totals_exact(platform, small.id, large.id) == [(900 * KIB, 3), (1000 * KIB, 2)]


async def test_a_failed_batch_makes_none_of_its_grants(platform: Platform) -> None:
    platform.settings.storage_quota_objects = 100
    user = await create_user(platform.db)
    await uploads.presign(platform, user.id, filename="before.mp3")
    before = await assert_totals_exact(platform, user.id)

    def row(index: int, key: str) -> dict[str, Any]:
        return upload_values(user_id=user.id, object_key=key, filename=f"{index}.mp3")

    # Two grants of the batch claim one key: the insert fails, so the whole transaction does
    clash = f"uploads/{user.id}/clash.mp3"
    keys = [f"uploads/{user.id}/{i}.mp3" for i in range(3)] + [clash, clash]
    outcomes = await asyncio.gather(
        *(grant_upload(platform, user.id, row(i, key), size_bytes=None) for i, key in enumerate(keys)),
        return_exceptions=True,
    )
    assert all(isinstance(o, IntegrityError) for o in outcomes), outcomes
    assert await filenames(platform, user.id) == {"before.mp3"}
    assert await assert_totals_exact(platform, user.id) == before
    # The next grants are decided as usual
    after = await asyncio.gather(
        *(uploads.presign(platform, user.id, filename=f"n{i}.mp3") for i in range(2))
    )
    assert len(after) == 2
    assert await assert_totals_exact(platform, user.id) == [(0, 3)]


async def test_a_waiter_cancelled_while_queued_makes_no_grant(platform: Platform) -> None:
    user = await create_user(platform.db)
    tasks = [asyncio.create_task(uploads.presign(platform, user.id, filename=f"{i}.mp3")) for i in range(4)]
    await asyncio.sleep(0)  # each task has queued its grant; the drain task has not run yet
    tasks[1].cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[1], asyncio.CancelledError)
    assert len(succeeded(outcomes)) == 3
    assert await filenames(platform, user.id) == {"0.mp3", "2.mp3", "3.mp3"}
    assert await assert_totals_exact(platform, user.id) == [(0, 3)]


async def test_a_waiter_cancelled_while_its_batch_is_written_leaves_a_counted_grant(
    platform: Platform,
) -> None:
    user = await create_user(platform.db)
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(uploads.presign(platform, user.id, filename=f"{i}.mp3")) for i in range(4)]

    @event.listens_for(platform.db.engine.sync_engine, "before_cursor_execute")
    def _cancel(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        if many and statement.lstrip().upper().startswith("INSERT"):
            loop.call_soon_threadsafe(tasks[2].cancel)

    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[2], asyncio.CancelledError)
    assert len(succeeded(outcomes)) == 3
    # Its row was committed with the batch: counted, and an unused grant that expires like others
    assert await filenames(platform, user.id) == {"0.mp3", "1.mp3", "2.mp3", "3.mp3"}
    assert await assert_totals_exact(platform, user.id) == [(0, 4)]


async def test_grants_refused_for_the_object_count_retry_after_dropping_expired_ones(
    platform: Platform,
) -> None:
    user = await create_user(platform.db)
    for index in range(5):
        await uploads.presign(platform, user.id, filename=f"{index}.mp3")
    ttl = timedelta(seconds=platform.settings.upload_url_ttl_seconds + 1)
    async with platform.db.write() as session:
        oldest = select(Upload.id).where(Upload.user_id == user.id).order_by(Upload.created_at).limit(2)
        expired = (await session.scalars(oldest)).all()
        await session.execute(update(Upload).where(Upload.id.in_(expired)).values(created_at=utcnow() - ttl))
    # The batch refuses all of them on the total (it counts the expired grants); alone, they drop
    # the expired grants and take the places freed (racing refusals may each find none left)
    outcomes = await asyncio.gather(
        *(uploads.presign(platform, user.id, filename=f"new{i}.mp3") for i in range(20)),
        return_exceptions=True,
    )
    assert 1 <= len(succeeded(outcomes)) <= 2, refused(outcomes)[:3]
    assert all(isinstance(o, TooManyObjects) for o in refused(outcomes)), refused(outcomes)[:3]
    async with platform.db.read() as session:
        left = await session.scalar(select(func.count()).where(Upload.id.in_(expired)))
    assert left == 0
    [(_, objects)] = await assert_totals_exact(platform, user.id)
    assert objects == 3 + len(succeeded(outcomes))
