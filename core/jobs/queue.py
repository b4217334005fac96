"""Sending "look at job X" messages: the only thing a queue message ever says."""

from __future__ import annotations

import asyncio

from dramatiq import Broker, Message

# kind → (queue, actor); the actors themselves are declared in ``core.jobs.actors``.
ROUTES = {
    "asr": ("asr", "transcribe"),
    "tts": ("tts", "synthesize"),
    "deliver": ("deliver", "deliver"),
    "webhook": ("deliver", "deliver_webhook"),  # a webhook delivery's id, not a job's
}


class JobQueue:
    """Enqueues job ids on the broker's queues."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def _message(self, route: str, job_id: str) -> Message[None]:
        queue_name, actor_name = ROUTES[route]
        return Message(queue_name=queue_name, actor_name=actor_name, args=(job_id,), kwargs={}, options={})

    async def send(self, route: str, job_id: str, *, delay_seconds: float = 0) -> None:
        """Enqueue ``job_id`` for the ``route`` ("asr", "tts", "deliver" or "webhook") worker,
        to be handled no sooner than ``delay_seconds`` from now."""
        message = self._message(route, job_id)
        delay = round(delay_seconds * 1000) or None
        # The Redis client blocks; keep the event loop free while it talks to Redis.
        await asyncio.to_thread(self.broker.enqueue, message, delay=delay)

    async def send_all(self, routes: list[tuple[str, str]]) -> None:
        for route, job_id in routes:
            await self.send(route, job_id)
