"""Live speech: synthesize in this process and hand out encoded audio sentence by sentence.

Used by ``POST /v1/tts/stream`` and the OpenAI-compatible ``POST /v1/audio/speech``. It is a job
like any other — a row in ``jobs`` (so it shows in ``GET /v1/tts`` and can be downloaded later), a
hold placed before the first byte (402 comes as a clean error, not a cut stream), heartbeats while
it runs (so the reconciler leaves it alone), and a capture of the real audio seconds when done.
If the client goes away mid-stream, the seconds already synthesized are charged and the rest
released; if the engine fails, everything is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from billing import ledger
from core.audio.encode import CONTENT_TYPES, FILE_EXTENSIONS, StreamingEncoder
from core.db.base import utcnow
from core.db.models import SpeechJob
from core.jobs import lifecycle
from core.jobs.admission import lock_user
from core.jobs.lifecycle import Claim
from core.jobs.states import JobStatus
from core.platform import Platform
from core.storage.keys import result_key

if TYPE_CHECKING:
    from core.services.catalog import TtsCatalog
    from core.services.speech import SpeechRequest
    from tts.base import SpeechChunk

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0


@dataclass
class LiveSpeech:
    """A started stream: the job row, the content type, and the audio as it is encoded."""

    job: SpeechJob
    content_type: str
    chunks: AsyncGenerator[bytes, None]  # aclose() it when done: that settles the bill


async def start_stream(
    platform: Platform, engines: TtsCatalog, user_id: str, request: SpeechRequest
) -> LiveSpeech:
    """Validate, load the engine, hold the estimate and start; errors here come before any byte."""
    from core.services.speech import build_speech_job
    from tts.synthesize import synthesize

    job, hold = build_speech_job(platform, user_id, request)
    engine = await asyncio.to_thread(engines.get, request.engine)
    # Validates voice, speed and text now, before anything is held or sent.
    sentences = synthesize(
        engine,
        request.text,
        voice=job.voice or request.voice,
        language=job.language or "auto",
        speed=request.speed,
    )
    now = utcnow()
    job.options = {"stream": True, **job.options}
    job.status = JobStatus.PROCESSING
    job.attempts = 1
    job.hold_seconds = hold
    job.dispatched_at = job.started_at = job.heartbeat_at = now
    async with platform.db.write() as session:
        await lock_user(session, user_id)
        session.add(job)
        await session.flush()
        await ledger.hold(session, user_id, hold, job_id=job.id, channel=request.source, usage_kind="tts")
    # Synthesis starts now, so that the first sentence is ready by the time the client reads.
    chunks = _run(platform, job, Claim(job.id, user_id, 1), sentences)
    first = await anext(chunks, b"")
    return LiveSpeech(job, CONTENT_TYPES[job.audio_format or "mp3"], _prepend(first, chunks))


async def _prepend(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncGenerator[bytes, None]:
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()


async def _run(
    platform: Platform, job: SpeechJob, claim: Claim, sentences: Iterator[SpeechChunk]
) -> AsyncGenerator[bytes, None]:
    fmt = job.audio_format or "mp3"
    encoder: StreamingEncoder | None = None
    produced: list[bytes] = []
    finished = failed = False

    def step() -> bytes | None:
        nonlocal encoder
        chunk = next(sentences, None)
        if chunk is None:
            return None
        encoder = encoder or StreamingEncoder(fmt, chunk.sample_rate)
        return encoder.feed(chunk.pcm)

    beats = asyncio.create_task(_heartbeats(platform, claim))
    try:
        while True:
            data = await asyncio.to_thread(step)
            if data is None:
                break
            if data:
                produced.append(data)
                yield data
        tail = encoder.close() if encoder is not None else b""
        if tail:
            produced.append(tail)
            yield tail
        finished = True
    except Exception as exc:
        failed = True
        await _fail(platform, claim, exc)
        raise
    finally:
        # Also reached when the client went away (GeneratorExit): what was synthesized is charged.
        beats.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beats
        if not failed:
            seconds = encoder.duration_seconds if encoder is not None else 0.0
            await asyncio.shield(_complete(platform, job, claim, b"".join(produced), seconds, finished))


async def _heartbeats(platform: Platform, claim: Claim) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await lifecycle.heartbeat(platform.db, claim)
        except Exception:
            log.warning("heartbeat failed for speech stream %s", claim.job_id, exc_info=True)


async def _complete(
    platform: Platform, job: SpeechJob, claim: Claim, audio: bytes, seconds: float, whole: bool
) -> None:
    settings = platform.settings
    key = None
    if whole and audio:
        key = result_key(job.user_id, job.id, FILE_EXTENSIONS[job.audio_format or "mp3"].lstrip("."))
        await platform.store.put_bytes(key, audio, content_type=None)
    fields: dict[str, object] = {"audio_seconds": seconds}
    if key is not None:
        fields["result_key"] = key
    sends = await lifecycle.complete(
        platform.db,
        claim,
        billable_seconds=seconds,
        quantum=settings.billing_quantum_seconds,
        max_active=settings.max_active_jobs,
        **fields,
    )
    if sends:
        await platform.queue.send_all(sends)


async def _fail(platform: Platform, claim: Claim, exc: Exception) -> None:
    code = str(getattr(exc, "code", "engine_failure"))
    message = str(getattr(exc, "message", "Speech synthesis failed; your minutes were returned."))
    sends = await lifecycle.fail(
        platform.db,
        claim.job_id,
        code=code,
        message=message,
        max_active=platform.settings.max_active_jobs,
        attempt=claim.attempt,
    )
    if sends:
        await platform.queue.send_all(sends)
