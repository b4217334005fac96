"""Transcription use cases: request (hold + job), read, list, cancel, archive.

The edges get ``TranscriptionJob`` rows from here (to read, never to write)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from asr.base import PRESETS
from billing.errors import InsufficientMinutes
from billing.pricing import round_up
from core.audio.probe import probe
from core.db.models import TranscriptionJob
from core.errors import AudioTooLong, AudioTooShort, InvalidInput
from core.jobs import admission
from core.jobs.states import JobStatus
from core.net import NetworkPolicy, check_public_url
from core.platform import Platform
from core.services.accounts import balance_seconds
from core.services.catalog import TASKS
from core.services.owned_jobs import archive_owned_job, cancel_owned_job, owned_job
from core.services.upload_files import upload_file
from core.services.uploads import pin_upload
from core.settings import Settings

SOURCES = ("api", "telegram", "web", "cli")


@dataclass(frozen=True)
class TranscriptionRequest:
    """What a caller asks for: an uploaded ``object_key``, an ``audio_url`` (fetched by the worker)
    or a Telegram file."""

    object_key: str | None = None
    audio_url: str | None = None
    telegram_file_id: str | None = None
    duration_seconds: float | None = None  # trusted only for Telegram files (probed otherwise)
    filename: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    language: str = "auto"
    model: str | None = None
    preset: str = "default"
    source: str = "api"
    task: str = "transcribe"
    options: dict[str, Any] = field(default_factory=dict)  # prompt, terms, word_timestamps, channels, ...
    delivery: dict[str, Any] | None = None


def check_duration(settings: Settings, seconds: float) -> None:
    """Refuse audio outside [MIN_AUDIO_SECONDS, MAX_AUDIO_SECONDS] before anything is charged."""
    if seconds < settings.min_audio_seconds:
        raise AudioTooShort(
            f"The audio is {seconds:.1f} s long; the minimum is {settings.min_audio_seconds:g} s.",
            duration_seconds=round(seconds, 3),
            min_seconds=settings.min_audio_seconds,
        )
    if seconds > settings.max_audio_seconds:
        raise AudioTooLong(
            f"The audio is {seconds / 60:.1f} min long; "
            f"the maximum is {settings.max_audio_seconds / 60:g} min.",
            duration_seconds=round(seconds, 3),
            max_seconds=settings.max_audio_seconds,
        )


def truncation_notice(processed_seconds: float | None) -> str:
    """What a partial transcript says about itself (the balance ran out part-way)."""
    return (
        f"Your balance covered the first {processed_seconds or 0:.0f} s of the audio: the transcript "
        "ends there and only those seconds were billed. Add minutes and send the file again for the rest."
    )


async def require_some_minutes(platform: Platform, user_id: str) -> None:
    """Refuse at once (InsufficientMinutes) when the balance cannot pay for even the shortest
    audio accepted: checked before a request's file is stored, not after."""
    settings = platform.settings
    quantum = settings.billing_quantum_seconds
    required = max(round_up(settings.min_audio_seconds, quantum), quantum)
    available = await balance_seconds(platform.db, user_id)
    if available < required:
        raise InsufficientMinutes(required_seconds=required, available_seconds=max(0, available))


