"""A user's own job by id: someone else's, a missing or an archived job are the same NotFound, so
ids cannot be probed."""

from __future__ import annotations

from typing import TypeVar

from core.db.models import Job
from core.errors import NotFound
from core.platform import Platform

J = TypeVar("J", bound=Job)


async def owned_job(platform: Platform, kind: type[J], user_id: str, job_id: str, *, what: str) -> J:
    """The ``kind`` job ``job_id`` of ``user_id``; otherwise NotFound("<what> not found.")."""
    async with platform.db.lookup() as session:  # one query: no transaction needed
        job = await session.get(kind, job_id)
    if job is None or job.user_id != user_id or job.archived_at is not None:
        raise NotFound(f"{what} not found.", id=job_id)
    return job
