"""Platform overhead: what the REST flow adds to the bare engine, per clip.

For several shared English clips: the bare engine's time (decode + recognize in this process with
PocketSphinx, the engine the deployments below use, already loaded) against the same clip through
the REST flow — presign, PUT, create, then the job's SSE stream until ``done`` — on

* embedded: one ``nagovori serve`` process (SQLite, in-process queue and worker threads);
* distributed: ``nagovori serve`` + a separate ``nagovori worker`` process over a private Redis
  (and a scratch PostgreSQL database when the server is reachable, else SQLite).

Each figure is the median of ``--repeats`` runs, after one warm-up job that loads the engine.
Target: the platform adds at most 10% or 150 ms per job, whichever is larger.

    .venv/bin/python -m bench.bench_platform [--repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402

from bench.stack import (  # noqa: E402
    SHARED_AUDIO,
    Deployment,
    create_job,
    deployment,
    distributed,
    median,
    until_done,
    upload,
    verdict,
    workdir,
)

T = TypeVar("T")

CLIPS = ["en/LJ001-0002.wav", "en/hotwords.mp3", "en/LJ001-0001.wav", "en/jfk.flac"]


def bare_seconds(clip: Path) -> tuple[float, float]:
    """(audio seconds, wall seconds to decode and recognize ``clip`` in this process)."""
    from asr.base import TranscriptionOptions
    from asr.engines.pocketsphinx import PocketSphinxEngine
    from asr.transcribe import transcribe_audio
    from core.audio.decode import read_pcm

    engine = _engine(PocketSphinxEngine)
    start = time.perf_counter()
    pcm = read_pcm(clip)
    audio = pcm.size / 16000
    transcribe_audio(
        engine, functools.partial(_as_stream, pcm), duration=audio, options=TranscriptionOptions()
    )
    return audio, time.perf_counter() - start


def _as_stream(pcm: np.ndarray, _channels: str) -> list[np.ndarray]:
    return [pcm]


@functools.cache
def _engine(cls: type[T]) -> T:
    # One engine for every clip, loaded before anything is timed (as a worker keeps its own).
    return cls()


async def rest_job(http: aiohttp.ClientSession, platform: Deployment, clip: Path, data: bytes) -> float:
    """Wall seconds for one clip through presign, PUT, create and the SSE stream's ``done``."""
    start = time.perf_counter()
    key = await upload(http, platform, clip, data)
    final = await until_done(http, platform, await create_job(http, platform, key))
    assert final["status"] == "completed", final
    return time.perf_counter() - start


async def measure(
    clips: list[Path], setups: dict[str, Deployment], repeats: int
) -> tuple[dict[str, tuple[float, float]], dict[str, dict[str, float]]]:
    """Bare and REST-flow seconds per clip (medians), taken in turn so that the machine's changing
    load falls on all of them alike; one unmeasured warm-up each loads the engines first."""
    files = {clip: clip.read_bytes() for clip in clips}
    bare: dict[str, list[float]] = {clip.name: [] for clip in clips}
    flows: dict[str, dict[str, list[float]]] = {name: {c.name: [] for c in clips} for name in setups}
    audio: dict[str, float] = {}
    async with aiohttp.ClientSession() as http:
        bare_seconds(clips[0])
        for platform in setups.values():
            await rest_job(http, platform, clips[0], files[clips[0]])
        for _ in range(repeats):
            for clip, data in files.items():
                audio[clip.name], seconds = bare_seconds(clip)
                bare[clip.name].append(seconds)
                for name, platform in setups.items():
                    flows[name][clip.name].append(await rest_job(http, platform, clip, data))
    return (
        {name: (audio[name], median(times)) for name, times in bare.items()},
        {setup: {name: median(times) for name, times in runs.items()} for setup, runs in flows.items()},
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_platform")
    parser.add_argument("--repeats", type=int, default=3, help="runs per clip and setup (default: 3)")
    args = parser.parse_args()
    clips = [SHARED_AUDIO / name for name in CLIPS]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"shared clips not found: {', '.join(missing)}", file=sys.stderr)
        return 1

    with (
        workdir("platform") as directory,
        deployment(directory / "embedded", worker_threads=1) as embedded,
        distributed(directory) as found,
    ):
        running = {"embedded": embedded}
        if found is None:
            print("distributed: redis-server is not installed, skipped")
        else:
            running[f"redis+worker ({found[1]})"] = found[0]
        bare, setups = asyncio.run(measure(clips, running, args.repeats))

    print(f"median of {args.repeats} runs per clip; PocketSphinx; target: overhead <= max(10%, 150 ms)")
    print(f"{'clip':<20} {'audio s':>7} {'bare s':>7}  " + "  ".join(f"{name:>34}" for name in setups))
    worst: dict[str, bool] = dict.fromkeys(setups, True)
    for clip in clips:
        audio, engine = bare[clip.name]
        cells = []
        for name, results in setups.items():
            total = results[clip.name]
            overhead = total - engine
            ok = overhead <= max(0.10 * engine, 0.150)
            worst[name] &= ok
            cells.append(
                f"{total:7.3f}s {overhead * 1000:+7.0f} ms {overhead / engine:+6.0%} {verdict(ok):>6}"
            )
        print(f"{clip.name:<20} {audio:7.1f} {engine:7.3f}  " + "  ".join(f"{c:>34}" for c in cells))
    for name, ok in worst.items():
        print(f"target (overhead <= max(10%, 150 ms) on every clip), {name}: {verdict(ok)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
