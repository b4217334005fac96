"""Realtime speech to text (``GET /v1/stt/realtime``): how soon words appear, and how many live
sessions one machine carries, per streaming engine.

One ``nagovori serve`` (embedded, SQLite, ``WORKER_THREADS=2``: two PocketSphinx engine processes
for the finals, as a default install has) serves every engine; the clients are aiohttp WebSocket
clients in this process, sending 16 kHz s16le frames paced by the wall clock (frame ``n`` goes out
``n`` frame lengths after the first). Every clip is followed by 1 s of silence, as a speaker pauses
before stopping, and then the empty frame that finishes the session. Engines: PocketSphinx,
Whisper tiny.en (bundled, assembled into tests/.cache/models as ``bench_asr`` does) and Vosk when
``NAGOVORI_VOSK_MODEL`` or the models folder holds an English Vosk model.

**Latency.** A few English clips, one session at a time, 20 ms frames at real time. For every word
of every final (finals carry words with ``end`` on the stream's clock), the clock starts when the
frame holding the word's last sample was sent, and stops when the first partial containing the
word arrives, and when the final arrives. Matching a final's words to partials: words are
normalized as ``tests/wer.py`` does (case and punctuation ignored). A partial is the text not yet
final: one received when j finals have arrived stands for finals j, j + 1, ... in order (PocketSphinx
decodes finals off the frame path, so the next utterance's partials may come before the previous
final, led by the pending utterances' last partial text). Each partial is aligned to a *prefix* of
those finals' concatenated words (word Levenshtein alignment in which the words past the partial's
end cost nothing; ties go to the diagonal), and a final word counts as contained in the partial
when the alignment pairs it with an equal word. A partial is the hypothesis so far, so it is matched
by position from the start of the text not yet final, and an insertion or a changed word earlier in
the partial does not shift everything after it. A word no partial contained first appears in its
final: it counts in the final figures only (the "in partial" column gives the share that did appear
in a partial). A word waits for its final until the utterance ends, so the final figures grow with
utterance length; "closing" is the part after the utterance: from a final's last word to the final
(the endpointer's wait plus the final decode). The WER of the live finals against the clips' reference
transcripts (``tests/wer.py``) is there for context.

**Concurrency.** N sessions of one clip at real time (100 ms frames, the size docs/api.md
recommends; starts spread over 2 s so that utterance ends do not coincide), N = 1, 2, 4, ... up
to ``--max-sessions``, stopping at the first N that falls behind. A run keeps up when every session
ends cleanly, its ``finished`` message arrives within ``FINISH_WITHIN`` seconds of the empty frame
(2 s for PocketSphinx and Vosk; 3 s for Whisper, whose finish decodes the open tail once more),
and its final delay does not grow over the session: the median final delay of the words in the
clip's second half minus that of the first half exceeds the one-session run's figure by at most
1 s (a server that falls behind by a factor r adds about (r - 1) x 6 s there). The server's CPU
(its process and engine processes, as cores busy over the run) shows where the limit comes from.
A session is given up on 45 s after its empty frame, and the next engine waits until the server is
idle again.

**Bare engine.** The same model's own recognizer (``open_stream`` in this process, finals decoded
here too) fed the latency clips in 20 ms frames as fast as it takes them: its real-time factor and
its CPU seconds per audio second, next to the server's (its processes' CPU over the latency
sessions, the same clips at real time) — the server's overhead.

    .venv/bin/python -m bench.bench_realtime [--clips N] [--max-sessions N]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.realtime_session import (  # noqa: E402
    SAMPLE_RATE,
    SILENCE_AFTER,
    Clip,
    Session,
    WordDelay,
    load_clips,
    stream,
    word_delays,
)
from bench.stack import SHARED_AUDIO, Deployment, cpu_seconds, deployment, median, percentile, workdir  # noqa: E402
from tests.wer import wer  # noqa: E402

MODELS = ROOT / "tests" / ".cache" / "models"  # shared with the tests' cache (git-ignored)
LATENCY_CLIPS = ["en/LJ001-0001.wav", "en/jfk.flac", "en/LJ001-0004.wav"]  # the first ``--clips``
LOAD_CLIP = "en/jfk.flac"  # 11 s, three utterances with pauses
WARM_UP_CLIP = "en/LJ001-0002.wav"
LATENCY_FRAME = 0.02
LOAD_FRAME = 0.1
STAGGER = 2.0  # concurrent sessions start spread over this many seconds
FINISH_WITHIN = {"pocketsphinx": 2.0, "vosk": 2.0, "whisper": 3.0}
GROWTH_SLACK = 1.0  # seconds of final-delay growth over the session beyond the one-session run


@dataclass(frozen=True)
class Engine:
    name: str  # pocketsphinx | whisper | vosk
    model: str  # the model id a client sends


@dataclass(frozen=True)
class Latency:
    engine: Engine
    delays: list[WordDelay]
    closing: list[float]  # per final: seconds from its last word's end to its arrival
    wer: float
    cpu_per_audio: float  # the server's CPU seconds per second of audio streamed


@dataclass(frozen=True)
class Step:
    sessions: int
    finish_lag: float  # the worst session's
    growth: float  # the worst session's final-delay growth, second half minus first
    final_p50: float
    final_p90: float
    cores: float  # the server's CPU seconds per wall second over the run
    cpu_per_audio: float  # the server's CPU seconds per second of audio received
    errors: list[str]


def growth(session: Session) -> float:
    """Median final delay of the words in the clip's second half minus the first half's."""
    delays = word_delays(session)
    half = session.audio_seconds / 2
    first = [d.final for d in delays if d.end <= half]
    second = [d.final for d in delays if d.end > half]
    return median(second) - median(first) if first and second else 0.0


async def latency(http: aiohttp.ClientSession, api: Deployment, engine: Engine, clips: list[Clip]) -> Latency:
    before = cpu_seconds(api.pids())
    sessions = [await stream(http, api, engine.model, clip, LATENCY_FRAME) for clip in clips]
    cpu = cpu_seconds(api.pids()) - before
    for clip, session in zip(clips, sessions, strict=True):
        if session.errors or math.isinf(session.finish_lag):
            raise RuntimeError(f"{engine.model} on {clip.name}: {session.errors or 'no finished message'}")
    pairs = [(clip.reference, session.text) for clip, session in zip(clips, sessions, strict=True)]
    closing = [
        at - s.sent_at(float(body["end"]))
        for s in sessions
        for at, body in s.messages
        if body.get("is_final") is True
    ]
    delays = [d for s in sessions for d in word_delays(s)]
    return Latency(engine, delays, closing, wer(pairs), cpu / sum(c.seconds for c in clips))


async def load_step(http: aiohttp.ClientSession, api: Deployment, engine: Engine, clip: Clip, n: int) -> Step:
    before, started = cpu_seconds(api.pids()), time.monotonic()
    runs = [stream(http, api, engine.model, clip, LOAD_FRAME, STAGGER * i / n) for i in range(n)]
    sessions = await asyncio.gather(*runs)
    cpu, wall = cpu_seconds(api.pids()) - before, time.monotonic() - started
    finals = [d.final for s in sessions for d in word_delays(s)] or [math.inf]
    return Step(
        n,
        max(s.finish_lag for s in sessions),
        max(growth(s) for s in sessions),
        percentile(finals, 50),
        percentile(finals, 90),
        cpu / wall,
        cpu / (n * clip.seconds),
        sorted({e for s in sessions for e in s.errors}),
    )


def keeps_up(engine: Engine, step: Step, baseline: Step | None) -> bool:
    grows = baseline is not None and step.growth > baseline.growth + GROWTH_SLACK
    return not step.errors and step.finish_lag <= FINISH_WITHIN[engine.name] and not grows


async def concurrency(
    http: aiohttp.ClientSession, api: Deployment, engine: Engine, clip: Clip, cap: int
) -> list[tuple[Step, bool]]:
    steps: list[tuple[Step, bool]] = []
    n = 1
    while n <= cap:
        step = await load_step(http, api, engine, clip, n)
        ok = keeps_up(engine, step, steps[0][0] if steps else None)
        steps.append((step, ok))
        if not ok:
            break
        n *= 2
    return steps


async def settle(api: Deployment, within: float = 60.0) -> None:
    """Wait until the server is idle: a session given up on may still be working off its backlog."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        before = cpu_seconds(api.pids())
        await asyncio.sleep(1)
        if cpu_seconds(api.pids()) - before < 0.1:
            return


