"""Each user's running storage total equals the sum over their uploads and TTS results after every
change (presign, PUT, discard, expiry sweeps, results stored and expired, a user deleted), is
backfilled by its migration, is audited, and decides racing presigns and PUTs near the quota
exactly — on SQLite and PostgreSQL. Presign reads one row instead of summing."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select, text, update

from cli.bootstrap import build_platform
from core.db.base import utcnow
from core.db.database import Database
from core.db.migrate import upgrade
from core.db.models import SpeechJob, Upload, User
from core.errors import StorageQuotaExceeded, TooManyObjects
from core.jobs.retention import sweep
from core.platform import Platform
from core.services import uploads
from core.services.ledger_audit import check_ledger
from core.services.quota import measure, recorded_usage, total_mismatches
from core.services.users import create_user
from tests.api_harness import api_settings, scratch_postgres

TOTALS_REVISION = importlib.import_module("migrations.versions.0007_storage_totals")
TRIGGERS = {
    "sqlite": set(TOTALS_REVISION.SQLITE_TRIGGERS),
    "postgresql": set(TOTALS_REVISION.POSTGRES_TRIGGERS),
}


@pytest.fixture
async def platform(tmp_path: Path, database_url: str) -> AsyncIterator[Platform]:
    settings = api_settings(tmp_path, database_url, storage_quota_mb=1, storage_quota_objects=5)
    built = build_platform(settings)
    try:
        yield built
    finally:
        await built.events.close()
        await built.close()


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def put(platform: Platform, key: str, data: bytes) -> Upload:
    return await uploads.receive(
        platform,
        key,
        chunks(data),
        max_bytes=platform.settings.max_upload_bytes,
        sha256=None,
        content_type=None,
    )


async def assert_totals_exact(platform: Platform, user_id: str) -> tuple[int, int]:
    """The audit finds nothing, and the user's total is what ``measure`` sums (no grant expired)."""
    async with platform.db.read() as session:
        assert await total_mismatches(session) == []
        recorded = await recorded_usage(session, platform.settings, user_id)
        assert recorded == await measure(session, platform.settings, user_id)
    return recorded.bytes_used, recorded.objects


def statements(db: Database) -> list[str]:
    sent: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.strip().split()[0].upper())

    return sent


async def test_the_triggers_exist_at_the_head_revision(platform: Platform) -> None:
    async with platform.db.read() as session:
        if platform.db.is_sqlite:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        found = set((await session.scalars(text(query))).all())
    assert TRIGGERS[platform.db.engine.dialect.name] <= found


async def test_every_change_of_uploads_and_results_keeps_the_total_equal_to_the_sum(
    platform: Platform,
) -> None:
    user = await create_user(platform.db)
    assert await assert_totals_exact(platform, user.id) == (0, 0)
    first = await uploads.presign(platform, user.id, filename="a.mp3")
    second = await uploads.presign(platform, user.id, filename="b.mp3")
    assert await assert_totals_exact(platform, user.id) == (0, 2)
    await put(platform, first.object_key, b"a" * 1000)
    assert await assert_totals_exact(platform, user.id) == (1000, 2)
    await uploads.discard(platform, user.id, second.object_key)
    assert await assert_totals_exact(platform, user.id) == (1000, 1)
    # A TTS result counts from when it is stored until it expires
    job = SpeechJob(user_id=user.id, text="hi", voice="x", status="completed", completed_at=utcnow())
    async with platform.db.write() as session:
        session.add(job)
    async with platform.db.write() as session:
        await session.execute(
            update(SpeechJob)
            .where(SpeechJob.id == job.id)
            .values(result_key=f"results/{user.id}/{job.id}.mp3", result_size_bytes=300)
        )
    assert await assert_totals_exact(platform, user.id) == (1300, 2)
    report = await sweep(platform, now=utcnow() + timedelta(days=400))  # everything expires
    assert report.uploads_deleted == [first.object_key] and report.results_expired == [job.id]
    assert await assert_totals_exact(platform, user.id) == (0, 0)
    # A deleted user's total goes with them
    await uploads.presign(platform, user.id, filename="c.mp3")
    async with platform.db.write() as session:
        await session.execute(delete(User).where(User.id == user.id))
    async with platform.db.read() as session:
        assert await total_mismatches(session) == []
        assert await session.scalar(text("SELECT count(*) FROM storage_totals")) == 0


async def test_presign_is_one_statement_and_sums_nothing(platform: Platform) -> None:
    user = await create_user(platform.db)
    sent = statements(platform.db)
    await uploads.presign(platform, user.id, filename="a.mp3", size_bytes=1000)
    assert sent == ["INSERT"]  # decides and inserts; no BEGIN, no COMMIT round trips
    sent.clear()
    presigned = await uploads.presign(platform, user.id, filename="b.mp3")  # no size: what is left
    assert sent == ["INSERT", "SELECT"]
    assert f"max_bytes={1024 * 1024}" in presigned.upload_url  # the whole (empty) 1 MB quota


