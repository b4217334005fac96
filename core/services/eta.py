"""When will a job be done? Estimates from measured processing times of recent jobs.

The speed of this installation is measured, not assumed: over the latest finished jobs of the same
kind we take the real-time factor (processing seconds per audio second, for transcriptions) and the
average processing time. A queued job waits for the work queued before it (each job's audio length
times that factor, divided among the jobs running in parallel right now) and then needs its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.models import Job, TranscriptionJob
from core.jobs.admission import queue_position
from core.jobs.states import JobStatus
from core.platform import Platform

JOBS = Job.__table__
SAMPLE_JOBS = 50
MAX_AHEAD_READ = 1000
# Before anything was measured: a conservative guess (CPU engines run about twice real time).
DEFAULT_REALTIME_FACTOR = 0.5
DEFAULT_JOB_SECONDS = 10.0


@dataclass(frozen=True)
class Eta:
    """The estimate for one job, in whole seconds."""

    job_id: str
    status: str
    queue_position: int
    estimated_wait_seconds: int  # until processing starts
    estimated_completion_seconds: int  # until the result is ready
    average_duration_seconds: int  # mean processing time of recent jobs of this kind
    realtime_factor: float | None  # processing seconds per audio second (transcriptions)
    based_on_jobs: int  # how many finished jobs the figures come from


@dataclass(frozen=True)
class _Speed:
    realtime_factor: float | None
    average_seconds: float | None
    samples: int

    def expected(self, audio_seconds: float | None) -> float:
        if audio_seconds and self.realtime_factor is not None:
            return audio_seconds * self.realtime_factor
        if self.average_seconds is not None:
            return self.average_seconds
        if audio_seconds:
            return audio_seconds * DEFAULT_REALTIME_FACTOR
        return DEFAULT_JOB_SECONDS


async def estimate(platform: Platform, job: Job) -> Eta:
    """Queue position and expected wait of ``job`` (which the caller has checked belongs to its user)."""
    speed = await _measure(platform, job.kind)
    own = speed.expected(_audio_seconds(job))
    now = utcnow()
    async with platform.db.read() as session:
        position = await queue_position(session, job)
        if job.status == JobStatus.QUEUED:
            ahead, parallel = await _work_ahead(session, job, speed, now)
        else:
            ahead, parallel = 0.0, 1
    if job.status == JobStatus.QUEUED:
        wait = ahead / parallel
        completion = wait + own
    elif job.status == JobStatus.PROCESSING:
        wait = 0.0
        elapsed = _seconds_between(job.started_at, now)
        completion = max(own - elapsed, own * (1.0 - (job.progress or 0.0)), 0.0)
    else:
        wait = completion = 0.0
    return Eta(
        job_id=job.id,
        status=job.status,
        queue_position=position,
        estimated_wait_seconds=math.ceil(wait),
        estimated_completion_seconds=math.ceil(completion),
        average_duration_seconds=math.ceil(
            speed.average_seconds if speed.average_seconds is not None else speed.expected(None)
        ),
        realtime_factor=round(speed.realtime_factor, 3) if speed.realtime_factor is not None else None,
        based_on_jobs=speed.samples,
    )


@dataclass(frozen=True)
class _Row:
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    audio_seconds: float | None


async def _measure(platform: Platform, kind: str) -> _Speed:
    async with platform.db.read() as session:
        rows = await _fetch(
            session,
            (JOBS.c.kind == kind)
            & (JOBS.c.status == JobStatus.COMPLETED)
            & JOBS.c.started_at.is_not(None)
            & JOBS.c.completed_at.is_not(None),
            order=JOBS.c.completed_at.desc(),
            limit=SAMPLE_JOBS,
        )
    if not rows:
        return _Speed(None, None, 0)
    spent = [_seconds_between(r.started_at, r.completed_at) for r in rows]
    audio = [r.audio_seconds or 0.0 for r in rows]
    factor = sum(spent) / sum(audio) if kind == "asr" and sum(audio) > 0 else None
    return _Speed(factor, sum(spent) / len(spent), len(rows))


async def _work_ahead(session: AsyncSession, job: Job, speed: _Speed, now: datetime) -> tuple[float, int]:
    """Seconds of work before ``job`` starts, and how many jobs of its kind run in parallel now."""
    others = await _fetch(
        session,
        (JOBS.c.kind == job.kind)
        & (JOBS.c.id != job.id)
        & (
            (JOBS.c.status == JobStatus.PROCESSING)
            | ((JOBS.c.status == JobStatus.QUEUED) & (JOBS.c.created_at < job.created_at))
        ),
        order=JOBS.c.created_at,
        limit=MAX_AHEAD_READ,
    )
    total = 0.0
    running = 0
    for other in others:
        expected = speed.expected(other.audio_seconds)
        if other.status == JobStatus.PROCESSING:
            running += 1
            total += max(0.0, expected - _seconds_between(other.started_at, now))
        else:
            total += expected
    return total, max(1, running)


async def _fetch(session: AsyncSession, where: Any, *, order: Any, limit: int) -> list[_Row]:
    # Plain columns of the jobs table: loading ORM rows polymorphically would lazy-load subclass
    # columns, which async sessions cannot do.
    result = await session.execute(
        select(JOBS.c.status, JOBS.c.started_at, JOBS.c.completed_at, JOBS.c.duration_seconds)
        .where(where)
        .order_by(order)
        .limit(limit)
    )
    return [_Row(*row) for row in result.all()]


def _audio_seconds(job: Job) -> float | None:
    if isinstance(job, TranscriptionJob):
        return job.duration_seconds
    return None


def _seconds_between(start: datetime | None, end: datetime | None) -> float:
    if start is None or end is None:
        return 0.0
    return max(0.0, (end - start).total_seconds())