async def served(
    api: Deployment, engines: list[Engine], clips: list[Clip], load_clip: Clip, warm_up: Clip, cap: int
) -> tuple[list[Latency], dict[str, list[tuple[Step, bool]]]]:
    latencies: list[Latency] = []
    load: dict[str, list[tuple[Step, bool]]] = {}
    async with aiohttp.ClientSession() as http:
        for engine in engines:  # each model loaded (and engine processes started) before any timing
            await stream(http, api, engine.model, warm_up, LOAD_FRAME / 4)
        for engine in engines:
            latencies.append(await latency(http, api, engine, clips))
            load[engine.name] = await concurrency(http, api, engine, load_clip, cap)
            await settle(api)
    return latencies, load


@dataclass(frozen=True)
class Bare:
    engine: Engine
    audio_seconds: float
    wall: float
    cpu: float
    wer: float


def bare(engine: Engine, model: Any, clips: list[Clip], warm_up: Clip) -> Bare:
    """The model's own live recognizer in this process, fed each clip as fast as it takes it."""
    step = int(SAMPLE_RATE * LATENCY_FRAME) * 2

    def run(clip: Clip) -> str:
        recognizer = model.open_stream("en")
        try:
            results = [
                r
                for o in range(0, len(clip.audio), step)
                for r in recognizer.accept(clip.audio[o : o + step])
            ]
            results += recognizer.finish()
        finally:
            recognizer.close()
        return " ".join(r.text for r in results if r.is_final)

    run(warm_up)
    wall, cpu = time.perf_counter(), time.process_time()
    texts = [run(clip) for clip in clips]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pairs = [(clip.reference, text) for clip, text in zip(clips, texts, strict=True)]
    return Bare(engine, sum(c.seconds for c in clips), wall, cpu, wer(pairs))


