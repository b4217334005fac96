"""The three actors, bound explicitly to a broker (Dramatiq's global broker is never used).

Actors take ids only and are safe to run any number of times for the same id.
"""

from __future__ import annotations

from dramatiq import Actor, Broker

from core.jobs.broker import JOB_TIME_LIMIT_MS
from core.jobs.deliver_task import deliver_job
from core.jobs.execute import execute
from core.jobs.runtime import RuntimeHolder
from core.jobs.speech_task import process_speech
from core.jobs.transcribe_task import process_transcription


def declare_actors(broker: Broker, holder: RuntimeHolder, *, max_retries: int) -> dict[str, Actor[..., None]]:
    """Declare ``transcribe`` (asr), ``synthesize`` (tts) and ``deliver`` on ``broker``."""

    async def transcribe(job_id: str) -> None:
        await execute(await holder.get(), job_id, process_transcription)

    async def synthesize(job_id: str) -> None:
        await execute(await holder.get(), job_id, process_speech)

    async def deliver(job_id: str) -> None:
        await deliver_job(await holder.get(), job_id)

    options = {"max_retries": max_retries, "time_limit": JOB_TIME_LIMIT_MS}
    return {
        name: Actor(fn, broker=broker, actor_name=name, queue_name=queue, priority=0, options=options)
        for fn, name, queue in (
            (transcribe, "transcribe", "asr"),
            (synthesize, "synthesize", "tts"),
            # Delivery talks to Telegram: more retries, it only ever waits on the network.
            (deliver, "deliver", "deliver"),
        )
    }
