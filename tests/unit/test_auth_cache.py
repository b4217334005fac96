"""The authentication cache answers only while it can hear invalidations, never stores an answer a
concurrent invalidation overtook, and forgets entries after its TTL."""

from __future__ import annotations

import asyncio

from core.db.models import User
from core.events import LocalEventBus
from core.services.auth_cache import CHANNEL, AuthCache, CachedKey

KEY = CachedKey(user_id="u1", key_id="k1", revoked=False)


def listening_cache(clock: list[float] | None = None) -> AuthCache:
    now = clock if clock is not None else [0.0]
    cache = AuthCache(ttl=30, clock=lambda: now[0])
    cache.listening = True
    return cache


def test_nothing_is_stored_or_answered_while_not_listening() -> None:
    cache = AuthCache()
    cache.put_key("h", KEY, cache.generation)
    assert cache.key("h") is None


def test_an_answer_read_before_an_invalidation_is_not_stored() -> None:
    cache = listening_cache()
    generation = cache.generation  # a request starts reading the database
    cache.forget_key("h")  # the key is revoked meanwhile
    cache.put_key("h", KEY, generation)
    assert cache.key("h") is None


def test_forgetting_a_user_forgets_their_keys_and_entries_expire() -> None:
    clock = [0.0]
    cache = listening_cache(clock)
    cache.put_key("h", KEY, cache.generation)
    cache.put_user(User(id="u1", is_admin=True), cache.generation)
    cache.forget_user("u1")
    assert cache.key("h") is None and cache.user("u1") is None
    cache.put_key("h", KEY, cache.generation)
    clock[0] = 31
    assert cache.key("h") is None


async def test_announcements_on_the_bus_reach_a_listening_cache() -> None:
    bus = LocalEventBus()
    cache = AuthCache()
    listener = asyncio.create_task(cache.listen(bus))
    for _ in range(100):  # the listener subscribes, then trusts itself once its hello comes back
        if cache.listening:
            break
        await asyncio.sleep(0)
    assert cache.listening
    cache.put_key("h", KEY, cache.generation)
    await bus.publish(CHANNEL, {"key": "h"})
    for _ in range(10):
        await asyncio.sleep(0)
    assert cache.key("h") is None
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    assert not cache.listening