def vosk_model() -> Path | None:
    """An English Vosk model: ``NAGOVORI_VOSK_MODEL``, else one in the models folder or Vosk's cache."""
    from asr.catalog import is_vosk_dir, vosk_dirs, vosk_language

    configured = Path(os.environ.get("NAGOVORI_VOSK_MODEL", "/nonexistent"))
    candidates = [configured] if is_vosk_dir(configured) else vosk_dirs(MODELS)
    english = [p for p in candidates if (vosk_language(p.name) or "en") == "en"]
    return english[0] if english else None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_realtime")
    parser.add_argument("--clips", type=int, default=len(LATENCY_CLIPS), help="latency clips (default: 3)")
    parser.add_argument("--max-sessions", type=int, default=32, help="concurrency cap (default: 32)")
    args = parser.parse_args()
    if not SHARED_AUDIO.is_dir():
        print(f"shared clips not found at {SHARED_AUDIO}", file=sys.stderr)
        return 1
    from asr.registry import AsrConfig, AsrEngines
    from bundled.assemble import ensure
    from bundled.catalog import WHISPER_TINY_EN

    ensure(WHISPER_TINY_EN, MODELS)
    vosk_dir = vosk_model()
    engines = [Engine("pocketsphinx", "pocketsphinx-en"), Engine("whisper", "whisper-tiny.en")]
    # Only NAGOVORI_* strings, never deployment()'s own keywords.
    settings: dict[str, Any] = {
        "asr_engine": "pocketsphinx",
        "whisper_model": "tiny.en",
        "models_dir": str(MODELS),
    }
    if vosk_dir is not None:
        engines.append(Engine("vosk", "vosk"))
        settings["vosk_model"] = str(vosk_dir)
    clips = load_clips(LATENCY_CLIPS[: args.clips])
    load_clip, warm_up = load_clips([LOAD_CLIP, WARM_UP_CLIP])
    load_before = _loadavg()

    # Bare first, before the server runs, with the server's registry settings.
    vosk_setting = settings.get("vosk_model", "en")
    registry = AsrEngines(
        AsrConfig(MODELS, "pocketsphinx", "tiny.en", vosk_model=vosk_setting, allow_downloads=False)
    )
    bares = [bare(e, registry.get(e.model), clips, warm_up) for e in engines]
    model_ids = {e.name: registry.resolve(e.model).model_id for e in engines}
    with (
        workdir("realtime") as directory,
        deployment(
            directory / "api", worker_threads=2, max_active_jobs=str(max(64, args.max_sessions)), **settings
        ) as api,
    ):
        latencies, load = asyncio.run(served(api, engines, clips, load_clip, warm_up, args.max_sessions))

    print(
        "GET /v1/stt/realtime on one `nagovori serve` (embedded, SQLite, WORKER_THREADS=2); aiohttp "
        "WebSocket clients on the same machine; 2 CPU cores shared with other work"
    )
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {_loadavg()}")
    report_latency(latencies, clips, model_ids)
    if vosk_dir is None:
        print("vosk: no Vosk model on this machine (set NAGOVORI_VOSK_MODEL to a model directory)")
    report_concurrency(engines, load, load_clip, args.max_sessions)
    report_bare(bares, latencies)
    return 0


