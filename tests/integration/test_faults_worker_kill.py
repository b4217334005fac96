"""A ``nagovori worker`` process killed with SIGKILL in the middle of a job (distributed mode, Redis):
a new worker finishes the job, the user is charged once, and a Telegram reply is delivered once.

The worker is a real child process running the real PocketSphinx engine over about 40 s of
speech; nothing is faked. The kill leaves the job ``processing`` with a heartbeat that stops; the
replacement's reconciler notices after ``JOB_STALE_SECONDS`` (10, the smallest allowed) and
re-queues it.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from billing import ledger
from bots.wiring import build_bot
from cli.bootstrap import build_platform
from cli.wiring import Engines, running_workers
from core.db.models import Job, TranscriptionJob, User
from core.events import job_channel
from core.platform import Platform
from core.services import uploads
from core.services.transcriptions import TranscriptionRequest, request_transcription
from core.services.users import create_user
from core.settings import Settings
from tests.api_harness import api_settings
from tests.e2e.bot_harness import TOKEN, tg_user, voice_note
from tests.e2e.telegram_emulator import TelegramEmulator
from tests.integration.fault_harness import (
    WorkerProcess,
    captured,
    describe,
    job_row,
    ledger_kinds,
    long_speech,
    platform_env,
    wait_until,
)
from tests.integration.ledger_invariant import assert_ledger_consistent

pytestmark = [pytest.mark.slow, pytest.mark.redis]

SPEECH_SECONDS = 40


def fault_settings(tmp_path: Path, database_url: str, redis_url: str, **overrides: object) -> Settings:
    return api_settings(
        tmp_path,
        database_url,
        redis_url,
        worker_threads=1,
        job_stale_seconds=10,
        reconcile_interval_seconds=1,
        **overrides,
    )


async def upload(platform: Platform, user_id: str, path: Path) -> str:
    presigned = await uploads.presign(platform, user_id, filename=path.name)

    async def body() -> AsyncIterator[bytes]:
        yield path.read_bytes()

    await uploads.receive(
        platform, presigned.object_key, body(), max_bytes=10**9, sha256=None, content_type=None
    )
    return presigned.object_key


async def kill_mid_job(platform: Platform, worker: WorkerProcess, job_id: str) -> None:
    """SIGKILL ``worker`` once the engine has recognized a sentence of the job (a live ``token``
    event; there is one per sentence, so joining a moment after the job was queued is fine),
    then check that the job was cut off rather than finished."""

    async def first_token() -> None:
        async with platform.events.subscribe(job_channel(job_id)) as events:
            async for event in events:
                if event.get("type") == "token":
                    return

    # Progress in the database is no use here: heartbeats lag while the engine holds the GIL.
    await asyncio.wait_for(first_token(), timeout=90)
    worker.kill()
    job = await job_row(platform.db, job_id)
    assert job.status == "processing" and job.attempts == 1 and job.completed_at is None, describe(job)


async def finished(platform: Platform, job_id: str, *, within: float = 120) -> TranscriptionJob:
    async def done() -> TranscriptionJob | None:
        job = await job_row(platform.db, job_id)
        return job if job.status in ("completed", "failed", "cancelled") else None

    return await wait_until(done, within=within, what=f"job {job_id} to finish")


async def assert_charged_once(
    platform: Platform, job_id: str, user_id: str, charge: int, *, left: int
) -> None:
    """``charge`` captured once for the job (a hold, one capture, the release of the rest), ``left``
    seconds on its user's balance, and the ledger adds up."""
    assert await captured(platform.db, job_id) == [charge]
    assert await ledger_kinds(platform.db, job_id) == ["hold", "capture", "release"]
    async with platform.db.read() as session:
        assert await ledger.balance(session, user_id) == left
    await assert_ledger_consistent(platform.db)


def show_output(first: WorkerProcess, second: WorkerProcess | None) -> None:
    print(first.output(), second.output() if second else "", sep="\n--- worker 2 ---\n")


