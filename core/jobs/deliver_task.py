"""The deliver step: hand a finished job's result to its channel, once."""

from __future__ import annotations

import logging

from core.db.models import Job
from core.jobs import lifecycle
from core.jobs.runtime import WorkerRuntime

log = logging.getLogger(__name__)


async def deliver_job(rt: WorkerRuntime, job_id: str) -> None:
    """Send the result through the deliverer of the job's source; errors propagate for a retry."""
    async with rt.platform.db.read() as session:
        job = await session.get(Job, job_id)
    if job is None or job.delivered_at is not None or not job.delivery:
        return
    deliverer = rt.deliverers.get(job.source)
    if deliverer is None:
        log.warning("no deliverer for %s jobs; job %s stays undelivered", job.source, job_id)
        return
    await deliverer.deliver(job)
    await lifecycle.mark_delivered(rt.platform.db, job_id)
