"""Live job events: in-process across event loops, and across processes through Redis."""

from __future__ import annotations

import asyncio
import threading

from core.events import EventBus, LocalEventBus, RedisEventBus, job_channel


async def _collect(bus: EventBus, channel: str, count: int, ready: asyncio.Event) -> list[dict[str, object]]:
    received: list[dict[str, object]] = []
    async with bus.subscribe(channel) as events:
        ready.set()
        async for event in events:
            received.append(event)
            if len(received) == count:
                break
    return received


async def test_local_bus_delivers_from_another_threads_loop() -> None:
    bus = LocalEventBus()
    ready = asyncio.Event()
    collector = asyncio.create_task(_collect(bus, job_channel("j1"), 3, ready))
    await ready.wait()

    def publish_from_worker_loop() -> None:
        async def publish() -> None:
            for i in range(3):
                await bus.publish(job_channel("j1"), {"type": "token", "text": f"w{i}"})
            await bus.publish(job_channel("other"), {"type": "token", "text": "not for us"})

        asyncio.run(publish())

    thread = threading.Thread(target=publish_from_worker_loop)
    thread.start()
    received = await asyncio.wait_for(collector, 5)
    thread.join()
    assert [e["text"] for e in received] == ["w0", "w1", "w2"]


async def test_local_bus_forgets_subscribers_that_left() -> None:
    bus = LocalEventBus()
    async with bus.subscribe("c"):
        pass
    await bus.publish("c", {"type": "x"})  # nobody listens: nothing queued, nothing raised
    assert not bus._subscribers


async def test_redis_bus_carries_events_between_connections(redis_url: str) -> None:
    publisher, subscriber = RedisEventBus(redis_url), RedisEventBus(redis_url)
    try:
        ready = asyncio.Event()
        collector = asyncio.create_task(_collect(subscriber, job_channel("j2"), 2, ready))
        await ready.wait()
        await publisher.publish(job_channel("j2"), {"type": "progress", "progress": 0.5})
        await publisher.publish(job_channel("j2"), {"type": "done"})
        received = await asyncio.wait_for(collector, 5)
    finally:
        await publisher.close()
        await subscriber.close()
    assert received == [{"type": "progress", "progress": 0.5}, {"type": "done"}]
