"""Streaming latency: the first audio byte of ``POST /v1/tts/stream`` against the whole answer, and
the first ``token`` SSE event of a transcription against its end.

Speech (espeak-ng, MP3): for 1 sentence, 10 sentences and 5000 characters, the client's time to
the first body byte and to the last, next to the bare cost of the first sentence — synthesizing
it and encoding it until the MP3 encoder hands out its first bytes, in this process. Target: the
first byte arrives within 50 ms of that.

Transcription (PocketSphinx, three read sentences with pauses): from ``POST /v1/transcriptions``
to the first ``token`` event and to ``done`` on ``GET /v1/transcriptions/{id}/stream``, next to
the bare engine's time to its first segment and to the end (decode + recognize in this process).

Both against one ``nagovori serve`` (embedded); medians of ``--repeats`` runs after a warm-up.

    .venv/bin/python -m bench.bench_streaming [--repeats N]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402

from bench.bench_tts import texts  # noqa: E402
from bench.stack import SHARED_AUDIO, Deployment, deployment, median, verdict, workdir  # noqa: E402

if TYPE_CHECKING:
    from asr.engines.pocketsphinx import PocketSphinxEngine

SENTENCES = ["en/LJ001-0001.wav", "en/LJ001-0002.wav", "en/LJ001-0003.wav"]


def bare_first_sentence(text: str) -> float:
    """Seconds to synthesize the first sentence of ``text`` and get the encoder's first MP3 bytes."""
    from core.audio.encode import StreamingEncoder
    from tts.espeak import EspeakEngine
    from tts.synthesize import synthesize

    start = time.perf_counter()
    encoder: StreamingEncoder | None = None
    for chunk in synthesize(EspeakEngine(), text, voice="alloy", language="en"):
        encoder = encoder or StreamingEncoder("mp3", chunk.sample_rate)
        if encoder.feed(chunk.pcm):
            return time.perf_counter() - start
    return time.perf_counter() - start


async def stream_speech(http: aiohttp.ClientSession, api: Deployment, text: str) -> tuple[float, float, int]:
    """(seconds to the first body byte, seconds to the last, bytes) of one ``/v1/tts/stream``."""
    start = time.perf_counter()
    async with http.post(
        f"{api.base}/v1/tts/stream", json={"text": text, "language": "en"}, headers=api.auth
    ) as response:
        assert response.status == 200, await response.text()
        first = await response.content.readany()
        first_at = time.perf_counter() - start
        size = len(first) + len(await response.read())
    return first_at, time.perf_counter() - start, size


def speech_clip(directory: Path) -> tuple[Path, float]:
    from core.audio.decode import read_pcm
    from core.audio.encode import encode_to_file

    pause = np.zeros(12000, dtype=np.float32)
    pcm = np.concatenate([part for name in SENTENCES for part in (read_pcm(SHARED_AUDIO / name), pause)])
    path = directory / "three-sentences.wav"
    encode_to_file(pcm, 16000, "wav", path)
    return path, pcm.size / 16000


@functools.cache
def asr_engine() -> PocketSphinxEngine:
    """One engine for every run, loaded before anything is timed (as a worker keeps its own)."""
    from asr.engines.pocketsphinx import PocketSphinxEngine

    return PocketSphinxEngine()


def bare_transcription(path: Path, seconds: float) -> tuple[float, float]:
    """(seconds to the first segment, seconds to the end) of decode + recognize in this process."""
    from asr.base import Segment, TranscriptionOptions
    from asr.transcribe import transcribe_audio
    from core.audio.decode import decode_pcm

    engine = asr_engine()
    first: list[float] = []
    start = time.perf_counter()

    def on_segment(_segment: Segment, _fraction: float) -> None:
        if not first:
            first.append(time.perf_counter() - start)

    transcribe_audio(
        engine,
        lambda _mode: decode_pcm(path),
        duration=seconds,
        options=TranscriptionOptions(),
        on_segment=on_segment,
    )
    total = time.perf_counter() - start
    return (first[0] if first else total), total