async def request_transcription(
    platform: Platform, user_id: str, request: TranscriptionRequest
) -> TranscriptionJob:
    """Validate, measure, hold the minutes and queue the job, all or nothing."""
    if request.preset not in PRESETS:
        raise InvalidInput(
            f"Unknown preset '{request.preset}'; use one of: {', '.join(PRESETS)}.", field="preset"
        )
    if request.source not in SOURCES:
        raise InvalidInput(f"Unknown source channel '{request.source}'.", field="source_channel")
    if request.task not in TASKS:
        raise InvalidInput(f"Unknown task '{request.task}'; use one of: {', '.join(TASKS)}.", field="task")
    job = TranscriptionJob(
        user_id=user_id,
        source=request.source,
        language=request.language or "auto",
        model=request.model,
        filename=request.filename,
        content_type=request.content_type,
        size_bytes=request.size_bytes,
        options={"preset": request.preset, **request.options, "task": request.task},
        delivery=request.delivery,
    )
    duration: float | None
    if request.object_key:
        # In place on local disk; downloaded (and, for a direct upload to S3, checked) otherwise.
        async with upload_file(platform, user_id, request.object_key) as (upload, path):
            info = await asyncio.to_thread(probe, path)
        duration = info.duration_seconds
        job.object_key = upload.object_key
        job.filename = request.filename or upload.filename
        job.content_type = request.content_type or upload.content_type
        job.size_bytes = upload.size_bytes
        job.input_sha256 = upload.sha256  # the worker decodes these bytes or nothing
    elif request.telegram_file_id:
        if request.duration_seconds is None:
            raise InvalidInput("A Telegram file needs its duration.", field="duration_seconds")
        duration = float(request.duration_seconds)
        job.telegram_file_id = request.telegram_file_id
    elif request.audio_url:
        # Unknown until the worker has fetched it: the job holds the least a job can cost, and the
        # worker's meter extends the hold as the audio decodes (as for a header that understates
        # its length), cutting it where the balance ends; the duration is checked there too.
        # Its shape and any IP literal are checked now (a 400 at once); the addresses a name
        # resolves to are checked by the worker, when it connects.
        url = check_public_url(request.audio_url, NetworkPolicy.from_settings(platform.settings))
        duration = None
        job.options = {**job.options, "audio_url": str(url)}
    else:
        raise InvalidInput("object_key is required.", field="object_key")
    settings = platform.settings
    if duration is not None:
        check_duration(settings, duration)
    job.duration_seconds = duration
    async with platform.db.write() as session:
        if job.object_key is not None:
            await pin_upload(session, user_id, job.object_key)
        sends = await admission.submit(
            session,
            job,
            # An estimate from the header (at least one quantum, so every job holds something):
            # the worker extends it as the audio runs on and bills what it decoded.
            hold_seconds=max(
                round_up(duration or settings.min_audio_seconds, settings.billing_quantum_seconds),
                settings.billing_quantum_seconds,
            ),
            max_queued=settings.max_queued_jobs,
            max_active=settings.max_active_jobs,
        )
    await platform.queue.send_all(sends)
    return job


async def get_transcription(platform: Platform, user_id: str, job_id: str) -> TranscriptionJob:
    """The user's job; someone else's (or an archived one) is NotFound."""
    return await owned_job(platform, TranscriptionJob, user_id, job_id, what="Transcription")


async def list_transcriptions(
    platform: Platform,
    user_id: str,
    *,
    limit: int = 20,
    offset: int = 0,
    status: str | None = None,
    query: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[TranscriptionJob], int]:
    """Newest first, without archived jobs; ``query`` searches the transcripts, ``since``/``until``
    bound the creation time (``[since, until)``)."""
    conditions = [TranscriptionJob.user_id == user_id, TranscriptionJob.archived_at.is_(None)]
    if status:
        conditions.append(TranscriptionJob.status == JobStatus(status))
    if since is not None:
        conditions.append(TranscriptionJob.created_at >= since)
    if until is not None:
        conditions.append(TranscriptionJob.created_at < until)
    if query:
        conditions.append(TranscriptionJob.transcript_text.ilike(f"%{_escape_like(query)}%", escape="\\"))
    async with platform.db.read() as session:
        total = await session.scalar(select(func.count()).select_from(TranscriptionJob).where(*conditions))
        rows = await session.scalars(
            select(TranscriptionJob)
            .where(*conditions)
            .order_by(TranscriptionJob.created_at.desc(), TranscriptionJob.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows), int(total or 0)


async def cancel_job(platform: Platform, user_id: str, job_id: str) -> TranscriptionJob:
    """Stop a queued or running transcription and give its minutes back (``cancel_owned_job``)."""
    return await cancel_owned_job(platform, TranscriptionJob, user_id, job_id, what="Transcription")


async def archive_job(platform: Platform, user_id: str, job_id: str) -> None:
    """Hide a finished transcription from lists and reads (``archive_owned_job``)."""
    await archive_owned_job(platform, TranscriptionJob, user_id, job_id, what="Transcription")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
