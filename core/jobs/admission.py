"""Taking jobs in: the hold and the job row in one transaction, per-user limits, fair dispatch.

Fairness: a user has at most ``max_active`` jobs *active* (dispatched to the broker or processing).
Further jobs wait in the database, undispatched, and are dispatched oldest first as earlier ones
finish (``admit``). Only dispatched jobs have a message, so one user's backlog never blocks others.
A live speech stream takes a slot too (``start_live``): it runs at once or not at all (429), and
while it runs the user's queued jobs wait for its slot like for any other processing job.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing import ledger
from core.db.base import utcnow
from core.db.models import Job, User
from core.errors import NotFound, TooManyActiveJobs, TooManyJobs
from core.jobs.states import JobStatus


async def lock_user(session: AsyncSession, user_id: str) -> User:
    """Load the user with a row lock, serializing admissions per user on PostgreSQL."""
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound("User not found.", user_id=user_id)
    return user


async def submit(
    session: AsyncSession, job: Job, *, hold_seconds: int, max_queued: int, max_active: int
) -> list[tuple[str, str]]:
    """Insert ``job`` with a hold of ``hold_seconds``; returns the (route, job id) pairs to send
    after commit. Raises TooManyJobs or billing's InsufficientMinutes, leaving nothing behind."""
    await lock_user(session, job.user_id)
    waiting = await session.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.user_id == job.user_id, Job.status == JobStatus.QUEUED)
    )
    if (waiting or 0) >= max_queued:
        raise TooManyJobs(
            f"You already have {waiting} jobs waiting (the limit is {max_queued}); "
            "new ones are accepted as those finish.",
            limit=max_queued,
        )
    job.status = JobStatus.QUEUED
    job.hold_seconds = hold_seconds
    session.add(job)
    await session.flush()
    if hold_seconds > 0:
        await ledger.hold(
            session, job.user_id, hold_seconds, job_id=job.id, channel=job.source, usage_kind=job.kind
        )
    return await admit(session, job.user_id, max_active=max_active)


async def start_live(session: AsyncSession, job: Job, *, hold_seconds: int, max_active: int) -> None:
    """Insert ``job`` (already ``processing``: a live stream that runs in the caller) with a hold of
    ``hold_seconds``, if the user has a free slot. Raises TooManyActiveJobs (nothing is held) or
    billing's InsufficientMinutes, leaving nothing behind. Under the user's lock, so concurrent
    starts take exactly the free slots."""
    await lock_user(session, job.user_id)
    active = await _active(session, job.user_id)
    if active >= max_active:
        raise TooManyActiveJobs(
            f"You already have {active} jobs running (the limit is {max_active}); "
            "start the stream again when one has finished.",
            limit=max_active,
            retry_after=5,
        )
    job.hold_seconds = hold_seconds
    session.add(job)
    await session.flush()
    await ledger.hold(
        session, job.user_id, hold_seconds, job_id=job.id, channel=job.source, usage_kind=job.kind
    )


async def admit(session: AsyncSession, user_id: str, *, max_active: int) -> list[tuple[str, str]]:
    """Dispatch the user's oldest waiting jobs into free slots; returns what to send after commit."""
    await lock_user(session, user_id)
    free = max_active - await _active(session, user_id)
    if free <= 0:
        return []
    waiting = (
        await session.execute(
            select(Job.id, Job.kind)
            .where(Job.user_id == user_id, Job.status == JobStatus.QUEUED, Job.dispatched_at.is_(None))
            .order_by(Job.created_at, Job.id)
            .limit(free)
        )
    ).all()
    if not waiting:
        return []
    await session.execute(
        update(Job)
        .where(Job.id.in_([row.id for row in waiting]))
        .values(dispatched_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return [(row.kind, row.id) for row in waiting]


async def _active(session: AsyncSession, user_id: str) -> int:
    """The user's jobs holding a slot: processing (queued jobs' and live streams') or dispatched."""
    active = await session.scalar(
        select(func.count())
        .select_from(Job)
        .where(
            Job.user_id == user_id,
            or_(
                Job.status == JobStatus.PROCESSING,
                (Job.status == JobStatus.QUEUED) & Job.dispatched_at.is_not(None),
            ),
        )
    )
    return int(active or 0)


async def queue_position(session: AsyncSession, job: Job) -> int:
    """How many jobs of the same kind will start before this one (0 once it is processing)."""
    if job.status != JobStatus.QUEUED:
        return 0
    ahead = await session.scalar(
        select(func.count())
        .select_from(Job)
        .where(
            Job.kind == job.kind,
            Job.status == JobStatus.QUEUED,
            Job.created_at < job.created_at,
        )
    )
    return int(ahead or 0)
