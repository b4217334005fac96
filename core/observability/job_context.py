"""The log context of one job's step in a worker: its job id, and the id of the request that
created it, read from the job row (the queue message says only "look at job X", as every message
does, so a message the reconciler re-sent tags its lines the same way)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import select

from core.db.database import Database
from core.db.models import Job
from core.observability.request_context import OPTION_KEY, job_context


@contextlib.asynccontextmanager
async def job_log_context(db: Database, job_id: str) -> AsyncIterator[None]:
    """Tag the lines logged inside the block with ``job_id`` and its request id."""
    with job_context(job_id, None):  # the job id even if the lookup fails
        try:
            request_id = await request_id_of(db, job_id)
        except Exception:  # the step itself will meet (and report) the outage
            request_id = None
        with job_context(job_id, request_id):
            yield


async def request_id_of(db: Database, job_id: str) -> str | None:
    """The id of the request that created the job (None for jobs made outside a request)."""
    async with db.lookup() as session:
        options = await session.scalar(select(Job.options).where(Job.id == job_id))
    value = (options or {}).get(OPTION_KEY)
    return value if isinstance(value, str) else None