def report_latency(latencies: list[Latency], clips: list[Clip], model_ids: dict[str, str]) -> None:
    names = ", ".join(Path(c.name).name for c in clips)
    print(
        f"\nlatency: {len(clips)} clip(s) ({names}; {sum(c.seconds for c in clips):.1f} s with "
        f"{SILENCE_AFTER:g} s of silence after each), one session at a time, "
        f"{LATENCY_FRAME * 1000:.0f} ms frames at real time"
    )
    print(
        "seconds from a word's end (when its audio was sent) to the first partial / the final containing "
        "it; closing: from a final's last word to the final"
    )
    print(
        f"{'engine':<13} {'model':<16} {'words':>5} {'in partial':>10} {'partial p50':>11} {'p90':>5} "
        f"{'final p50':>9} {'p90':>5} {'closing p50':>11} {'p90':>5} {'live WER':>8}"
    )
    for result in latencies:
        seen = [d.partial for d in result.delays if d.partial is not None]
        finals = [d.final for d in result.delays]
        share = f"{100 * len(seen) / max(1, len(finals)):.0f}%"
        p50, p90 = (f"{percentile(seen, p):.2f}" for p in (50, 90)) if seen else ("-", "-")
        print(
            f"{result.engine.name:<13} {model_ids[result.engine.name]:<16} {len(finals):>5} {share:>10} "
            f"{p50:>11} {p90:>5} {percentile(finals, 50):>9.2f} {percentile(finals, 90):>5.2f} "
            f"{percentile(result.closing, 50):>11.2f} {percentile(result.closing, 90):>5.2f} {result.wer:>8.3f}"
        )


def report_concurrency(
    engines: list[Engine], load: dict[str, list[tuple[Step, bool]]], clip: Clip, cap: int
) -> None:
    print(
        f"\nconcurrency: N sessions of {Path(clip.name).name} ({clip.seconds:.1f} s with the silence) at "
        f"real time, {LOAD_FRAME * 1000:.0f} ms frames, starts spread over {STAGGER:g} s; N doubles up to "
        f"{cap} until a run falls behind"
    )
    print(
        "keeping up: no errors, every `finished` within the limit after its empty frame, and final-delay "
        f"growth (the clip's 2nd half - 1st half) at most the N=1 run's + {GROWTH_SLACK:g} s"
    )
    print(
        f"{'engine':<13} {'N':>3} {'finish lag':>10} {'limit':>5} {'growth':>6} {'final p50':>9} {'p90':>6} "
        f"{'server cores':>12} {'CPU s/audio s':>13}  verdict"
    )
    for engine in engines:
        for step, ok in load[engine.name]:
            lag = f"{step.finish_lag:.2f}" if math.isfinite(step.finish_lag) else "never"
            errors = f" ({', '.join(step.errors)})" if step.errors else ""
            print(
                f"{engine.name:<13} {step.sessions:>3} {lag:>10} {FINISH_WITHIN[engine.name]:>5.1f} "
                f"{step.growth:>+6.2f} {step.final_p50:>9.2f} {step.final_p90:>6.2f} {step.cores:>12.2f} "
                f"{step.cpu_per_audio:>13.3f}  {'keeps up' if ok else 'FALLS BEHIND' + errors}"
            )
    summary = []
    for engine in engines:
        kept = [step.sessions for step, ok in load[engine.name] if ok]
        capped = all(ok for _, ok in load[engine.name])
        summary.append(f"{engine.name} {max(kept) if kept else 0}{' (the cap)' if capped else ''}")
    print(f"largest N keeping up: {', '.join(summary)}")


def report_bare(bares: list[Bare], latencies: list[Latency]) -> None:
    print(
        "\nbare engine: the model's own recognizer (open_stream in the bench process, finals decoded "
        f"there too) fed the latency clips in {LATENCY_FRAME * 1000:.0f} ms frames as fast as it takes them"
    )
    print(
        f"{'engine':<13} {'audio s':>7} {'wall s':>7} {'x realtime':>10} {'CPU s/audio s':>13} "
        f"{'served CPU s/audio s':>20} {'bare WER':>8}"
    )
    served_cpu = {result.engine.name: result.cpu_per_audio for result in latencies}
    for result in bares:
        print(
            f"{result.engine.name:<13} {result.audio_seconds:>7.1f} {result.wall:>7.2f} "
            f"{result.audio_seconds / result.wall:>10.2f} {result.cpu / result.audio_seconds:>13.3f} "
            f"{served_cpu[result.engine.name]:>20.3f} {result.wer:>8.3f}"
        )
    print("served CPU: the server's processes (engine processes included) over the latency sessions")


def _loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