async def stream_transcription(
    http: aiohttp.ClientSession, api: Deployment, data: bytes
) -> tuple[float, float]:
    """(seconds from the create request to the first ``token`` event, to ``done``)."""
    async with http.post(
        f"{api.base}/v1/uploads/presign", json={"filename": "speech.wav"}, headers=api.auth
    ) as response:
        presigned = await response.json()
    async with http.put(presigned["upload_url"], data=data) as response:
        assert response.status == 200
    start = time.perf_counter()
    async with http.post(
        f"{api.base}/v1/transcriptions", json={"object_key": presigned["object_key"]}, headers=api.auth
    ) as response:
        job = await response.json()
        assert response.status == 201, job
    first_token: float | None = None
    async with http.get(f"{api.base}/v1/transcriptions/{job['id']}/stream", headers=api.auth) as response:
        event = None
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line[6:].strip()
                if event == "token" and first_token is None:
                    first_token = time.perf_counter() - start
            elif line.startswith("data:") and event == "done":
                assert json.loads(line[5:])["status"] == "completed"
                total = time.perf_counter() - start
                return (first_token if first_token is not None else total), total
    raise RuntimeError("the stream ended without `done`")


async def run(
    api: Deployment, clip: bytes, repeats: int
) -> tuple[dict[str, list[tuple[float, float, int]]], list[tuple[float, float]]]:
    speech: dict[str, list[tuple[float, float, int]]] = {}
    transcriptions: list[tuple[float, float]] = []
    async with aiohttp.ClientSession() as http:
        await stream_speech(http, api, "Warming up.")
        await stream_transcription(http, api, clip)
        for name, text in texts("en").items():
            speech[name] = [await stream_speech(http, api, text) for _ in range(repeats)]
        transcriptions = [await stream_transcription(http, api, clip) for _ in range(repeats)]
    return speech, transcriptions


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_streaming")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (default: 3)")
    args = parser.parse_args()
    with workdir("streaming") as directory, deployment(directory / "api") as api:
        clip, clip_seconds = speech_clip(directory)
        bare_first_sentence("Warming up.")
        bare_transcription(clip, clip_seconds)
        speech, transcriptions = asyncio.run(run(api, clip.read_bytes(), args.repeats))
        bare_speech = {
            name: median([bare_first_sentence(text) for _ in range(args.repeats)])
            for name, text in texts("en").items()
        }
        bare_asr = [bare_transcription(clip, clip_seconds) for _ in range(args.repeats)]

    print(
        f"POST /v1/tts/stream (espeak-ng, MP3), median of {args.repeats}; target: first byte <= bare first sentence + 50 ms"
    )
    print(f"{'text':<14} {'chars':>6} {'first byte':>11} {'total':>8} {'bare 1st':>9} {'gap ms':>7}  target")
    for name, text in texts("en").items():
        first = median([r[0] for r in speech[name]])
        total = median([r[1] for r in speech[name]])
        gap = (first - bare_speech[name]) * 1000
        print(
            f"{name:<14} {len(text):>6} {first * 1000:>9.0f}ms {total:>7.2f}s {bare_speech[name] * 1000:>7.0f}ms "
            f"{gap:>+7.0f}  {verdict(gap <= 50)}"
        )
    first = median([r[0] for r in transcriptions])
    total = median([r[1] for r in transcriptions])
    bare_first = median([r[0] for r in bare_asr])
    bare_total = median([r[1] for r in bare_asr])
    print(
        f"\ntranscription SSE ({clip_seconds:.1f} s of speech, 3 sentences, PocketSphinx), median of {args.repeats}"
    )
    print(f"{'':<14} {'first token':>11} {'done':>8}")
    print(f"{'through API':<14} {first:>10.2f}s {total:>7.2f}s")
    print(f"{'bare engine':<14} {bare_first:>10.2f}s {bare_total:>7.2f}s")
    print(
        f"first token {100 * first / total:.0f}% of the way to done (bare engine: {100 * bare_first / bare_total:.0f}%)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