async def shut_down(platform: Platform, first: WorkerProcess, second: WorkerProcess | None) -> None:
    """Stop the worker processes, then close the platform."""
    first.stop()
    if second is not None:
        second.stop()
    await platform.events.close()
    await platform.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_killed_workers_api_job_is_finished_by_another_and_charged_once(
    tmp_path: Path, database_url: str, redis_url: str, shared_audio: Path
) -> None:
    settings = fault_settings(tmp_path, database_url, redis_url)
    clip = tmp_path / "speech.wav"
    seconds = long_speech(shared_audio, clip, seconds=SPEECH_SECONDS)
    platform = build_platform(settings)
    env = platform_env(settings)
    first = WorkerProcess(env, tmp_path / "worker-1.log")
    second: WorkerProcess | None = None
    try:
        user = await create_user(platform.db, starting_minutes=5)
        key = await upload(platform, user.id, clip)
        first.wait_ready()
        job = await request_transcription(platform, user.id, TranscriptionRequest(object_key=key))
        await kill_mid_job(platform, first, job.id)
        assert first.process.returncode == -9
        second = WorkerProcess(env, tmp_path / "worker-2.log")
        done = await finished(platform, job.id)

        assert done.status == "completed", describe(done)
        assert done.attempts == 2  # the killed attempt and the one that finished
        assert {"printing", "books"} <= set(re.findall(r"[a-z]+", (done.transcript_text or "").lower()))
        charge = math.ceil(seconds)
        assert done.billed_seconds == charge
        await assert_charged_once(platform, job.id, user.id, charge, left=300 - charge)
        assert second.alive(), second.output()
    except BaseException:
        show_output(first, second)
        raise
    finally:
        await shut_down(platform, first, second)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_killed_workers_telegram_job_is_answered_once_and_charged_once(
    tmp_path: Path, database_url: str, redis_url: str, shared_audio: Path
) -> None:
    emulator = TelegramEmulator(TOKEN)
    await emulator.start()
    settings = fault_settings(
        tmp_path,
        database_url,
        redis_url,
        telegram_token=TOKEN,
        telegram_api_url=emulator.url,
        bot_framework="aiogram",
        free_minutes=10,
    )
    clip = tmp_path / "speech.wav"
    long_speech(shared_audio, clip, seconds=SPEECH_SECONDS)
    data, duration = voice_note(clip)
    platform = build_platform(settings)
    env = platform_env(settings)
    first = WorkerProcess(env, tmp_path / "worker-1.log")
    second: WorkerProcess | None = None
    try:
        # The bot runs here (it only queues jobs); the worker processes do the rest, delivery included.
        async with running_workers(platform, Engines.from_settings(settings), consume=False, reconcile=False):
            bot = build_bot(platform, polling_timeout=1, progress_interval=0.2)
            await bot.start()
            try:
                first.wait_ready()
                anna = tg_user(301)
                update = emulator.message_update(anna, media=emulator.voice(data, duration))
                await emulator.push(update)
                voice_id = int(update["message"]["message_id"])

                async def queued_job() -> str | None:
                    async with platform.db.read() as session:
                        return await session.scalar(
                            select(Job.id).join(User, User.id == Job.user_id).where(User.telegram_id == 301)
                        )

                job_id = await wait_until(queued_job, within=30, what="the bot to queue the voice note")
                await kill_mid_job(platform, first, job_id)
                second = WorkerProcess(env, tmp_path / "worker-2.log")
                done = await finished(platform, job_id)
                assert done.status == "completed", describe(done)
                assert done.attempts == 2

                async def delivered() -> TranscriptionJob | None:
                    job = await job_row(platform.db, job_id)
                    return job if job.delivered_at is not None else None

                await wait_until(delivered, within=60, what="the transcript to be delivered")
                await asyncio.sleep(2)  # room for a second answer, were one on its way
            finally:
                await bot.stop()
        replies = [m for m in emulator.sent(301, include_deleted=True) if m.reply_to == voice_id]
        status, *answers = replies
        assert status.deleted  # the status message gave way to the answer
        assert len(answers) == 1, [m.text for m in answers]
        assert "printing" in (answers[0].text or "").lower()
        # Held: Telegram's whole seconds; charged: the file's real length, rounded up (the same here).
        assert done.billed_seconds == duration
        await assert_charged_once(platform, job_id, done.user_id, duration, left=600 - duration)
    except BaseException:
        show_output(first, second)
        raise
    finally:
        await shut_down(platform, first, second)
        await emulator.stop()
