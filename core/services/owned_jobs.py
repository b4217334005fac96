"""A user's own job by id — read, cancelled or archived, for jobs of either kind: someone else's, a
missing or an archived job are the same NotFound, so ids cannot be probed."""

from __future__ import annotations

from typing import TypeVar

from core.db.base import utcnow
from core.db.models import Job
from core.errors import Conflict, NotFound
from core.events import job_channel
from core.jobs import admission, lifecycle
from core.jobs.states import JobStatus, can_transition, is_terminal
from core.platform import Platform

J = TypeVar("J", bound=Job)


async def owned_job(platform: Platform, kind: type[J], user_id: str, job_id: str, *, what: str) -> J:
    """The ``kind`` job ``job_id`` of ``user_id``; otherwise NotFound("<what> not found.")."""
    async with platform.db.lookup() as session:  # one query: no transaction needed
        job = await session.get(kind, job_id)
    if job is None or job.user_id != user_id or job.archived_at is not None:
        raise NotFound(f"{what} not found.", id=job_id)
    return job


async def cancel_owned_job(platform: Platform, kind: type[J], user_id: str, job_id: str, *, what: str) -> J:
    """Stop a queued or running job and give its minutes back; finished jobs are a Conflict.
    Its followers (``job_feed``) learn it at once; the worker notices at its next heartbeat."""
    async with platform.db.write() as session:
        await admission.lock_user(session, user_id)  # lock order: user, job, balance
        job = await session.get(kind, job_id, with_for_update=True)
        if job is None or job.user_id != user_id or job.archived_at is not None:
            raise NotFound(f"{what} not found.", id=job_id)
        if not can_transition(job.status, JobStatus.CANCELLED):
            raise Conflict(f"The job is already {job.status}.", status=job.status)
        sends = await lifecycle.cancel(session, job, max_active=platform.settings.max_active_jobs)
    await platform.queue.send_all(sends)
    await platform.events.publish(
        job_channel(job.id), {"job_id": job.id, "type": "status", "status": job.status}
    )
    return job


async def archive_owned_job(
    platform: Platform, kind: type[J], user_id: str, job_id: str, *, what: str
) -> None:
    """Hide a finished job from lists and reads; a running one is a Conflict."""
    async with platform.db.write() as session:
        job = await session.get(kind, job_id, with_for_update=True)
        if job is None or job.user_id != user_id or job.archived_at is not None:
            raise NotFound(f"{what} not found.", id=job_id)
        if not is_terminal(job.status):
            raise Conflict("The job is still running; cancel it first.", status=job.status)
        job.archived_at = utcnow()
