"""Platform overhead on the real Whisper model: bare faster-whisper against a job, per clip.

Whisper base (the bundled model, int8, 2 threads) over shared English and Russian clips of 2–11 s,
language ``auto``:

* bare: ``WhisperModel.transcribe(path, ...)`` in this process with the options the platform's
  engine passes for a default job, timed until every segment has been consumed (decoding
  included: faster-whisper reads the file itself);
* platform: the clip is uploaded first (presign + PUT, not timed); then from
  ``POST /v1/transcriptions`` until the job's SSE stream says ``done`` (status ``completed``), on
  embedded (one ``nagovori serve``, SQLite) and distributed (``nagovori serve`` + a
  ``nagovori worker`` process over a private Redis and a scratch PostgreSQL database);
* engine path: the platform's probe + streaming decode + ``WhisperEngine`` in this process, with
  no job around it, to tell the engine's share of the overhead from the job machinery's.

Each engine is warmed up once; the clips are taken in turn so that the machine's changing load
falls on all of them alike; figures are medians of ``--repeats`` runs. The job's own timestamps
split the added time into queueing (created → started) and the rest. Target: at most 1.10× or
+150 ms per job.

    .venv/bin/python -m bench.bench_whisper_overhead [--repeats N] [--clips N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.stack import (  # noqa: E402
    SHARED_AUDIO,
    Deployment,
    cpu_seconds,
    create_job,
    deployment,
    distributed,
    median,
    until_done,
    upload,
    verdict,
    workdir,
)

MODELS_DIR = ROOT / "tests" / ".cache" / "models"  # shared with the tests' cache (git-ignored)
THREADS = 2
# Short to long, English and Russian; the first ``--clips`` are used.
CLIPS = [
    "en/s2p-lock_the_Front_Door.wav",
    "ru/s2p-ru-01.wav",
    "en/LJ001-0001.wav",
    "ru/deepspeech-ru.wav",
    "en/hotwords.mp3",
    "en/LJ001-0004.wav",
    "en/jfk.flac",
]


def whisper_base() -> Path:
    """The bundled Whisper base model's CTranslate2 folder, assembled once."""
    from bundled.assemble import ensure
    from bundled.catalog import WHISPER_BASE

    return ensure(WHISPER_BASE, MODELS_DIR)


class WhisperSettings(TypedDict):
    """``deployment`` settings that make the platform transcribe with a Whisper folder."""

    asr_engine: str
    whisper_model: str
    whisper_threads: str


def whisper_settings(folder: Path, threads: int = THREADS) -> WhisperSettings:
    return WhisperSettings(asr_engine="whisper", whisper_model=str(folder), whisper_threads=str(threads))


class BareWhisper:
    """faster-whisper on its own, called as ``asr.engines.whisper`` calls it for a default job."""

    def __init__(self, folder: Path) -> None:
        from faster_whisper import WhisperModel

        self.model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=THREADS)

    def run(self, clip: Path) -> tuple[float, float, str]:
        """(wall seconds, CPU seconds, text) for one clip, every segment consumed."""
        start, cpu = time.perf_counter(), time.process_time()
        segments, _ = self.model.transcribe(
            str(clip),
            language=None,  # auto: faster-whisper detects it on the first window it encodes
            task="transcribe",
            vad_filter=True,
            word_timestamps=False,
            initial_prompt=None,
            hotwords=None,
        )
        text = " ".join(" ".join(s.text.split()) for s in segments)
        return time.perf_counter() - start, time.process_time() - cpu, text


class EnginePath:
    """The platform's engine path without the job around it: what ``process_transcription`` runs
    (probe, streaming decode, ``transcribe_audio`` over ``WhisperEngine``) in this process."""

    def __init__(self, folder: Path) -> None:
        from asr.engines.whisper import WhisperEngine

        self.engine = WhisperEngine("base", folder, threads=THREADS)

    def run(self, clip: Path) -> tuple[float, float, str]:
        """(wall seconds, CPU seconds, text) for one clip."""
        from asr.base import TranscriptionOptions
        from asr.transcribe import transcribe_audio
        from core.audio.decode import decode_pcm
        from core.audio.probe import probe

        start, cpu = time.perf_counter(), time.process_time()
        result = transcribe_audio(
            self.engine,
            lambda channels: decode_pcm(clip, channels=channels),
            duration=probe(clip).duration_seconds,
            options=TranscriptionOptions(language="auto"),
        )
        return time.perf_counter() - start, time.process_time() - cpu, result.text


