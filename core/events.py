"""Live job events (progress, tokens, done) for SSE and the bots.

The database stays the source of truth; events are a best-effort live view, so a subscriber
always starts from a snapshot it reads itself. ``LocalEventBus`` serves embedded mode (publishers
may run on another thread's event loop); ``RedisEventBus`` carries events between processes.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

Event = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, channel: str, event: Event) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        """``async with bus.subscribe(ch) as events: async for e in events``"""
        ...

    async def close(self) -> None: ...


def job_channel(job_id: str) -> str:
    return f"job:{job_id}"


class LocalEventBus:
    """In-process fan-out, safe to publish from any thread or event loop."""

    def __init__(self, max_queued: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]]] = {}
        self._max_queued = max_queued

    async def publish(self, channel: str, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for loop, queue in targets:
            loop.call_soon_threadsafe(_offer, queue, event)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_queued)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.setdefault(channel, []).append(entry)
        try:
            yield _drain(queue)
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel, [])
                if entry in subscribers:
                    subscribers.remove(entry)
                if not subscribers:
                    self._subscribers.pop(channel, None)

    async def close(self) -> None:
        with self._lock:
            self._subscribers.clear()


class RedisEventBus:
    """Redis pub/sub; one connection per subscription, closed with it.

    Async Redis connections belong to the event loop that opened them, and one bus serves both
    the API's loop and the workers' loop, so each loop gets its own client.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}
        self._lock = threading.Lock()

    def _redis(self) -> Any:
        from redis.asyncio import Redis  # imported here: embedded mode never needs redis

        loop = asyncio.get_running_loop()
        with self._lock:
            for stale in [other for other in self._clients if other.is_closed()]:
                del self._clients[stale]
            if loop not in self._clients:
                self._clients[loop] = Redis.from_url(self._url)
            return self._clients[loop]

    async def publish(self, channel: str, event: Event) -> None:
        await self._redis().publish(f"nagovori:{channel}", json.dumps(event, default=str))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Event]]:
        pubsub = self._redis().pubsub()
        await pubsub.subscribe(f"nagovori:{channel}")
        try:
            yield _redis_events(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    async def close(self) -> None:
        """Close this loop's client; clients of other loops close with their loops."""
        with self._lock:
            client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    # A subscriber that stopped reading loses old live events, never the publisher's time.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(event)


async def _drain(queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    while True:
        yield await queue.get()


async def _redis_events(pubsub: Any) -> AsyncIterator[Event]:
    async for message in pubsub.listen():
        if message.get("type") == "message":
            yield json.loads(message["data"])


def build_event_bus(redis_url: str) -> EventBus:
    if redis_url:
        return RedisEventBus(redis_url)
    return LocalEventBus()
