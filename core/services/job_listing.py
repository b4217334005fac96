"""Jobs across every account, for operators (``nagovori jobs list``): newest first, filtered by
status, account and kind. Users see their own jobs through ``transcriptions`` and ``speech``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import with_polymorphic

from core.db.database import Database
from core.db.models import Job, SpeechJob, TranscriptionJob
from core.errors import InvalidInput
from core.jobs.states import JobStatus

MAX_LIMIT = 10_000
KINDS = ("asr", "tts")

_ANY_JOB = with_polymorphic(Job, [TranscriptionJob, SpeechJob])


@dataclass(frozen=True)
class JobListing:
    """One job as an operator reads it (both kinds in one shape)."""

    id: str
    kind: str
    status: str
    user_id: str
    source: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    attempts: int
    hold_seconds: int
    billed_seconds: int | None
    audio_seconds: float | None  # transcriptions: the input's length; speech: the audio made
    model: str | None  # transcriptions: the model that ran
    voice: str | None  # speech: the voice asked for
    error_code: str | None
    error_message: str | None
    archived: bool


async def list_jobs(
    db: Database,
    *,
    status: str | None = None,
    user_id: str | None = None,
    kind: str | None = None,
    limit: int = 50,
) -> list[JobListing]:
    """Up to ``limit`` jobs, newest first (archived ones included: an operator looks for trouble)."""
    conditions = []
    if status is not None:
        conditions.append(_ANY_JOB.status == _status(status))
    if user_id is not None:
        conditions.append(_ANY_JOB.user_id == user_id)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"Unknown job kind {kind!r}; use {' or '.join(KINDS)}.", field="kind")
        conditions.append(_ANY_JOB.kind == kind)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"The limit is 1 to {MAX_LIMIT}.", field="limit")
    async with db.read() as session:
        rows = await session.scalars(
            select(_ANY_JOB).where(*conditions).order_by(_ANY_JOB.created_at.desc(), _ANY_JOB.id).limit(limit)
        )
        return [_listing(job) for job in rows]


async def job_counts(db: Database, user_id: str) -> dict[str, int]:
    """How many jobs the account has in each status (statuses it has none in are left out)."""
    async with db.lookup() as session:
        rows = await session.execute(
            select(Job.status, func.count()).where(Job.user_id == user_id).group_by(Job.status)
        )
        return {status: count for status, count in rows.all()}


def _status(value: str) -> JobStatus:
    try:
        return JobStatus(value)
    except ValueError:
        names = ", ".join(s.value for s in JobStatus)
        raise InvalidInput(f"Unknown job status {value!r}; use one of {names}.", field="status") from None


def _listing(job: Job) -> JobListing:
    transcription = job if isinstance(job, TranscriptionJob) else None
    speech = job if isinstance(job, SpeechJob) else None
    seconds = transcription.duration_seconds if transcription else speech.audio_seconds if speech else None
    return JobListing(
        id=job.id,
        kind=job.kind,
        status=job.status,
        user_id=job.user_id,
        source=job.source,
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        attempts=job.attempts,
        hold_seconds=job.hold_seconds,
        billed_seconds=job.billed_seconds,
        audio_seconds=seconds,
        model=transcription.model if transcription else None,
        voice=speech.voice if speech else None,
        error_code=job.error_code,
        error_message=job.error_message,
        archived=job.archived_at is not None,
    )
