"""Redis restarted while jobs wait in its queues: none is lost (the reconciler re-sends what the
database says is waiting) and none runs twice (claims are conditional), and the worker process
rides out the restart.

The Redis here is a server of our own on another loopback port, started without persistence, so
a restart really forgets every queued message; the machine's Redis is never touched.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from billing import ledger
from cli.bootstrap import build_platform
from core.audio.probe import probe
from core.platform import Platform
from core.services.transcriptions import TranscriptionRequest, request_transcription
from core.services.users import create_user
from core.settings import Settings
from tests.integration.fault_harness import (
    RedisServer,
    WorkerProcess,
    captured,
    describe,
    job_row,
    ledger_kinds,
    long_speech,
    platform_env,
    redis_server,
    wait_until,
    worker_process,
)
from tests.integration.test_faults_worker_kill import upload

pytestmark = [pytest.mark.slow]

SHORT = "en/LJ001-0002.wav"  # 1.9 s
WAITING_USERS = 4  # each with two jobs: one dispatched (a message in Redis), one held back


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_jobs_waiting_in_a_restarted_redis_all_run_exactly_once(
    tmp_path: Path, database_url: str, shared_audio: Path
) -> None:
    with redis_server(tmp_path / "redis") as server:
        settings = Settings.load(
            data_dir=tmp_path / "data",
            database_url=database_url,
            redis_url=server.url,
            asr_engine="pocketsphinx",
            tts_engine="espeak",
            job_stale_seconds=10,
            reconcile_interval_seconds=1,
            max_active_jobs=1,
        )
        platform = build_platform(settings)
        try:
            with worker_process(platform_env(settings), tmp_path / "worker.log", threads=1) as worker:
                try:
                    await _scenario(platform, server, worker, tmp_path, shared_audio)
                except BaseException:
                    print(worker.output())
                    raise
        finally:
            await platform.events.close()
            await platform.close()


async def _scenario(
    platform: Platform, server: RedisServer, worker: WorkerProcess, tmp_path: Path, shared_audio: Path
) -> None:
    # Given a worker busy with a long job, so that the others wait in Redis...
    long_clip = tmp_path / "long.wav"
    long_seconds = long_speech(shared_audio, long_clip, seconds=20)
    busy = await create_user(platform.db, starting_minutes=5)
    long_job = await request_transcription(
        platform, busy.id, TranscriptionRequest(object_key=await upload(platform, busy.id, long_clip))
    )

    async def started() -> bool:
        return (await job_row(platform.db, long_job.id)).status == "processing"

    await wait_until(started, within=60, what="the long job to start")
    owners: dict[str, str] = {long_job.id: busy.id}
    for _ in range(WAITING_USERS):
        user = await create_user(platform.db, starting_minutes=1)
        key = await upload(platform, user.id, shared_audio / SHORT)
        for _ in range(2):
            job = await request_transcription(platform, user.id, TranscriptionRequest(object_key=key))
            owners[job.id] = user.id
    with server.client() as client:
        # The worker prefetches two messages; the rest are only in Redis.
        waiting_in_redis = client.llen("nagovori:asr")
    assert waiting_in_redis >= WAITING_USERS - 2, waiting_in_redis

    # ...when Redis restarts, forgetting every message...
    server.restart()
    with server.client() as client:
        assert client.llen("nagovori:asr") == 0

    # ...then every job still finishes, each in exactly one attempt, each charged once.
    async def all_finished() -> bool:
        for job_id in owners:
            if (await job_row(platform.db, job_id)).status not in ("completed", "failed", "cancelled"):
                return False
        return True

    await wait_until(all_finished, within=120, what="every job to finish", every=0.5)
    short_charge = math.ceil(probe(shared_audio / SHORT).duration_seconds)
    for job_id in owners:
        job = await job_row(platform.db, job_id)
        assert job.status == "completed" and job.attempts == 1, describe(job)
        expected = math.ceil(long_seconds) if job_id == long_job.id else short_charge
        assert await captured(platform.db, job_id) == [expected]
        assert await ledger_kinds(platform.db, job_id) == ["hold", "capture", "release"]
    for user_id in set(owners.values()) - {busy.id}:
        async with platform.db.read() as session:
            assert await ledger.balance(session, user_id) == 60 - 2 * short_charge
    assert worker.alive(), "the worker did not survive the Redis restart"
