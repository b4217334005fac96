"""Live speech: synthesize in this process and hand out encoded audio sentence by sentence.

Used by ``POST /v1/tts/stream`` and the OpenAI-compatible ``POST /v1/audio/speech``. It is a job
like any other — a row in ``jobs`` (so it shows in ``GET /v1/tts`` and can be downloaded later,
``options.stream`` set), one of the user's ``MAX_ACTIVE_JOBS`` slots (taken at once or a 429), a
hold placed before the first byte (402 comes as a clean error, not a cut stream), heartbeats while
it runs, and a capture of the real audio seconds when done.

Billing follows the audio: before each piece goes out, the job's meter extends the hold to cover
every second sent so far. When the balance runs out the stream ends there (the last sentence cut
at the paid second), the job completes ``truncated`` and is billed exactly the seconds sent; if
that happens before the first byte, the answer is a 402. If the client goes away mid-stream, the
seconds already synthesized are charged and the rest released; if the engine fails, everything is
released. The heartbeat records the seconds sent, so that if this process dies mid-stream the
reconciler settles the job for them (never re-synthesizes it: the client is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.audio.encode import CONTENT_TYPES, FILE_EXTENSIONS, StreamingEncoder
from core.db.base import utcnow
from core.db.models import SpeechJob
from core.errors import DomainError, public_message
from core.jobs import lifecycle
from core.jobs.admission import start_live
from core.jobs.lifecycle import Claim
from core.jobs.meter import Meter
from core.jobs.progress import JobAbandoned
from core.jobs.states import JobStatus
from core.platform import Platform
from core.services.speech import SpeechOutOfMinutes
from core.storage.keys import result_key

if TYPE_CHECKING:
    import numpy as np

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

    checked = build_speech_job(platform, user_id, request)  # the one validation, before any hold
    job = checked.job
    engine = await asyncio.to_thread(engines.get, request.engine)
    sentences = engine.synthesize(
        checked.text, voice=checked.voice, language=checked.language, speed=checked.speed
    )
    now = utcnow()
    job.options = {"stream": True, **job.options}
    job.status = JobStatus.PROCESSING
    job.attempts = 1
    job.dispatched_at = job.started_at = job.heartbeat_at = now
    async with platform.db.write() as session:
        await start_live(
            session, job, hold_seconds=checked.hold_seconds, max_active=platform.settings.max_active_jobs
        )
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


@dataclass
class _Sent:
    """What the stream has sent so far, shared with its heartbeat task."""

    seconds: float = 0.0
    cut: bool = False  # the balance ran out: the stream ends after this piece
    lost: bool = False  # the job is no longer ours (settled by the reconciler): stop quietly


async def _run(
    platform: Platform, job: SpeechJob, claim: Claim, sentences: Iterator[SpeechChunk]
) -> AsyncGenerator[bytes, None]:
    fmt = job.audio_format or "mp3"
    meter = Meter(
        platform.db, claim, held_seconds=job.hold_seconds, quantum=platform.settings.billing_quantum_seconds
    )
    sent = _Sent()
    encoder: StreamingEncoder | None = None
    produced: list[bytes] = []
    finished = failed = False

    def encode(pcm: np.ndarray, sample_rate: int) -> bytes:
        nonlocal encoder
        encoder = encoder or StreamingEncoder(fmt, sample_rate)
        return encoder.feed(pcm)

    beats = asyncio.create_task(_heartbeats(platform, claim, sent))
    try:
        while not sent.cut:
            chunk = await asyncio.to_thread(next, sentences, None)
            if chunk is None or sent.lost:
                break
            end = sent.seconds + chunk.duration_seconds
            paid = await meter.cover_async(end)
            pcm = chunk.pcm
            if paid < end:  # the balance pays for part of this sentence at most: the stream ends there
                sent.cut = True
                rate = chunk.sample_rate
                pcm = pcm[: max(0, math.floor(paid * rate) - round(sent.seconds * rate))]
                if sent.seconds == 0 and pcm.size == 0:
                    raise SpeechOutOfMinutes(paid, end)  # before the first byte: a 402
            data = await asyncio.to_thread(encode, pcm, chunk.sample_rate) if pcm.size else b""
            sent.seconds = encoder.duration_seconds if encoder is not None else 0.0
            if data:
                produced.append(data)
                yield data
        if not sent.lost:
            tail = encoder.close() if encoder is not None else b""
            if tail:
                produced.append(tail)
                yield tail
            finished = True
    except JobAbandoned:
        sent.lost = True
        log.info("speech stream %s was settled elsewhere; ending it", claim.job_id)
    except Exception as exc:
        failed = True
        await _fail(platform, claim, exc)
        raise
    finally:
        # Also reached when the client went away (GeneratorExit): what was synthesized is charged.
        beats.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beats
        if not failed and not sent.lost:
            seconds = encoder.duration_seconds if encoder is not None else 0.0
            audio = b"".join(produced)
            await asyncio.shield(_complete(platform, job, claim, audio, seconds, finished, cut=sent.cut))


async def _heartbeats(platform: Platform, claim: Claim, sent: _Sent) -> None:
    """Beat, recording the seconds sent (what the reconciler bills if this process dies)."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            still_ours = await lifecycle.heartbeat(platform.db, claim, audio_seconds=sent.seconds)
        except Exception:
            log.warning("heartbeat failed for speech stream %s", claim.job_id, exc_info=True)
            continue
        if not still_ours:
            sent.lost = True
            return


async def _complete(
    platform: Platform, job: SpeechJob, claim: Claim, audio: bytes, seconds: float, whole: bool, *, cut: bool
) -> None:
    settings = platform.settings
    key = None
    if whole and audio:
        key = result_key(job.user_id, job.id, FILE_EXTENSIONS[job.audio_format or "mp3"].lstrip("."))
        await platform.store.put_bytes(key, audio, content_type=None)
    fields: dict[str, object] = {"audio_seconds": seconds}
    if cut:  # the balance ran out: the client can see why the audio is shorter than the text
        fields["truncated"] = True
        fields["options"] = {**(job.options or {}), "cut": "balance"}
    if key is not None:
        fields["result_key"] = key
        fields["result_size_bytes"] = len(audio)
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
    if isinstance(exc, DomainError):
        code, message = exc.code, public_message(exc)
    else:
        code, message = "engine_failure", "Speech synthesis failed; your minutes were returned."
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