@dataclass(frozen=True)
class JobTiming:
    """One job seen from the client, with the server's own timestamps."""

    seconds: float  # POST /v1/transcriptions → `done` received
    cpu: float  # CPU seconds the deployment's processes used meanwhile
    queued: float  # created_at → started_at
    api: float  # the rest: the create request before the row exists, the `done` event's way back
    working: float  # started_at → completed_at
    text: str


async def timed_job(http: aiohttp.ClientSession, platform: Deployment, clip: Path, data: bytes) -> JobTiming:
    """Upload (untimed), then time one job from its creation to ``completed``."""
    key = await upload(http, platform, clip, data)
    pids = platform.pids()
    start, cpu = time.perf_counter(), cpu_seconds(pids)
    job_id = await create_job(http, platform, key, language="auto")
    final = await until_done(http, platform, job_id)
    seconds, cpu = time.perf_counter() - start, cpu_seconds(pids) - cpu
    assert final["status"] == "completed", final
    created, started, completed = (
        dt.datetime.fromisoformat(final[name]) for name in ("created_at", "started_at", "completed_at")
    )
    return JobTiming(
        seconds=seconds,
        cpu=cpu,
        queued=(started - created).total_seconds(),
        working=(completed - started).total_seconds(),
        api=seconds - (completed - created).total_seconds(),
        text=str(final.get("text") or final.get("transcript_text") or ""),
    )


@dataclass
class ClipResult:
    audio: float
    bare: list[float]
    bare_cpu: list[float]
    engine: list[float]
    engine_cpu: list[float]
    texts: set[str]
    jobs: dict[str, list[JobTiming]]


async def measure(
    clips: list[Path], bare: BareWhisper, engine: EnginePath, setups: dict[str, Deployment], repeats: int
) -> dict[str, ClipResult]:
    """Bare and platform runs per clip, interleaved; one unmeasured warm-up each first."""
    from core.audio.probe import probe

    files = {clip: clip.read_bytes() for clip in clips}
    results = {
        clip.name: ClipResult(
            probe(clip).duration_seconds, [], [], [], [], set(), {name: [] for name in setups}
        )
        for clip in clips
    }
    async with aiohttp.ClientSession() as http:
        bare.run(clips[0])
        engine.run(clips[0])
        for platform in setups.values():
            await timed_job(http, platform, clips[0], files[clips[0]])
        for _ in range(repeats):
            for clip, data in files.items():
                result = results[clip.name]
                seconds, cpu, text = bare.run(clip)
                result.bare.append(seconds)
                result.bare_cpu.append(cpu)
                result.texts.add(text)
                seconds, cpu, text = engine.run(clip)
                result.engine.append(seconds)
                result.engine_cpu.append(cpu)
                result.texts.add(text)
                for name, platform in setups.items():
                    job = await timed_job(http, platform, clip, data)
                    result.jobs[name].append(job)
                    result.texts.add(job.text)
    return results


