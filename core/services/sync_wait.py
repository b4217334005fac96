"""``wait: true``: answering a request for short audio with its finished job.

The job is queued like any other (same queue, same fairness); the request only follows it through
the job feed (``core.services.job_feed``: live events, a database read now and then), so a waiting
request holds no worker and no database connection. Giving up — the timeout, or a client that
went away — closes the feed and nothing else: the job runs on and can be polled.
"""

from __future__ import annotations

import asyncio

from core.db.models import TranscriptionJob
from core.platform import Platform
from core.services import job_feed
from core.services.transcriptions import get_transcription
from core.settings import Settings


def may_wait(settings: Settings, job: TranscriptionJob) -> bool:
    """Whether a request may wait for ``job``: its measured audio is at most ``SYNC_MAX_SECONDS``.
    Longer audio (and audio not measured yet) is queued as without ``wait``: poll it."""
    return job.duration_seconds is not None and job.duration_seconds <= settings.sync_max_seconds


async def finished_within(platform: Platform, user_id: str, job_id: str, seconds: float) -> TranscriptionJob:
    """The job once it has ended (completed, failed or cancelled) or, after ``seconds``, as it
    stands then (still queued or processing)."""
    try:
        async with asyncio.timeout(seconds):
            return await job_feed.finished(platform, user_id, job_id)
    except TimeoutError:
        return await get_transcription(platform, user_id, job_id)
