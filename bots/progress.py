"""Live progress on the bot's status message: job events in, throttled edits out.

The database stays the truth and the result is sent by the ``deliver`` step, so a watcher is only
cosmetic: it follows the job's feed (``core.services.job_feed``: snapshots with the queue position,
live progress), and it stops when the job finishes, when its message is gone (the delivery
replaced it), or after a generous deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from bots.messenger import MessageGone, Messenger, RetryAfter, TelegramError
from bots.texts import duration, say
from core.errors import NotFound
from core.jobs.states import JobStatus
from core.platform import Platform
from core.services import job_feed

log = logging.getLogger(__name__)


@dataclass
class StatusMessage:
    """The message a watcher edits, and what it showed last."""

    chat_id: int
    message_id: int
    lang: str
    last_text: str = ""
    last_edit: float = field(default=0.0)
    processing: bool = False


def progress_text(lang: str, fraction: float, elapsed: float | None) -> str:
    """``Transcribing… 45% · about 12 s left`` (the ETA once there is a rate to go by)."""
    percent = max(0, min(99, int(fraction * 100)))
    eta = ""
    if elapsed and fraction >= 0.05:
        remaining = elapsed * (1 - fraction) / fraction
        eta = say(lang, "eta", eta=duration(max(1, remaining), lang))
    return say(lang, "status_progress", percent=percent, eta=eta)


class ProgressWatcher:
    """One background task per running job of this bot process."""

    def __init__(
        self,
        platform: Platform,
        messenger: Messenger,
        *,
        min_interval: float = 2.0,
        poll_seconds: float = 5.0,
    ) -> None:
        self._platform = platform
        self._messenger = messenger
        self._min_interval = min_interval  # Telegram tolerates about one edit a second per chat
        self._poll_seconds = poll_seconds  # re-read the job after this long without live events
        self._tasks: set[asyncio.Task[None]] = set()

    def watch(self, job_id: str, user_id: str, status: StatusMessage, *, expected_seconds: float) -> None:
        task = asyncio.create_task(self._run(job_id, user_id, status, expected_seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, job_id: str, user_id: str, status: StatusMessage, expected_seconds: float) -> None:
        deadline = max(600.0, expected_seconds * 10)
        feed = job_feed.follow(self._platform, user_id, job_id, quiet_seconds=self._poll_seconds)
        try:
            async with asyncio.timeout(deadline), contextlib.aclosing(feed):
                await self._show(feed, status)
        except TimeoutError:
            log.info("stopped watching job %s after %.0f s", job_id, deadline)
        except NotFound:
            pass  # the job is gone: nothing to show
        except Exception:  # progress is cosmetic: never let it break the bot
            log.warning("progress watcher for job %s failed", job_id, exc_info=True)

    async def _show(self, feed: AsyncIterator[job_feed.FeedItem], status: StatusMessage) -> None:
        """Edit the message as the job moves: its place in the queue, then its progress."""
        started: float | None = None
        async for item in feed:
            now = time.monotonic()
            text = None
            if isinstance(item, job_feed.End):
                return
            if isinstance(item, job_feed.Snapshot):
                job = item.job
                if job.status == JobStatus.QUEUED and item.queue_position > 0 and not status.processing:
                    text = say(status.lang, "status_queued", ahead=item.queue_position)
                elif job.status == JobStatus.PROCESSING and not status.processing:
                    # No live progress yet: show the stored one until it comes.
                    started = started or now
                    text = progress_text(status.lang, job.progress or 0.0, None)
            elif isinstance(item, job_feed.Progress):
                status.processing = True
                started = started or now
                text = progress_text(status.lang, item.progress, now - started)
            else:
                status.processing = True  # recognized text: the job runs, progress follows
            if text is not None and not await self._edit(status, text, now):
                return

    async def _edit(self, status: StatusMessage, text: str, now: float) -> bool:
        """Edit unless unchanged or too soon; False when the message is gone (stop watching)."""
        if text == status.last_text or now - status.last_edit < self._min_interval:
            return True
        status.last_text, status.last_edit = text, now
        try:
            await self._messenger.edit_text(status.chat_id, status.message_id, text)
        except MessageGone:
            return False
        except RetryAfter as exc:
            status.last_edit = now + exc.seconds  # back off; the next edit waits for flood control
        except TelegramError:
            log.debug("progress edit failed", exc_info=True)
        return True
