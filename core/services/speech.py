"""Speech use cases: queue a synthesis job (hold estimated from the text), read, list."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select

from billing.pricing import round_up
from core.audio.encode import check_format
from core.db.models import SpeechJob
from core.errors import InvalidInput, NotFound
from core.jobs import admission
from core.platform import Platform
from tts.base import MAX_TEXT_CHARS
from tts.text import prepare_text
from tts.voices import get_voice

# A slow speaker reads about 10 characters a second; the hold covers that, the capture is exact.
CHARS_PER_SECOND_FLOOR = 10.0


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    voice: str = "alloy"
    audio_format: str = "mp3"
    speed: float = 1.0
    language: str = "auto"
    engine: str | None = None
    source: str = "api"
    delivery: dict[str, object] | None = None


def estimate_seconds(text: str, speed: float) -> float:
    """An upper estimate of the audio length, for the hold."""
    return math.ceil(len(text) / CHARS_PER_SECOND_FLOOR / speed) + 2


def build_speech_job(platform: Platform, user_id: str, request: SpeechRequest) -> tuple[SpeechJob, int]:
    """Validate the text, voice, format and speed; the (unsaved) job and the seconds to hold."""
    if not 0.25 <= request.speed <= 4.0:
        raise InvalidInput("speed must be between 0.25 and 4.0.", field="speed")
    voice = get_voice(request.voice).id  # OpenAI's voice names are stored as the voice they mean
    fmt = check_format(request.audio_format)
    text, language = prepare_text(request.text, None if request.language == "auto" else request.language)
    job = SpeechJob(
        user_id=user_id,
        source=request.source,
        text=request.text,
        voice=voice,
        audio_format=fmt,
        speed=request.speed,
        language=language,
        options={"engine": request.engine} if request.engine else {},
        delivery=dict(request.delivery) if request.delivery else None,
    )
    return job, round_up(estimate_seconds(text, request.speed), platform.settings.billing_quantum_seconds)


async def request_speech(platform: Platform, user_id: str, request: SpeechRequest) -> SpeechJob:
    """Hold the estimate and queue the job."""
    job, hold = build_speech_job(platform, user_id, request)
    settings = platform.settings
    async with platform.db.write() as session:
        sends = await admission.submit(
            session,
            job,
            hold_seconds=hold,
            max_queued=settings.max_queued_jobs,
            max_active=settings.max_active_jobs,
        )
    await platform.queue.send_all(sends)
    return job


async def get_speech(platform: Platform, user_id: str, job_id: str) -> SpeechJob:
    async with platform.db.read() as session:
        job = await session.get(SpeechJob, job_id)
    if job is None or job.user_id != user_id or job.archived_at is not None:
        raise NotFound("Speech job not found.", id=job_id)
    return job


async def list_speech(
    platform: Platform, user_id: str, *, limit: int = 20, offset: int = 0
) -> tuple[list[SpeechJob], int]:
    conditions = (SpeechJob.user_id == user_id, SpeechJob.archived_at.is_(None))
    async with platform.db.read() as session:
        total = await session.scalar(select(func.count()).select_from(SpeechJob).where(*conditions))
        rows = await session.scalars(
            select(SpeechJob)
            .where(*conditions)
            .order_by(SpeechJob.created_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows), int(total or 0)


__all__ = [
    "MAX_TEXT_CHARS",
    "SpeechRequest",
    "estimate_seconds",
    "get_speech",
    "list_speech",
    "request_speech",
]
