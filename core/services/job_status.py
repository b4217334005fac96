"""A job's state and progress in one small read: what a client polls, without the transcript.

Prosa's shape, in percent (0–100, one decimal):

* ``transfer`` — the input reaching us. An upload, a base64 body or a multipart file is in our
  store before the job exists (100 from the start); a URL or a Telegram file is fetched by the
  worker, so it counts as arrived once the file is stored or recognition has begun. Until then a
  URL shows the share downloaded (``transfer_progress``, which the worker writes about every
  second); a URL whose server sent no Content-Length, and a Telegram file, show 0;
* ``transcribe`` — the share of the audio the engine has recognized (the job's ``progress``, which
  the worker writes with every heartbeat, about every 2 s; two-channel audio counts both passes);
* ``total`` — both stages weighted by their usual share of the work: receiving a file is quick
  next to recognizing it, so ``transfer`` counts for a tenth. A completed job is 100 throughout.

Speech jobs have one stage, ``synthesize`` (the text came with the request), which is also their total.

One query of a handful of columns on the jobs table (no transcript, segments or text loaded),
outside any transaction; someone else's, a missing or an archived job are the same NotFound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from core.db.models import Job
from core.errors import NotFound
from core.jobs.states import JobStatus
from core.platform import Platform

TRANSFER_SHARE = 0.1
"""The part of ``total`` that ``transfer`` stands for."""

Kind = Literal["asr", "tts"]


@dataclass(frozen=True)
class StatusReport:
    """A job's state and its progress by stage, in percent."""

    id: str
    status: str
    total: float
    stages: dict[str, float]  # "transfer" and "transcribe", or "synthesize"


async def job_status(platform: Platform, user_id: str, job_id: str, *, kind: Kind) -> StatusReport:
    """The status of ``user_id``'s ``kind`` job ``job_id``; NotFound otherwise."""
    jobs = Job.__table__
    query = select(
        jobs.c.user_id,
        jobs.c.status,
        jobs.c.progress,
        jobs.c.archived_at,
        jobs.c.object_key,
        jobs.c.transfer_progress,
    ).where(jobs.c.id == job_id, jobs.c.kind == kind)
    async with platform.db.lookup() as session:  # one query: no transaction needed
        row = (await session.execute(query)).one_or_none()
    if row is None or row.user_id != user_id or row.archived_at is not None:
        what = "Transcription" if kind == "asr" else "Speech job"
        raise NotFound(f"{what} not found.", id=job_id)
    done = row.status == JobStatus.COMPLETED
    work = 100.0 if done else _percent(row.progress)
    if kind == "tts":
        return StatusReport(job_id, row.status, work, {"synthesize": work})
    # Recognition starts only after the whole input is here, so any progress means it arrived.
    arrived = done or row.object_key is not None or (row.progress or 0.0) > 0
    transfer = 100.0 if arrived else _percent(row.transfer_progress)
    total = round(TRANSFER_SHARE * transfer + (1 - TRANSFER_SHARE) * work, 1)
    return StatusReport(job_id, row.status, total, {"transfer": transfer, "transcribe": work})


def _percent(fraction: float | None) -> float:
    return round(max(0.0, min(1.0, fraction or 0.0)) * 100, 1)
