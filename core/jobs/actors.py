"""The three actors, bound explicitly to a broker (Dramatiq's global broker is never used).

Actors take ids only and are safe to run any number of times for the same id.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

from dramatiq import Actor, Broker, Retry

from core.errors import RetryLater
from core.jobs.broker import JOB_TIME_LIMIT_MS
from core.jobs.deliver_task import deliver_job
from core.jobs.execute import execute
from core.jobs.runtime import RuntimeHolder
from core.jobs.speech_task import process_speech
from core.jobs.transcribe_task import process_transcription
from core.jobs.webhook_task import send_webhook
from core.observability.job_context import job_log_context

DELIVERY_RETRIES = 12  # exponential backoff from 1 s, capped at a minute: about 7 minutes in all
RETRY_MARGIN_MS = 250  # come back just after the wait the other side asked for, not on its edge


def declare_actors(broker: Broker, holder: RuntimeHolder, *, max_retries: int) -> dict[str, Actor[..., None]]:
    """Declare ``transcribe`` (asr), ``synthesize`` (tts), ``deliver`` and ``deliver_webhook`` on
    ``broker``."""

    # Each step logs under its job id and the id of the request that created the job.
    async def transcribe(job_id: str) -> None:
        rt = await holder.get()
        async with job_log_context(rt.platform.db, job_id):
            await execute(rt, job_id, process_transcription)

    async def synthesize(job_id: str) -> None:
        rt = await holder.get()
        async with job_log_context(rt.platform.db, job_id):
            await execute(rt, job_id, process_speech)

    async def deliver(job_id: str) -> None:
        rt = await holder.get()
        async with job_log_context(rt.platform.db, job_id):
            with retry_when_asked():
                await deliver_job(rt, job_id)

    async def deliver_webhook(delivery_id: str) -> None:
        await send_webhook((await holder.get()).platform, delivery_id)

    job_options = {"max_retries": max_retries, "time_limit": JOB_TIME_LIMIT_MS}
    # Delivery only ever waits on Telegram (network errors, 429 with retry_after): retry it for
    # longer; the reconciler re-sends what is still undelivered after that.
    deliver_options = {"max_retries": DELIVERY_RETRIES, "time_limit": 10 * 60 * 1000}
    # A webhook schedules its own retries (webhook_task); the broker's are for a database hiccup.
    webhook_options = {"max_retries": max_retries, "time_limit": 2 * 60 * 1000}
    return {
        name: Actor(fn, broker=broker, actor_name=name, queue_name=queue, priority=0, options=options)
        for fn, name, queue, options in (
            (transcribe, "transcribe", "asr", job_options),
            (synthesize, "synthesize", "tts", job_options),
            (deliver, "deliver", "deliver", deliver_options),
            (deliver_webhook, "deliver_webhook", "deliver", webhook_options),
        )
    }


@contextlib.contextmanager
def retry_when_asked() -> Iterator[None]:
    """The retry policy at the actor boundary: a step's ``RetryLater(seconds=…)`` becomes Dramatiq's
    ``Retry`` with that delay (a retry still counts against the actor's ``max_retries``); without a
    delay it propagates as is, and Dramatiq retries with its backoff."""
    try:
        yield
    except RetryLater as exc:
        if exc.seconds is None:
            raise
        raise Retry(str(exc), delay=math.ceil(exc.seconds * 1000) + RETRY_MARGIN_MS) from exc
