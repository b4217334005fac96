"""The job pipeline end to end through both brokers, on real databases, with the real PocketSphinx
engine: dispatch, processing, capture, refunds, duplicate and lost messages, dead workers, fairness."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from billing import ledger
from cli.bootstrap import build_platform
from cli.wiring import Engines, running_workers
from core.audio.decode import read_pcm
from core.audio.encode import encode_to_file
from core.audio.errors import AudioError
from core.audio.probe import probe
from core.db.base import utcnow
from core.db.models import Job, TranscriptionJob
from core.errors import AudioTooShort, TooManyJobs
from core.jobs import admission
from core.jobs.reconciler import reconcile
from core.platform import Platform
from core.services import uploads
from core.services.transcriptions import TranscriptionRequest, cancel_job, request_transcription
from core.services.users import create_user
from tests.api_harness import api_settings
from tests.integration.ledger_invariant import assert_ledger_consistent

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s


@dataclass
class Env:
    platform: Platform
    user_id: str
    clip: Path


@pytest.fixture(params=["stub", "redis"])
def broker_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def env(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, broker_kind: str, shared_audio: Path
) -> AsyncIterator[Env]:
    redis_url = request.getfixturevalue("redis_url") if broker_kind == "redis" else ""
    marker = request.node.get_closest_marker("settings")
    settings = api_settings(
        tmp_path, database_url, redis_url, job_stale_seconds=30, **(marker.kwargs if marker else {})
    )
    platform = build_platform(settings)
    user = await create_user(platform.db, starting_minutes=1)
    async with running_workers(platform, Engines.from_settings(settings), reconcile=False):
        yield Env(platform, user.id, shared_audio / CLIP)
    try:
        await assert_ledger_consistent(platform.db)  # whatever the test did, the ledger adds up
    finally:
        await platform.events.close()
        await platform.close()


async def upload(env: Env, path: Path) -> str:
    presigned = await uploads.presign(env.platform, env.user_id, filename=path.name)

    async def body() -> AsyncIterator[bytes]:
        yield path.read_bytes()

    await uploads.receive(
        env.platform, presigned.object_key, body(), max_bytes=10**8, sha256=None, content_type=None
    )
    return presigned.object_key


async def wait_finished(env: Env, job_id: str, within: float = 60) -> TranscriptionJob:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with env.platform.db.read() as session:
            job = await session.get(TranscriptionJob, job_id)
        assert job is not None
        if job.status in ("completed", "failed", "cancelled"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {within} s (status {job.status})")


async def balance(env: Env) -> int:
    async with env.platform.db.read() as session:
        return await ledger.balance(session, env.user_id)


async def dead_workers_job(env: Env, *, attempts: int) -> TranscriptionJob:
    """A job a worker claimed and died on: processing, ``attempts`` used, silent for a minute."""
    key = await upload(env, env.clip)
    job = TranscriptionJob(user_id=env.user_id, object_key=key, language="auto", duration_seconds=1.9)
    async with env.platform.db.write() as session:
        await admission.submit(session, job, hold_seconds=2, max_queued=20, max_active=1)
        await session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(status="processing", attempts=attempts, heartbeat_at=utcnow() - timedelta(minutes=1))
        )
    return job


async def drain(env: Env) -> None:
    """Wait until the broker has no message left in any queue (both brokers implement join)."""
    for queue in ("asr", "tts", "deliver"):
        await asyncio.to_thread(env.platform.broker.join, queue, timeout=30_000)


async def test_job_is_transcribed_and_charged_for_its_seconds(env: Env) -> None:
    key = await upload(env, env.clip)
    duration = probe(env.clip).duration_seconds
    job = await request_transcription(env.platform, env.user_id, TranscriptionRequest(object_key=key))
    assert job.status == "queued"
    assert await balance(env) == 60 - math.ceil(duration)  # held while it runs

    done = await wait_finished(env, job.id)

    assert done.status == "completed", done.error_message
    assert "comparatively" in (done.transcript_text or "")
    assert done.segments and done.segments[0]["end"] > done.segments[0]["start"]
    assert done.billed_seconds == math.ceil(duration)
    assert done.detected_language == "en"
    assert await balance(env) == 60 - math.ceil(duration)


async def test_engine_refusal_fails_the_job_and_refunds(env: Env) -> None:
    key = await upload(env, env.clip)
    job = await request_transcription(
        env.platform, env.user_id, TranscriptionRequest(object_key=key, language="de")
    )

    done = await wait_finished(env, job.id)

    assert done.status == "failed"
    assert done.error_code == "unsupported_language"
    assert done.error_message and "de" in done.error_message
    assert done.billed_seconds == 0
    assert await balance(env) == 60


async def test_a_message_delivered_twice_charges_once(env: Env) -> None:
    key = await upload(env, env.clip)
    job = await request_transcription(env.platform, env.user_id, TranscriptionRequest(object_key=key))
    first = await wait_finished(env, job.id)

    await env.platform.queue.send("asr", job.id)
    await env.platform.queue.send("asr", job.id)
    await drain(env)

    async with env.platform.db.read() as session:
        again = await session.get(TranscriptionJob, job.id)
    assert again is not None and again.attempts == 1 and again.completed_at == first.completed_at
    assert await balance(env) == 60 - (first.billed_seconds or 0)


async def test_a_lost_message_is_recovered_by_the_reconciler(env: Env) -> None:
    key = await upload(env, env.clip)
    job = TranscriptionJob(user_id=env.user_id, object_key=key, language="auto", duration_seconds=1.9)
    async with env.platform.db.write() as session:
        sends = await admission.submit(session, job, hold_seconds=2, max_queued=20, max_active=1)
    assert sends == [("asr", job.id)]  # ...and never sent: the message is "lost"

    report = await reconcile(env.platform, stale_after=timedelta(0))

    assert report.resent == [job.id]
    done = await wait_finished(env, job.id)
    assert done.status == "completed" and done.billed_seconds == 2


async def test_a_dead_workers_job_is_requeued_and_charged_once(env: Env) -> None:
    job = await dead_workers_job(env, attempts=1)

    report = await reconcile(env.platform)

    assert report.requeued == [job.id]
    done = await wait_finished(env, job.id)
    assert done.status == "completed" and done.attempts == 2
    assert await balance(env) == 58


@pytest.mark.settings(job_max_attempts=2)
async def test_a_job_out_of_attempts_fails_and_refunds(env: Env) -> None:
    job = await dead_workers_job(env, attempts=2)

    report = await reconcile(env.platform)

    assert report.failed == [job.id]
    done = await wait_finished(env, job.id)
    assert done.status == "failed" and done.error_code == "worker_lost"
    assert await balance(env) == 60


async def test_one_user_runs_one_job_at_a_time_in_order(env: Env) -> None:
    key = await upload(env, env.clip)
    jobs = [
        await request_transcription(env.platform, env.user_id, TranscriptionRequest(object_key=key))
        for _ in range(3)
    ]
    most_at_once = 0
    while True:
        async with env.platform.db.read() as session:
            statuses = (await session.scalars(select(Job.status).where(Job.user_id == env.user_id))).all()
        most_at_once = max(most_at_once, statuses.count("processing"))
        if all(s == "completed" for s in statuses):
            break
        await asyncio.sleep(0.02)
    finished = [await wait_finished(env, j.id) for j in jobs]
    assert most_at_once == 1
    started = [j.started_at for j in finished]
    assert started == sorted(started)  # type: ignore[type-var]


@pytest.mark.settings(max_queued_jobs=2, max_active_jobs=1)
async def test_more_than_the_queue_limit_is_refused_without_a_hold(env: Env) -> None:
    key = await upload(env, env.clip)
    async with env.platform.db.write() as session:  # two waiting jobs fill the queue
        for _ in range(2):
            await admission.submit(
                session,
                TranscriptionJob(user_id=env.user_id, object_key=key, language="auto"),
                hold_seconds=2,
                max_queued=2,
                max_active=0,
            )
    before = await balance(env)
    with pytest.raises(TooManyJobs):
        await request_transcription(env.platform, env.user_id, TranscriptionRequest(object_key=key))
    assert await balance(env) == before


async def test_cancel_releases_the_hold(env: Env) -> None:
    key = await upload(env, env.clip)
    async with env.platform.db.write() as session:
        job = TranscriptionJob(user_id=env.user_id, object_key=key, language="auto")
        await admission.submit(session, job, hold_seconds=20, max_queued=20, max_active=0)
    assert await balance(env) == 40
    cancelled = await cancel_job(env.platform, env.user_id, job.id)
    assert cancelled.status == "cancelled"
    assert await balance(env) == 60


async def test_unusable_audio_is_refused_before_any_charge(env: Env, tmp_path: Path) -> None:
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(AudioError):
        await request_transcription(
            env.platform, env.user_id, TranscriptionRequest(object_key=await upload(env, noise))
        )
    short = tmp_path / "short.wav"
    encode_to_file(read_pcm(env.clip)[:8000], 16000, "wav", short)  # half a second
    with pytest.raises(AudioTooShort):
        await request_transcription(
            env.platform, env.user_id, TranscriptionRequest(object_key=await upload(env, short))
        )
    assert await balance(env) == 60
    async with env.platform.db.read() as session:
        assert (await session.scalars(select(Job.id).where(Job.user_id == env.user_id))).all() == []
