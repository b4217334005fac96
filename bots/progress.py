"""Live progress on the bot's status message: job events in, throttled edits out.

The database stays the truth and the result is sent by the ``deliver`` step, so a watcher is only
cosmetic: it may miss events, and it stops when the job finishes, when its message is gone (the
delivery replaced it), or after a generous deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bots.messenger import MessageGone, Messenger, RetryAfter, TelegramError
from bots.texts import duration, say
from core.events import job_channel
from core.jobs.states import JobStatus
from core.platform import Platform
from core.services.progress import job_progress

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
        self._poll_seconds = poll_seconds
        self._tasks: set[asyncio.Task[None]] = set()

    def watch(self, job_id: str, status: StatusMessage, *, expected_seconds: float) -> None:
        task = asyncio.create_task(self._run(job_id, status, expected_seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, job_id: str, status: StatusMessage, expected_seconds: float) -> None:
        deadline = max(600.0, expected_seconds * 10)
        try:
            async with asyncio.timeout(deadline):
                async with self._platform.events.subscribe(job_channel(job_id)) as events:
                    follow = asyncio.create_task(self._follow(job_id, events, status))
                    poll = asyncio.create_task(self._until_finished(job_id, status))
                    try:
                        await asyncio.wait({follow, poll}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for task in (follow, poll):
                            task.cancel()
                        await asyncio.gather(follow, poll, return_exceptions=True)
        except TimeoutError:
            log.info("stopped watching job %s after %.0f s", job_id, deadline)
        except Exception:  # progress is cosmetic: never let it break the bot
            log.warning("progress watcher for job %s failed", job_id, exc_info=True)

    async def _follow(
        self, job_id: str, events: AsyncIterator[dict[str, Any]], status: StatusMessage
    ) -> None:
        started: float | None = None
        async for event in events:
            kind = event.get("type")
            if kind in ("done", "error"):
                return
            now = time.monotonic()
            status.processing = True
            if kind == "status" and event.get("status") == JobStatus.PROCESSING:
                started = now
                text = progress_text(status.lang, 0.0, None)
            elif kind == "progress":
                started = started or now
                text = progress_text(status.lang, float(event.get("progress", 0.0)), now - started)
            else:
                continue
            if not await self._edit(status, text, now):
                return

    async def _until_finished(self, job_id: str, status: StatusMessage) -> None:
        """Show the queue position while waiting, and notice a finish whose event we missed."""
        while True:
            job = await job_progress(self._platform.db, job_id)
            if job is None or job.finished:
                return
            text = None
            if job.status == JobStatus.QUEUED and job.queue_position > 0 and not status.processing:
                text = say(status.lang, "status_queued", ahead=job.queue_position)
            elif job.status == JobStatus.PROCESSING and not status.processing:
                # Started before we subscribed: show the stored progress until events arrive.
                text = progress_text(status.lang, job.progress, None)
            if text is not None and not await self._edit(status, text, time.monotonic()):
                return
            await asyncio.sleep(self._poll_seconds)

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
