"""State changes of a job, each one conditional so that racing workers cannot both win.

A claim bumps ``attempts``; later writes of that worker name the attempt they belong to (a fencing
token), so a worker that was presumed dead and comes back cannot overwrite its successor's result.
Every finishing step settles or releases the hold in the same transaction and re-admits the
user's next waiting job.

Lock order, the same everywhere so PostgreSQL never deadlocks: the user's row, then job rows,
then the ledger's balance row (``admission.submit`` follows it too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing import ledger
from billing.pricing import round_up
from core.db.base import utcnow
from core.db.database import Database
from core.db.models import Job
from core.jobs.admission import admit, lock_user
from core.jobs.states import JobStatus, sources_for
from core.jobs.webhook_task import record_outcome
from core.observability import job_metrics, metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """A worker's right to run one attempt of a job."""

    job_id: str
    user_id: str
    attempt: int


async def claim(db: Database, job_id: str, *, stale_after: timedelta) -> Claim | None:
    """Move a queued job (or one whose worker went silent) to processing; None if not ours to run."""
    now = utcnow()
    async with db.write() as session:
        job = await session.get(Job, job_id)
        if job is None:
            return None
        stale = job.status == JobStatus.PROCESSING and (
            job.heartbeat_at is None or job.heartbeat_at < now - stale_after
        )
        if job.status != JobStatus.QUEUED and not stale:
            return None  # finished, cancelled, or alive in another worker: a duplicate message
        result = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == job.status, Job.attempts == job.attempts)
            .values(
                status=JobStatus.PROCESSING,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                dispatched_at=job.dispatched_at or now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        claimed = Claim(job_id, job.user_id, job.attempts + 1)
    log.info("job %s started (attempt %d)", job_id, claimed.attempt)
    return claimed


async def heartbeat(
    db: Database, claim_: Claim, *, progress: float | None = None, audio_seconds: float | None = None
) -> bool:
    """Record that the worker is alive (and its progress; a live stream also the seconds of audio
    it has sent, which the reconciler bills if the process dies); False when the job is no longer
    ours (cancelled, or taken over), which tells the worker to stop."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = max(0.0, min(1.0, progress))
    if audio_seconds is not None:
        values["audio_seconds"] = audio_seconds  # a speech job's column (one table for all jobs)
    async with db.write() as session:
        result = await session.execute(
            update(Job)
            .where(
                Job.id == claim_.job_id, Job.status == JobStatus.PROCESSING, Job.attempts == claim_.attempt
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        alive = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    if alive:
        metrics.worker_heartbeat()
    return alive


async def complete(
    db: Database, claim_: Claim, *, billable_seconds: float, quantum: int, max_active: int, **fields: Any
) -> list[tuple[str, str]] | None:
    """Store the result, charge the billable seconds, release the rest, admit the next job.
    Returns what to send after commit, or None when this attempt no longer owns the job."""
    async with db.write() as session:
        await lock_user(session, claim_.user_id)
        job = await _owned(session, claim_)
        if job is None:
            return None
        # The charge is what was processed, whatever the estimate held (the worker extended the
        # hold as the audio ran on; settle takes any remainder from the balance).
        charged = 0
        if await ledger.held_seconds(session, job.id):
            settlement = await ledger.settle(session, job.id, round_up(billable_seconds, quantum))
            charged = settlement.captured
            job.hold_seconds = settlement.captured + settlement.released  # with any last extension
        for name, value in fields.items():
            setattr(job, name, value)
        job.status = JobStatus.COMPLETED
        job.progress = 1.0
        job.billed_seconds = charged
        job.completed_at = utcnow()
        return await _after_finish(session, job, max_active)


async def extend_hold(db: Database, claim_: Claim, seconds: int, *, quantum: int) -> int | None:
    """Grow a running job's hold by up to ``seconds`` (what the balance allows, in whole quanta).
    Returns the seconds added (0: the balance is spent), or None when this attempt no longer owns
    the job (cancelled or taken over)."""
    async with db.write() as session:
        await lock_user(session, claim_.user_id)
        job = await _owned(session, claim_)
        if job is None:
            return None
        added = await ledger.extend(session, job.id, seconds, quantum=quantum)
        job.hold_seconds += added
        return added


async def fail(
    db: Database, job_id: str, *, code: str, message: str, max_active: int, attempt: int | None = None
) -> list[tuple[str, str]] | None:
    """Fail the job with a message people understand and give the whole hold back.
    With ``attempt``, only if that attempt still owns it; without, from any live state."""
    async with db.write() as session:
        user_id = await session.scalar(select(Job.user_id).where(Job.id == job_id))
        if user_id is None:
            return None
        await lock_user(session, user_id)
        query = select(Job).where(Job.id == job_id, Job.status.in_(sources_for(JobStatus.FAILED)))
        if attempt is not None:
            query = query.where(Job.attempts == attempt)
        job = await session.scalar(query.with_for_update())
        if job is None:
            return None
        await _release(session, job)
        job.status = JobStatus.FAILED
        job.error_code = code
        job.error_message = message
        job.billed_seconds = 0
        job.completed_at = utcnow()
        return await _after_finish(session, job, max_active)


async def cancel(session: AsyncSession, job: Job, *, max_active: int) -> list[tuple[str, str]]:
    """Cancel a queued or processing job inside the caller's transaction (which holds the user's
    lock, see the module docstring); the hold goes back."""
    await _release(session, job)
    job.status = JobStatus.CANCELLED
    job.billed_seconds = 0
    job.completed_at = utcnow()
    return await _after_finish(session, job, max_active)


async def requeue(db: Database, claim_: Claim) -> bool:
    """Give a job back to the queue after a transient error (its message will be retried)."""
    async with db.write() as session:
        result = await session.execute(
            update(Job)
            .where(
                Job.id == claim_.job_id, Job.status == JobStatus.PROCESSING, Job.attempts == claim_.attempt
            )
            .values(status=JobStatus.QUEUED, heartbeat_at=None)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


async def mark_delivered(db: Database, job_id: str) -> bool:
    """Record delivery once; False when it had been delivered already."""
    async with db.write() as session:
        result = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.delivered_at.is_(None))
            .values(delivered_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


async def _owned(session: AsyncSession, claim_: Claim) -> Job | None:
    return await session.scalar(
        select(Job)
        .where(Job.id == claim_.job_id, Job.status == JobStatus.PROCESSING, Job.attempts == claim_.attempt)
        .with_for_update()
    )


async def _release(session: AsyncSession, job: Job) -> None:
    if job.hold_seconds > 0:
        await ledger.release(session, job.id)


async def _after_finish(session: AsyncSession, job: Job, max_active: int) -> list[tuple[str, str]]:
    await session.flush()
    job_metrics.note_finished(session, job)  # every outcome passes here; counted if this commits
    sends = await admit(session, job.user_id, max_active=max_active)
    if job.delivery and job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        sends.append(("deliver", job.id))
    sends += await record_outcome(session, job)  # webhooks, committed with the outcome
    return sends
