"""Concurrent job creation against a small balance: exactly the affordable jobs get in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from billing import ledger
from billing.errors import InsufficientMinutes
from billing.usage import ledger_sum
from cli.bootstrap import build_platform
from core.db.models import Job
from core.jobs.actors import declare_actors
from core.jobs.runtime import RuntimeHolder
from core.platform import Platform
from core.services import uploads
from core.services.transcriptions import TranscriptionRequest, request_transcription
from core.services.users import create_user
from core.settings import Settings
from tests.integration.ledger_invariant import assert_ledger_consistent


@pytest.fixture
async def platform(tmp_path: Path, database_url: str) -> AsyncIterator[Platform]:
    settings = Settings.load(data_dir=tmp_path / "data", database_url=database_url, max_queued_jobs=200)
    platform = build_platform(settings)

    def no_runtime() -> object:
        raise AssertionError("nothing consumes in this test")

    declare_actors(platform.broker, RuntimeHolder(no_runtime), max_retries=1)  # type: ignore[arg-type]
    yield platform
    await platform.close()


async def test_hundred_creations_against_a_balance_for_ten(platform: Platform, shared_audio: Path) -> None:
    clip = shared_audio / "en" / "LJ001-0002.wav"  # 1.9 s → a hold of 2 s each
    user = await create_user(platform.db, starting_minutes=20 / 60)
    presigned = await uploads.presign(platform, user.id, filename=clip.name)

    async def body() -> AsyncIterator[bytes]:
        yield clip.read_bytes()

    await uploads.receive(
        platform, presigned.object_key, body(), max_bytes=10**7, sha256=None, content_type=None
    )

    async def create() -> bool:
        try:
            await request_transcription(
                platform, user.id, TranscriptionRequest(object_key=presigned.object_key)
            )
            return True
        except InsufficientMinutes:
            return False

    results = await asyncio.gather(*(create() for _ in range(100)))

    assert sum(results) == 10
    async with platform.db.read() as session:
        assert await ledger.balance(session, user.id) == 0
        assert await ledger_sum(session, user.id) == 0
        jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.user_id == user.id))
        dispatched = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.user_id == user.id, Job.dispatched_at.is_not(None))
        )
    assert jobs == 10
    assert dispatched == 1  # one active job per user; the other nine wait their turn
    await assert_ledger_consistent(platform.db)
