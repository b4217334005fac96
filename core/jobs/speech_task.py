"""The speech processor: synthesize sentence by sentence, encode, store, bill the audio seconds.

The hold is only an estimate from the text: before each sentence goes into the file, the job's
meter extends the hold to cover all the audio produced so far. When the balance cannot, synthesis
stops and the job fails with ``insufficient_minutes`` (the user gets no audio, so nothing is
charged and the whole hold goes back). Otherwise the capture is ceil(seconds produced).
"""

from __future__ import annotations

import asyncio

from core.audio.encode import FILE_EXTENSIONS, StreamingEncoder
from core.db.models import SpeechJob
from core.jobs.execute import Outcome
from core.jobs.lifecycle import Claim
from core.jobs.meter import Meter
from core.jobs.progress import ProgressReporter
from core.jobs.runtime import WorkerRuntime
from core.services.speech import SpeechOutOfMinutes
from core.storage.keys import result_key
from tts.synthesize import synthesize


async def process_speech(rt: WorkerRuntime, claim: Claim, reporter: ProgressReporter) -> Outcome:
    async with rt.platform.db.read() as session:
        job = await session.get(SpeechJob, claim.job_id)
    assert job is not None and job.text is not None
    engine = await asyncio.to_thread(rt.tts.get, (job.options or {}).get("engine"))
    fmt = job.audio_format or "mp3"
    text = job.text
    meter = Meter.in_worker(rt.platform, claim, held_seconds=job.hold_seconds)

    def render() -> tuple[bytes, float]:
        parts: list[bytes] = []
        encoder: StreamingEncoder | None = None
        done_chars = 0
        for chunk in synthesize(
            engine, text, voice=job.voice or "alloy", language=job.language or "auto", speed=job.speed or 1.0
        ):
            encoder = encoder or StreamingEncoder(fmt, chunk.sample_rate)
            produced = encoder.duration_seconds + chunk.duration_seconds
            paid = meter.cover(produced)  # raises JobAbandoned once the job is no longer ours
            if paid < produced:
                raise SpeechOutOfMinutes(paid, produced)
            parts.append(encoder.feed(chunk.pcm))
            done_chars += len(chunk.text)
            reporter.report(min(0.99, done_chars / max(1, len(text))))
        if encoder is None:
            return b"", 0.0
        parts.append(encoder.close())
        return b"".join(parts), encoder.duration_seconds

    audio, seconds = await asyncio.to_thread(render)
    key = result_key(job.user_id, job.id, FILE_EXTENSIONS[fmt].lstrip("."))
    await rt.platform.store.put_bytes(key, audio, content_type=None)
    return Outcome(
        billable_seconds=seconds,
        fields={"result_key": key, "result_size_bytes": len(audio), "audio_seconds": seconds},
    )
