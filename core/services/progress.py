"""Where a job stands, as a status message shows it: its state, stored progress and queue position.

The queue position is the one ``GET /v1/transcriptions/{id}/eta`` answers
(``core.jobs.admission.queue_position``): jobs of the same kind that start before this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.db.database import Database
from core.db.models import Job
from core.jobs.admission import queue_position
from core.jobs.states import is_terminal


@dataclass(frozen=True)
class JobProgress:
    status: str
    progress: float  # 0..1, as last stored by the worker
    queue_position: int  # jobs of its kind that start before it; 0 once it runs

    @property
    def finished(self) -> bool:
        return is_terminal(self.status)


async def job_progress(db: Database, job_id: str) -> JobProgress | None:
    """The job's progress now, or None when there is no such job."""
    async with db.read() as session:
        job = await session.get(Job, job_id)
        if job is None:
            return None
        return JobProgress(job.status, job.progress or 0.0, await queue_position(session, job))
