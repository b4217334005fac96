"""The reconciler re-delivers only jobs that have somewhere to deliver to: an API job (no
``delivery``) is never re-sent, on SQLite and PostgreSQL, including rows written before the
column stored SQL NULL (they held JSON ``null``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from cli.bootstrap import build_platform
from core.db.base import utcnow
from core.db.migrate import alembic_config, upgrade_async
from core.db.models import TranscriptionJob
from core.jobs.reconciler import reconcile
from core.platform import Platform
from core.services.users import create_user
from core.settings import Settings


@pytest.fixture
async def platform(tmp_path: Path, database_url: str) -> AsyncIterator[Platform]:
    settings = Settings.load(data_dir=tmp_path / "data", database_url=database_url, redis_url="")
    built = build_platform(settings)  # a StubBroker; no worker consumes what is sent
    for queue in ("asr", "tts", "deliver"):
        built.broker.declare_queue(queue)
    yield built
    await built.events.close()
    await built.close()


async def _finished_job(platform: Platform, user_id: str, delivery: dict[str, object] | None) -> str:
    """A completed job, finished long ago and not delivered (as the reconciler sees it)."""
    job = TranscriptionJob(
        user_id=user_id,
        status="completed",
        source="api" if delivery is None else "telegram",
        delivery=delivery,
        completed_at=utcnow() - timedelta(hours=1),
    )
    async with platform.db.write() as session:
        session.add(job)
    return job.id


async def test_an_api_job_without_delivery_is_never_resent(platform: Platform) -> None:
    user = await create_user(platform.db)
    api_job = await _finished_job(platform, user.id, None)
    bot_job = await _finished_job(platform, user.id, {"chat_id": 42})

    first = await reconcile(platform)
    second = await reconcile(platform)

    assert first.redelivered == [bot_job]
    assert second.redelivered == [bot_job]  # still undelivered (no worker here); the API job never
    async with platform.db.read() as session:
        stored = await session.scalar(
            text("SELECT COUNT(*) FROM jobs WHERE id = :id AND delivery IS NULL"), {"id": api_job}
        )
    assert stored == 1  # SQL NULL, not the JSON text 'null'


async def test_rows_holding_json_null_are_migrated_to_sql_null(platform: Platform, database_url: str) -> None:
    user = await create_user(platform.db)
    job_id = await _finished_job(platform, user.id, None)
    cast = "CAST('null' AS JSON)" if platform.db.engine.dialect.name == "postgresql" else "'null'"
    async with platform.db.write() as session:  # as rows written before the fix were stored
        await session.execute(text(f"UPDATE jobs SET delivery = {cast} WHERE id = :id"), {"id": job_id})
    assert (await reconcile(platform)).redelivered == [job_id]  # the bug, reproduced
    await platform.db.dispose()

    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0002")
    await upgrade_async(database_url)  # applies the conversion to the JSON null row

    assert (await reconcile(platform)).redelivered == []
