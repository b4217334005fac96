"""Scale: transcription jobs per minute with one and with two ``nagovori worker`` processes on Redis,
and the workers' resident memory across many jobs.

A private Redis and a scratch PostgreSQL database (SQLite when the server is unreachable); jobs of
one shared clip, created in this process through the same service the API calls; PocketSphinx,
one thread per worker process. Throughput counts from the first job's start to the last one's
end (worker start-up excluded). Memory: each worker's RSS once ``--warmup`` jobs are done (the
model loaded, caches warm) and at the end.
Targets: two workers do at least 1.7x the jobs of one; RSS grows less than 5% across the run.

    .venv/bin/python -m bench.bench_scale [--jobs-one N] [--jobs N] [--warmup N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    SHARED_AUDIO,
    Deployment,
    deployment,
    private_redis,
    rss_kib,
    scratch_postgres,
    verdict,
    workdir,
)

CLIP = "en/LJ001-0002.wav"  # 1.9 s


async def run_jobs(platform: Deployment, count: int, on_progress: list[int]) -> float:
    """Create ``count`` jobs and wait for them; returns jobs per minute (first start to last end)."""
    from sqlalchemy import func, select

    from cli.bootstrap import build_platform
    from core.db.models import Job
    from core.services import uploads
    from core.services.transcriptions import TranscriptionRequest, request_transcription
    from core.settings import Settings

    settings = Settings.load(
        data_dir=Path(platform.env["NAGOVORI_DATA_DIR"]),
        database_url=platform.env["NAGOVORI_DATABASE_URL"],
        redis_url=platform.env["NAGOVORI_REDIS_URL"],
        secret_key=platform.env["NAGOVORI_SECRET_KEY"],
        max_active_jobs=10**6,
        max_queued_jobs=10**6,
    )
    core = build_platform(settings)
    try:
        data = (SHARED_AUDIO / CLIP).read_bytes()
        presigned = await uploads.presign(core, platform.user_id, filename="clip.wav")

        async def body() -> AsyncIterator[bytes]:
            yield data

        await uploads.receive(
            core,
            presigned.object_key,
            body(),
            max_bytes=10**8,
            sha256=None,
            content_type=None,
        )
        request = TranscriptionRequest(object_key=presigned.object_key)
        ids = [(await request_transcription(core, platform.user_id, request)).id for _ in range(count)]
        while True:
            async with core.db.read() as session:
                done = await session.scalar(
                    select(func.count()).select_from(Job).where(Job.id.in_(ids), Job.status == "completed")
                )
                failed = await session.scalar(
                    select(func.count()).select_from(Job).where(Job.id.in_(ids), Job.status == "failed")
                )
            on_progress.append(int(done or 0))
            if failed:
                raise RuntimeError(f"{failed} jobs failed")
            if done == count:
                break
            await asyncio.sleep(0.5)
        async with core.db.read() as session:
            first, last = (
                await session.execute(
                    select(func.min(Job.started_at), func.max(Job.completed_at)).where(Job.id.in_(ids))
                )
            ).one()
        assert first is not None and last is not None
        return count / ((last - first).total_seconds() / 60)
    finally:
        await core.events.close()
        await core.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scale")
    parser.add_argument("--jobs-one", type=int, default=60, help="jobs for the one-worker run (default: 60)")
    parser.add_argument("--jobs", type=int, default=500, help="jobs for the two-worker run (default: 500)")
    parser.add_argument(
        "--warmup", type=int, default=50, help="jobs before the first RSS reading (default: 50)"
    )
    args = parser.parse_args()
    with workdir("scale") as directory, private_redis(directory) as redis_url:
        if redis_url is None:
            print("redis-server is not installed: nothing to measure")
            return 0
        with scratch_postgres() as postgres_url:
            database = "PostgreSQL" if postgres_url else "SQLite"
            with deployment(
                directory / "one", database_url=postgres_url or "", redis_url=redis_url, serve=False
            ) as one:
                one.start_worker()
                per_minute_one = asyncio.run(run_jobs(one, args.jobs_one, []))
        with (
            scratch_postgres() as postgres_url,
            deployment(
                directory / "two", database_url=postgres_url or "", redis_url=redis_url, serve=False
            ) as two,
        ):
            workers = [two.start_worker(), two.start_worker()]
            progress: list[int] = []
            readings: list[tuple[int, list[int]]] = []
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(0.5):
                    done = progress[-1] if progress else 0
                    readings.append((done, [rss_kib(w.pid) for w in workers]))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            per_minute_two = asyncio.run(run_jobs(two, args.jobs, progress))
            stop.set()
            sampler.join()
            final = [rss_kib(w.pid) for w in workers]

    speedup = per_minute_two / per_minute_one
    print(f"Redis + {database}, PocketSphinx, one thread per worker, {CLIP} (1.9 s) per job")
    print(f"1 worker:  {per_minute_one:7.0f} jobs/min ({args.jobs_one} jobs)")
    print(f"2 workers: {per_minute_two:7.0f} jobs/min ({args.jobs} jobs)")
    print(f"speed-up: {speedup:.2f}x (target >= 1.7x): {verdict(speedup >= 1.7)}")
    warm = next(
        (rss for done, rss in readings if done >= args.warmup), readings[-1][1] if readings else final
    )
    print(f"worker RSS after {args.warmup} jobs -> after {args.jobs} jobs (both workers):")
    for number, (before, after) in enumerate(zip(warm, final, strict=True), start=1):
        growth = (after - before) / before
        print(
            f"  worker {number}: {before / 1024:6.1f} MiB -> {after / 1024:6.1f} MiB ({growth:+.1%}; "
            f"target < +5%): {verdict(growth < 0.05)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
