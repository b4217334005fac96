"""Speech use cases: queue a synthesis job (hold estimated from the text), read, list.

Speech is billed by the audio it produces: ceil(seconds synthesized). The hold placed up front is
only an estimate from the text (digits, foreign scripts and slow speeds make audio far longer
than the character count suggests); the worker or the live stream extends it as the audio runs on
(``core.jobs.meter``) and stops where the balance ends: a queued job then fails with
``insufficient_minutes`` and charges nothing, a live stream ends early, billed for what was sent
and marked ``truncated``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select

from billing.errors import BillingError, InsufficientMinutes
from billing.pricing import round_up
from core.audio.encode import check_format
from core.db.models import SpeechJob
from core.jobs import admission
from core.platform import Platform
from core.services.owned_jobs import owned_job
from tts.base import MAX_TEXT_CHARS
from tts.synthesize import check_speed
from tts.text import prepare_text
from tts.voices import get_voice

# Seconds of audio per character at speed 1.0, measured on espeak-ng and Piper: ordinary text
# reads at 10-15 characters a second; a digit becomes a word or more ("1234567890" takes 3.4 s);
# a letter of a script the voices do not speak (Arabic, CJK …) is read out by its name.
SECONDS_PER_CHAR = 0.1
SECONDS_PER_DIGIT = 0.35
SECONDS_PER_FOREIGN_LETTER = 0.7


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


class SpeechOutOfMinutes(InsufficientMinutes):
    """The balance ran out while a queued job's speech was being synthesized: the job fails,
    nothing is charged (the user gets no audio), and the message says how far the money went."""

    def __init__(self, paid_seconds: float, produced_seconds: float, available_seconds: int = 0) -> None:
        BillingError.__init__(
            self,
            f"Your balance ran out after {math.floor(paid_seconds)} s of speech; nothing was charged. "
            "Add minutes or shorten the text.",
            required_seconds=math.ceil(produced_seconds),
            available_seconds=available_seconds,
        )


def estimate_seconds(text: str, speed: float) -> float:
    """The expected audio length of prepared ``text``, for the hold (the capture is exact)."""
    digits = foreign = 0
    for ch in text:
        if ch.isdigit():
            digits += 1
        elif ch.isalpha() and not _spoken_script(ch):
            foreign += 1
    plain = len(text) - digits - foreign
    seconds = plain * SECONDS_PER_CHAR + digits * SECONDS_PER_DIGIT + foreign * SECONDS_PER_FOREIGN_LETTER
    return math.ceil(seconds / speed) + 2


def _spoken_script(ch: str) -> bool:
    """Latin or Cyrillic: the scripts the voices read as words."""
    code = ord(ch)
    return code < 0x250 or 0x400 <= code < 0x530 or 0x1E00 <= code < 0x1F00


def speech_notice(job: SpeechJob) -> str | None:
    """Why a completed speech job's audio is shorter than its text, in words for people."""
    if not job.truncated:
        return None
    seconds = job.billed_seconds if job.billed_seconds is not None else math.ceil(job.audio_seconds or 0)
    if (job.options or {}).get("cut") == "interrupted":
        return (
            f"The stream was interrupted after {seconds} s of speech (the server stopped): only "
            "those seconds were billed. Send the text again for the rest."
        )
    return (
        f"Your balance ran out after {seconds} s of speech: the audio ends there and only those "
        "seconds were billed. Add minutes and send the rest of the text again."
    )


@dataclass(frozen=True)
class CheckedSpeech:
    """A speech request that passed every check: the (unsaved) job, the seconds to hold, and the
    text as the engine reads it (cleaned)."""

    job: SpeechJob
    hold_seconds: int
    text: str
    voice: str
    language: str
    speed: float


def build_speech_job(platform: Platform, user_id: str, request: SpeechRequest) -> CheckedSpeech:
    """The one validation of a speech request (speed, voice, format, text) for every path: a
    queued job, a live stream. Errors come before anything is held."""
    speed = check_speed(request.speed)
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
    hold = round_up(estimate_seconds(text, speed), platform.settings.billing_quantum_seconds)
    return CheckedSpeech(job, hold, text, voice, language, speed)


async def request_speech(platform: Platform, user_id: str, request: SpeechRequest) -> SpeechJob:
    """Hold the estimate and queue the job."""
    checked = build_speech_job(platform, user_id, request)
    job = checked.job
    settings = platform.settings
    async with platform.db.write() as session:
        sends = await admission.submit(
            session,
            job,
            hold_seconds=checked.hold_seconds,
            max_queued=settings.max_queued_jobs,
            max_active=settings.max_active_jobs,
        )
    await platform.queue.send_all(sends)
    return job


async def get_speech(platform: Platform, user_id: str, job_id: str) -> SpeechJob:
    return await owned_job(platform, SpeechJob, user_id, job_id, what="Speech job")


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
    "CheckedSpeech",
    "SpeechJob",
    "SpeechOutOfMinutes",
    "SpeechRequest",
    "estimate_seconds",
    "get_speech",
    "list_speech",
    "request_speech",
    "speech_notice",
]