def report(results: dict[str, ClipResult], setups: list[str], repeats: int, load: tuple[str, str]) -> None:
    print(
        f"Whisper base (bundled, int8, {THREADS} threads), language auto; median of {repeats} runs per "
        "clip after one warm-up; platform = POST /v1/transcriptions → SSE `done`, upload excluded"
    )
    print(f"load average (1, 5, 15 min) before: {load[0]}; after: {load[1]} (2 cores shared)")
    print("target per job: platform <= 1.10 x bare, or at most +150 ms (wall time)")
    print(
        "api ms: job total minus created_at → completed_at (the create request, the `done` event's way "
        "back); queued ms: created_at → started_at; worker s: started_at → completed_at"
    )
    print("CPU s: user + system seconds of this process (bare) / of the deployment's processes (platform)")
    width = max(len(n) for n in results)
    for setup in setups:
        print(f"\n{setup}")
        print(
            f"{'clip':<{width}} {'audio s':>7} {'bare s':>7} {'platform s':>10} {'ratio':>6} "
            f"{'added ms':>8} {'api ms':>6} {'queued ms':>9} {'worker s':>8} {'bare CPU s':>10} "
            f"{'platf. CPU s':>12}  target"
        )
        met = True
        best: list[float] = []
        ratios: list[float] = []
        added: list[float] = []
        added_cpu: list[float] = []
        for name, result in results.items():
            bare, bare_cpu = median(result.bare), median(result.bare_cpu)
            jobs = result.jobs[setup]
            total, cpu = median([j.seconds for j in jobs]), median([j.cpu for j in jobs])
            ok = total <= 1.10 * bare or total - bare <= 0.150
            met &= ok
            ratios.append(total / bare)
            added.append(total - bare)
            added_cpu.append(cpu - bare_cpu)
            best.append(min(j.seconds for j in jobs) - min(result.bare))
            print(
                f"{name:<{width}} {result.audio:7.1f} {bare:7.3f} {total:10.3f} {total / bare:5.2f}x "
                f"{(total - bare) * 1000:+8.0f} {median([j.api for j in jobs]) * 1000:6.0f} "
                f"{median([j.queued for j in jobs]) * 1000:9.0f} "
                f"{median([j.working for j in jobs]):8.3f} {bare_cpu:10.2f} {cpu:12.2f}  {verdict(ok)}"
            )
        print(
            f"{setup}: ratio {min(ratios):.2f}–{max(ratios):.2f}x, added {min(added) * 1000:+.0f} to "
            f"{max(added) * 1000:+.0f} ms (median {median(added) * 1000:+.0f} ms), CPU added median "
            f"{median(added_cpu) * 1000:+.0f} ms, best run against best run: median {median(best) * 1000:+.0f} ms; "
            f"target on every clip: {verdict(met)}"
        )
    print("\nengine path in this process (probe + streaming decode + WhisperEngine), no job around it")
    print(
        f"{'clip':<{width}} {'bare s':>7} {'engine s':>8} {'ratio':>6} {'bare CPU s':>10} {'engine CPU s':>12}"
    )
    for name, result in results.items():
        bare, engine = median(result.bare), median(result.engine)
        print(
            f"{name:<{width}} {bare:7.3f} {engine:8.3f} {engine / bare:5.2f}x {median(result.bare_cpu):10.2f} "
            f"{median(result.engine_cpu):12.2f}"
        )
    differing = [name for name, result in results.items() if len(result.texts) > 1]
    print(
        "\nsame text from bare, engine path and platform on every run: "
        + ("yes" if not differing else f"no, differs on {', '.join(differing)}")
    )


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_whisper_overhead")
    parser.add_argument("--repeats", type=int, default=3, help="runs per clip and setup (default: 3)")
    parser.add_argument("--clips", type=int, default=len(CLIPS), help=f"clips to use (default: {len(CLIPS)})")
    parser.add_argument("--no-distributed", action="store_true", help="embedded only")
    args = parser.parse_args()
    clips = [SHARED_AUDIO / name for name in CLIPS[: args.clips]]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"shared clips not found: {', '.join(missing)}", file=sys.stderr)
        return 1
    folder = whisper_base()
    settings = whisper_settings(folder)
    bare = BareWhisper(folder)
    engine = EnginePath(folder)
    with contextlib.ExitStack() as stack:
        directory = stack.enter_context(workdir("whisper-overhead"))
        running = {"embedded (SQLite)": stack.enter_context(deployment(directory / "embedded", **settings))}
        if not args.no_distributed:
            found = stack.enter_context(distributed(directory, **settings))
            if found is None:
                print("distributed: redis-server is not installed, skipped")
            else:
                running[f"distributed (Redis + worker, {found[1]})"] = found[0]
        before = load_average()
        results = asyncio.run(measure(clips, bare, engine, running, args.repeats))
    report(results, list(running), args.repeats, (before, load_average()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
