"""Delivering finished jobs to the chat they came from: the job whole, earlier answers still unsent,
each step recorded as it is done, and the audio of a speech result.

A channel's deliverer (``bots.delivery``) decides what to send; this is the state it keeps, so that
a retried delivery resumes where it stopped and sends nothing twice. The job rows it hands out are
read-only for the caller.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.db.base import utcnow
from core.db.database import Database
from core.db.models import Job, SpeechJob, TranscriptionJob
from core.jobs import lifecycle
from core.jobs.states import JobStatus
from core.platform import Platform

FinishedJob = TranscriptionJob | SpeechJob

__all__ = [
    "FinishedJob",
    "Job",
    "SpeechJob",
    "TranscriptionJob",
    "load_job",
    "mark_delivered",
    "read_result",
    "record_sent",
    "unsent_before",
]


async def load_job(db: Database, job_id: str) -> FinishedJob | None:
    """The job with its kind's columns (a job handed over as the base class lacks them)."""
    async with db.read() as session:
        kind = await session.scalar(select(Job.kind).where(Job.id == job_id))
        if kind is None:
            return None
        return await session.get(TranscriptionJob if kind == "asr" else SpeechJob, job_id)


async def unsent_before(db: Database, job: Job, *, chat_id: int, recent: timedelta) -> list[FinishedJob]:
    """The same user's finished jobs of the same channel and chat, created before ``job``, that
    finished within ``recent`` and are still unsent; oldest first."""
    async with db.read() as session:
        ids = (
            await session.scalars(
                select(Job.id)
                .where(
                    Job.user_id == job.user_id,
                    Job.source == job.source,
                    Job.delivered_at.is_(None),
                    Job.status.in_((JobStatus.COMPLETED, JobStatus.FAILED)),
                    Job.created_at < job.created_at,
                    Job.completed_at > utcnow() - recent,
                )
                .order_by(Job.created_at, Job.id)
            )
        ).all()
    jobs = [await load_job(db, job_id) for job_id in ids]
    return [j for j in jobs if j is not None and int((j.delivery or {}).get("chat_id", 0)) == chat_id]


async def record_sent(db: Database, job_id: str, sent: list[str]) -> None:
    """Store the delivery steps done so far (``job.delivery["sent"]``)."""
    async with db.write() as session:
        row = await session.get(Job, job_id)
        if row is not None:
            row.delivery = {**(row.delivery or {}), "sent": list(sent)}


async def mark_delivered(db: Database, job_id: str) -> bool:
    """Record that the job's answer is out; False when it had been recorded already."""
    return await lifecycle.mark_delivered(db, job_id)


async def read_result(platform: Platform, job: SpeechJob) -> bytes:
    """The speech job's audio, whole (a voice note is small)."""
    assert job.result_key is not None
    reader = await platform.store.open_read(job.result_key)
    async with reader:
        return b"".join([chunk async for chunk in reader])
