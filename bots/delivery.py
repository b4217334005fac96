"""The ``deliver`` step for Telegram: transcripts, voice notes and failures, each sent once.

Runs in the workers. Every step of a delivery (each part of a long text, the file, the removal of
the status message) is recorded in ``job.delivery["sent"]`` as soon as it is done, so a retry after
a network error, a 429 or a restart resumes where it stopped and sends nothing twice. Telegram's
``retry_after`` becomes ``RetryLater(seconds=…)``, which the worker's actor turns into a delayed retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from bots.explain import explain
from bots.formatting import needs_file, split_message
from bots.messenger import ChatUnavailable, MessageGone, Messenger, MessengerFactory, RetryAfter
from bots.model import Button, Keyboard
from bots.texts import say
from core.errors import RetryLater
from core.jobs.states import JobStatus
from core.observability import metrics
from core.observability.request_context import OPTION_KEY, job_context
from core.platform import Platform
from core.services import deliveries
from core.services.deliveries import FinishedJob, Job, SpeechJob, TranscriptionJob

log = logging.getLogger(__name__)

PREVIEW_CHARS = 300
# Older unsent answers are not waited for: their own delivery failed for good.
RECENT = timedelta(minutes=10)


class TelegramDeliverer:
    """Implements ``core.jobs.runtime.Deliverer`` for jobs that came from Telegram.

    Answers go out in the order the recordings came in: before a job's answer, any earlier
    finished job of the same chat that is still unsent is sent first (one chat at a time in this
    process), so a short note finishing right after a long one cannot overtake it."""

    def __init__(self, platform: Platform, open_messenger: MessengerFactory) -> None:
        self._platform = platform
        self._open = open_messenger
        self._locks: dict[int, asyncio.Lock] = {}

    async def deliver(self, job: Job) -> None:
        db = self._platform.db
        loaded = await deliveries.load_job(db, job.id)
        if loaded is None:
            return
        delivery = loaded.delivery or {}
        if "chat_id" not in delivery:
            log.warning("job %s has no chat to deliver to", job.id)
            return
        chat_id = int(delivery["chat_id"])
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock, self._open() as messenger:
                for earlier in await deliveries.unsent_before(db, loaded, chat_id=chat_id, recent=RECENT):
                    with job_context(earlier.id, (earlier.options or {}).get(OPTION_KEY)):
                        await self._send(messenger, earlier)
                        await deliveries.mark_delivered(db, earlier.id)
                current = await deliveries.load_job(db, job.id)
                if current is not None and current.delivered_at is None:
                    await self._send(messenger, current)
        except RetryAfter as exc:
            metrics.BOT_DELIVERIES.labels("retry").inc()
            raise RetryLater(str(exc), seconds=exc.seconds) from exc
        except ChatUnavailable:
            metrics.BOT_DELIVERIES.labels("unreachable").inc()
            log.info("chat %s blocked the bot or is gone; job %s stays unsent", chat_id, job.id)
        except Exception:
            metrics.BOT_DELIVERIES.labels("error").inc()
            raise
        finally:
            if not lock.locked():
                self._locks.pop(chat_id, None)

    async def _send(self, messenger: Messenger, job: FinishedJob) -> None:
        step = _Steps(self._platform, job, messenger, dict(job.delivery or {}))
        if job.status == JobStatus.FAILED:
            await step.failure()
        elif isinstance(job, TranscriptionJob):
            await step.transcript(job)
            await step.truncation(job)
        else:
            await step.voice(job)
        await step.remove_status()
        metrics.BOT_DELIVERIES.labels("sent").inc()
        log.info("job %s delivered to chat %s", job.id, step.chat_id)


class _Steps:
    """One delivery attempt; each ``_once(name)`` block runs at most once across attempts."""

    def __init__(self, platform: Platform, job: Job, messenger: Messenger, delivery: dict[str, Any]) -> None:
        self.platform = platform
        self.job = job
        self.m = messenger
        self.delivery = delivery
        self.chat_id = int(delivery["chat_id"])
        self.reply_to: int | None = delivery.get("reply_to")
        self.lang = str(delivery.get("lang") or "en")
        self.sent: list[str] = list(delivery.get("sent") or [])

    async def _done(self, step: str) -> None:
        self.sent.append(step)
        self.delivery["sent"] = self.sent
        await deliveries.record_sent(self.platform.db, self.job.id, self.sent)

    async def failure(self) -> None:
        if "failure" in self.sent:
            return
        answer = explain(
            self.job.error_code or "", self.job.error_message or "", {}, self.lang, kind=self.job.kind
        )
        await self.m.send_text(self.chat_id, answer.text, reply_to=self.reply_to, buttons=answer.buttons)
        await self._done("failure")

    async def transcript(self, job: TranscriptionJob) -> None:
        text = (job.transcript_text or "").strip()
        buttons: Keyboard | None = (
            [[Button(say(self.lang, "srt_button"), f"srt:{job.id}")]] if text and job.segments else None
        )
        if not text:
            if "empty" not in self.sent:
                await self.m.send_text(
                    self.chat_id, say(self.lang, "transcript_empty"), reply_to=self.reply_to
                )
                await self._done("empty")
            return
        if needs_file(text):
            if "file" not in self.sent:
                preview = " ".join(text[:PREVIEW_CHARS].split())
                await self.m.send_document(
                    self.chat_id,
                    _filename(job.created_at, "txt"),
                    text.encode("utf-8"),
                    caption=say(self.lang, "transcript_file", preview=preview),
                    reply_to=self.reply_to,
                    buttons=buttons,
                )
                await self._done("file")
            return
        parts = split_message(text)
        for index, part in enumerate(parts):
            if f"part:{index}" in self.sent:
                continue
            last = index == len(parts) - 1
            await self.m.send_text(
                self.chat_id, part, reply_to=self.reply_to, buttons=buttons if last else None
            )
            await self._done(f"part:{index}")

    async def truncation(self, job: TranscriptionJob) -> None:
        """Say so when the balance ran out before the recording did (after the partial text)."""
        if not job.truncated or "truncated" in self.sent:
            return
        seconds = round(job.duration_seconds or 0)
        await self.m.send_text(self.chat_id, say(self.lang, "transcript_truncated", seconds=seconds))
        await self._done("truncated")

    async def voice(self, job: SpeechJob) -> None:
        if "voice" in self.sent or not job.result_key:
            return
        audio = await deliveries.read_result(self.platform, job)
        seconds = max(1, math.ceil(job.audio_seconds or 0))
        await self.m.send_voice(self.chat_id, audio, duration=seconds, reply_to=self.reply_to)
        await self._done("voice")

    async def remove_status(self) -> None:
        """The status message has served its purpose once the answer is out (a new message
        notifies the user; an edit would not)."""
        status_id = self.delivery.get("status_message_id")
        if not status_id or "status" in self.sent:
            return
        with contextlib.suppress(MessageGone):  # deleted already, or too old to delete
            await self.m.delete_message(self.chat_id, int(status_id))
        await self._done("status")


def _filename(created_at: datetime | None, extension: str) -> str:
    stamp = created_at.strftime("%Y-%m-%d_%H-%M") if created_at else "transcript"
    return f"transcript_{stamp}.{extension}"
