"""Following a transcription job: one feed of what happens to it, for every channel that watches.

``follow`` subscribes to the job's live events first and only then reads the job, so nothing that
happens after the first snapshot is missed. It yields:

* ``Snapshot`` — the job as stored (status, progress, queue position): first, at once; again after
  a ``status`` event; and whenever the live events have been quiet for ``quiet_seconds``
  (``quiet=True``: it may show no change);
* ``Progress`` — the worker's progress as it reports it (live, not re-read);
* ``Tokens`` — a segment's text as the worker recognizes it;
* ``End`` — the finished job (completed, failed or cancelled), last.

Live events are best effort (they are not stored): a ``done`` that never arrives is noticed at the
next quiet re-read, so the feed always ends with its ``End``. An already finished job yields its
snapshot and its end at once. Keep-alives and how to show each item are the caller's business.
Close the feed when you stop early (``contextlib.aclosing``): that ends the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from core.db.models import TranscriptionJob
from core.events import Event, job_channel
from core.jobs.admission import queue_position
from core.jobs.states import JobStatus, is_terminal
from core.platform import Platform
from core.services.transcriptions import get_transcription

QUIET_SECONDS = 10.0
REREAD_ON = ("status", "done", "error")  # events after which the stored job has changed


@dataclass(frozen=True)
class Snapshot:
    """The job as stored, read after subscribing."""

    job: TranscriptionJob
    queue_position: int  # jobs of its kind that start before it; 0 once it runs
    quiet: bool = False  # read because nothing was heard for a while (it may show no change)


@dataclass(frozen=True)
class Progress:
    """How far the worker is (0..1), as it reported it just now."""

    progress: float


@dataclass(frozen=True)
class Tokens:
    """One segment's text as the worker recognized it, with its time span (and speaker)."""

    text: str
    start: float | None = None
    end: float | None = None
    speaker: str | None = None


@dataclass(frozen=True)
class End:
    """The finished job: completed, failed or cancelled. Nothing follows it."""

    job: TranscriptionJob


FeedItem = Snapshot | Progress | Tokens | End


async def follow(
    platform: Platform, user_id: str, job_id: str, *, quiet_seconds: float = QUIET_SECONDS
) -> AsyncGenerator[FeedItem, None]:
    """What happens to the user's job, from now until it ends; someone else's job is NotFound
    (raised by the first ``anext``, before anything is yielded)."""
    async with platform.events.subscribe(job_channel(job_id)) as events:
        inbox: asyncio.Queue[Event] = asyncio.Queue()
        pump = asyncio.create_task(_pump(events, inbox))
        try:
            job = await get_transcription(platform, user_id, job_id)
            yield await _snapshot(platform, job)
            while not is_terminal(job.status):
                try:
                    event: Event | None = await asyncio.wait_for(inbox.get(), timeout=quiet_seconds)
                except TimeoutError:
                    event = None
                if event is not None and event.get("type") not in REREAD_ON:
                    item = _live(event)
                    if item is not None:
                        yield item
                    continue
                job = await get_transcription(platform, user_id, job_id)
                if not is_terminal(job.status):
                    yield await _snapshot(platform, job, quiet=event is None)
            yield End(job)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def finished(
    platform: Platform, user_id: str, job_id: str, *, quiet_seconds: float = QUIET_SECONDS
) -> TranscriptionJob:
    """The user's job once it has finished (completed, failed or cancelled)."""
    async with contextlib.aclosing(follow(platform, user_id, job_id, quiet_seconds=quiet_seconds)) as feed:
        async for item in feed:
            if isinstance(item, End):
                return item.job
    raise AssertionError("a job feed always ends with its End")  # pragma: no cover


async def _pump(events: AsyncIterator[Event], inbox: asyncio.Queue[Event]) -> None:
    """Move live events into a queue: waiting on the queue can time out without closing the source."""
    async for event in events:
        inbox.put_nowait(event)


async def _snapshot(platform: Platform, job: TranscriptionJob, *, quiet: bool = False) -> Snapshot:
    position = 0
    if job.status == JobStatus.QUEUED:
        async with platform.db.read() as session:
            position = await queue_position(session, job)
    return Snapshot(job, position, quiet)


def _live(event: Event) -> Progress | Tokens | None:
    """A live event that needs no database read, as a feed item (None: nothing to show)."""
    kind = event.get("type")
    if kind == "progress" and "progress" in event:
        return Progress(float(event["progress"]))
    if kind == "token":
        speaker = event.get("speaker")
        return Tokens(
            text=str(event.get("text", "")),
            start=event.get("start"),
            end=event.get("end"),
            speaker=str(speaker) if speaker else None,
        )
    return None