async def test_racing_presigns_at_the_object_limit_never_exceed_it(platform: Platform) -> None:
    user = await create_user(platform.db)
    for index in range(3):
        await uploads.presign(platform, user.id, filename=f"{index}.mp3")
    outcomes = await asyncio.gather(
        *(uploads.presign(platform, user.id, filename=f"race{i}.mp3") for i in range(6)),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 2, outcomes
    assert all(isinstance(o, TooManyObjects) for o in outcomes if isinstance(o, BaseException)), outcomes
    assert await assert_totals_exact(platform, user.id) == (0, 5)


async def test_racing_puts_near_the_byte_limit_never_exceed_it(platform: Platform) -> None:
    user = await create_user(platform.db)
    granted = [await uploads.presign(platform, user.id, filename=f"{i}.mp3") for i in range(3)]
    size = 400 * 1024  # any one fits in the 1 MB quota, two fit, three do not
    outcomes = await asyncio.gather(
        *(put(platform, grant.object_key, bytes([i]) * size) for i, grant in enumerate(granted)),
        return_exceptions=True,
    )
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 2, outcomes
    assert all(isinstance(o, StorageQuotaExceeded) for o in outcomes if isinstance(o, BaseException))
    assert await assert_totals_exact(platform, user.id) == (2 * size, 3)


async def test_presigns_and_puts_of_one_user_at_once_never_deadlock(platform: Platform) -> None:
    """A PUT locks the user, then the total; a presign must take them in the same order (the other
    order deadlocked hundreds of times in this test on PostgreSQL)."""
    platform.settings.storage_quota_objects = 10_000
    for _ in range(3):
        user = await create_user(platform.db)
        granted = [await uploads.presign(platform, user.id, filename=f"{i}.mp3") for i in range(16)]

        async def presigns(user_id: str = user.id) -> None:
            for index in range(4):
                await uploads.presign(platform, user_id, filename=f"new{index}.mp3", size_bytes=10)

        outcomes = await asyncio.gather(
            *(put(platform, grant.object_key, bytes([i]) * 100) for i, grant in enumerate(granted)),
            *(presigns() for _ in range(16)),
            return_exceptions=True,
        )
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        assert await assert_totals_exact(platform, user.id) == (1600, 16 + 64)


async def test_expired_grants_give_their_place_back_at_the_limit(platform: Platform) -> None:
    user = await create_user(platform.db)
    for index in range(5):
        await uploads.presign(platform, user.id, filename=f"{index}.mp3")
    with pytest.raises(TooManyObjects):
        await uploads.presign(platform, user.id, filename="full.mp3")
    # Two grants' URLs expire: the quota no longer counts them, and the next presign takes a place
    ttl = timedelta(seconds=platform.settings.upload_url_ttl_seconds + 1)
    async with platform.db.write() as session:
        oldest = (await session.scalars(select_oldest(user.id, 2))).all()
        await session.execute(update(Upload).where(Upload.id.in_(oldest)).values(created_at=utcnow() - ttl))
    await uploads.presign(platform, user.id, filename="now.mp3")
    assert await assert_totals_exact(platform, user.id) == (0, 4)


def select_oldest(user_id: str, count: int) -> Any:
    return select(Upload.id).where(Upload.user_id == user_id).order_by(Upload.created_at).limit(count)


async def test_the_audit_finds_a_total_that_drifted(platform: Platform) -> None:
    user = await create_user(platform.db)
    await uploads.presign(platform, user.id, filename="a.mp3")
    async with platform.db.write() as session:
        await session.execute(text("UPDATE storage_totals SET objects = objects + 1"))
    async with platform.db.read() as session:
        [found] = await total_mismatches(session)
    assert (found.user_id, found.recorded, found.counted) == (user.id, (0, 2), (0, 1))
    report = await check_ledger(platform.db, quantum=1)
    assert [v.kind for v in report.violations] == ["storage_total"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_migration_backfills_existing_users(tmp_path: Path, kind: str) -> None:
    async def populate(url: str) -> str:
        db = Database(url)
        try:
            async with db.write() as session:
                user = User(id=str(uuid.uuid4()))
                session.add(user)
                await session.flush()
                session.add_all(
                    [
                        Upload(
                            user_id=user.id, object_key=f"uploads/{user.id}/a", filename="a", size_bytes=70
                        ),
                        Upload(user_id=user.id, object_key=f"uploads/{user.id}/b", filename="b"),
                    ]
                )
            return user.id
        finally:
            await db.dispose()

    def migrated(url: str) -> tuple[str, list[Any], tuple[int, int]]:
        upgrade(url, TOTALS_REVISION.down_revision)
        user_id = asyncio.run(populate(url))
        upgrade(url)
        return user_id, *asyncio.run(audit(url, user_id))

    async def audit(url: str, user_id: str) -> tuple[list[Any], tuple[int, int]]:
        db = Database(url)
        try:
            async with db.read() as session:
                row = (
                    await session.execute(
                        text("SELECT bytes_used, objects FROM storage_totals WHERE user_id = :u"),
                        {"u": user_id},
                    )
                ).one()
                return await total_mismatches(session), (row[0], row[1])
        finally:
            await db.dispose()

    if kind == "sqlite":
        result = migrated(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    else:
        with scratch_postgres() as url:
            result = migrated(url)
    _, mismatches, totals = result
    assert mismatches == [] and totals == (70, 2)
