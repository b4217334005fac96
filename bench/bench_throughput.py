"""Throughput on the real Whisper model: 50 short voice notes submitted at once, 1 and 2 worker processes.

Distributed mode (``nagovori serve`` + ``nagovori worker --processes N`` over a private Redis and a
scratch PostgreSQL database), Whisper base (bundled, int8, one job at a time per process), as
processes × CTranslate2 threads: 1×2, 2×2 (the same threads setting, one more process) and 2×1 (the
machine's two cores split between the processes). The notes are the shared clips of 3–10 s (English and Russian, taken in turn),
encoded as OGG/Opus like Telegram voice notes. All are uploaded first (not timed); then the 50 jobs
are created at once and the clock runs from the first ``POST /v1/transcriptions`` until the last
job has completed. Before that, a few warm-up jobs load the model in every worker process.

The worker's memory is the peak resident set (``VmHWM``) of every worker process at the end.

    .venv/bin/python -m bench.bench_throughput [--notes N] [--configs 1x2,2x2,2x1]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.bench_whisper_overhead import whisper_base, whisper_settings  # noqa: E402
from bench.stack import (  # noqa: E402
    SHARED_AUDIO,
    Deployment,
    child_pids,
    create_job,
    deployment,
    peak_rss_kib,
    private_redis,
    scratch_postgres,
    upload,
    workdir,
)

SHORTEST, LONGEST = 3.0, 10.0


Note = tuple[str, bytes, float]  # file name, OGG/Opus bytes, audio seconds


def voice_notes(count: int) -> list[Note]:
    """``count`` notes of 3–10 s as OGG/Opus, cycling through the shared clips of that length."""
    from core.audio.decode import read_pcm
    from core.audio.encode import encode

    with (SHARED_AUDIO / "references.tsv").open(encoding="utf-8") as fh:
        names = [row["file"] for row in csv.DictReader(fh, delimiter="\t")]
    notes: list[Note] = []
    for name in names:
        pcm = read_pcm(SHARED_AUDIO / name)
        if SHORTEST <= pcm.size / 16000 <= LONGEST:
            notes.append((Path(name).stem + ".ogg", encode(pcm, 16000, "opus"), pcm.size / 16000))
    if not notes:
        raise RuntimeError(f"no shared clips of {SHORTEST:g}–{LONGEST:g} s")
    return [notes[i % len(notes)] for i in range(count)]


async def statuses(http: aiohttp.ClientSession, platform: Deployment, ids: list[str]) -> dict[str, str]:
    """The status of each job (one request per job, at most 10 at a time)."""
    limit = asyncio.Semaphore(10)

    async def one(job_id: str) -> tuple[str, str]:
        async with (
            limit,
            http.get(f"{platform.base}/v1/transcriptions/{job_id}", headers=platform.auth) as response,
        ):
            return job_id, str((await response.json())["status"])

    return dict(await asyncio.gather(*(one(job_id) for job_id in ids)))


async def run_batch(
    http: aiohttp.ClientSession, platform: Deployment, notes: list[Note]
) -> tuple[float, int]:
    """Upload ``notes``, create them all at once; (seconds until every job ended, jobs failed)."""
    keys = [await upload(http, platform, Path(name), data) for name, data, _ in notes]
    start = time.perf_counter()
    ids = list(await asyncio.gather(*(create_job(http, platform, key, language="auto") for key in keys)))
    pending = set(ids)
    failed = 0
    while pending:
        await asyncio.sleep(0.25)
        # Only the jobs still pending are asked about, so polling costs less as the batch drains.
        for job_id, status in (await statuses(http, platform, sorted(pending))).items():
            if status in ("completed", "failed", "cancelled"):
                pending.discard(job_id)
                failed += status != "completed"
    return time.perf_counter() - start, failed


async def measure(platform: Deployment, notes: list[Note], processes: int) -> tuple[float, int]:
    async with aiohttp.ClientSession() as http:
        # Two jobs per process (each prefetches two) so that every process loads its model first.
        await run_batch(http, platform, notes[: 2 * processes])
        return await run_batch(http, platform, notes)


def worker_rss(platform: Deployment, processes: int) -> list[int]:
    """Peak RSS (KiB) of each process that runs jobs (the children of ``--processes N``)."""
    (parent,) = platform.workers
    pids = child_pids(parent.pid) if processes > 1 else [parent.pid]
    return [peak_rss_kib(pid) for pid in pids]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_throughput")
    parser.add_argument("--notes", type=int, default=50, help="voice notes per batch (default: 50)")
    parser.add_argument(
        "--configs",
        default="1x2,2x2,2x1",
        help="worker processes x Whisper threads each (default: 1x2,2x2,2x1)",
    )
    args = parser.parse_args()
    configs = [tuple(int(n) for n in config.split("x")) for config in args.configs.split(",")]
    notes = voice_notes(args.notes)
    folder = whisper_base()
    rows: list[tuple[int, int, float, int, list[int]]] = []
    database = "SQLite"
    with workdir("throughput") as directory, private_redis(directory) as redis_url:
        if redis_url is None:
            print("redis-server is not installed: the distributed throughput cannot be measured")
            return 0
        for processes, threads in configs:
            with (
                scratch_postgres() as postgres_url,
                deployment(
                    directory / f"workers-{processes}x{threads}",
                    database_url=postgres_url or "",
                    redis_url=redis_url,
                    max_active_jobs=str(args.notes),  # one account submits them all
                    **whisper_settings(folder, threads),
                ) as platform,
            ):
                platform.start_worker(threads=1, processes=processes)
                seconds, failed = asyncio.run(measure(platform, notes, processes))
                rows.append((processes, threads, seconds, failed, worker_rss(platform, processes)))
            database = "PostgreSQL" if postgres_url else "SQLite"

    audio = sum(seconds for _, _, seconds in notes)
    print(
        f"{len(notes)} voice notes ({audio:.0f} s of audio, OGG/Opus, {SHORTEST:g}–{LONGEST:g} s, shared "
        "clips in turn) submitted at once; "
        f"distributed: serve + `nagovori worker --processes N --threads 1`, Redis, {database}; "
        "Whisper base int8 with NAGOVORI_WHISPER_THREADS=T; 2 CPU cores shared"
    )
    print(
        f"{'processes':>9} {'threads T':>9} {'seconds':>8} {'jobs/min':>8} {'audio x':>7} {'failed':>6}  "
        "peak RSS per worker process"
    )
    for processes, threads, seconds, failed, rss in rows:
        per_process = ", ".join(f"{kib / 1024:.0f} MiB" for kib in rss)
        print(
            f"{processes:>9} {threads:>9} {seconds:8.1f} {len(notes) / seconds * 60:8.1f} "
            f"{audio / seconds:6.1f}x {failed:>6}  {per_process}"
        )
    print("audio x: seconds of audio transcribed per wall second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
