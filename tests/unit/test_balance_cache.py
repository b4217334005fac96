"""The balance cache answers only while it can hear invalidations, never stores a balance a
concurrent change overtook, forgets entries after its TTL, and its commit hook forgets and
announces exactly the balances a transaction changed."""

from __future__ import annotations

import asyncio

from billing.ledger import BALANCES_CHANGED
from core.events import LocalEventBus
from core.services.balance_cache import CHANNEL, BalanceCache, announcer


def listening_cache(clock: list[float] | None = None) -> BalanceCache:
    now = clock if clock is not None else [0.0]
    cache = BalanceCache(ttl=5, clock=lambda: now[0])
    cache.listening = True
    return cache


def test_nothing_is_stored_or_answered_while_not_listening() -> None:
    cache = BalanceCache()
    cache.put("u1", 60, cache.generation)
    assert cache.get("u1") is None


def test_a_balance_read_before_a_change_is_not_stored_and_entries_expire() -> None:
    clock = [0.0]
    cache = listening_cache(clock)
    generation = cache.generation  # a request starts reading the balance
    cache.forget(["u2"])  # any balance changes meanwhile
    cache.put("u1", 60, generation)
    assert cache.get("u1") is None
    cache.put("u1", 60, cache.generation)
    assert cache.get("u1") == 60
    clock[0] = 5.0
    assert cache.get("u1") is None


def test_an_announcement_forgets_the_users_it_names_and_a_strange_one_everything() -> None:
    cache = listening_cache()
    for user in ("u1", "u2", "u3"):
        cache.put(user, 60, cache.generation)
    cache.apply({"users": ["u1", "u2"]})
    assert (cache.get("u1"), cache.get("u2"), cache.get("u3")) == (None, None, 60)
    cache.apply({"users": "u3"})
    assert cache.get("u3") is None


async def test_the_commit_hook_forgets_here_and_announces_only_changed_balances() -> None:
    bus = LocalEventBus()
    cache = listening_cache()
    cache.put("u1", 60, cache.generation)
    cache.put("u2", 60, cache.generation)
    hook = announcer(cache, bus)
    async with bus.subscribe(CHANNEL) as feed:
        await hook({})  # a transaction that changed no balance says nothing
        await hook({BALANCES_CHANGED: {"u1"}})
        assert cache.get("u1") is None and cache.get("u2") == 60
        assert await asyncio.wait_for(anext(feed), 1) == {"users": ["u1"]}


async def test_the_cache_trusts_itself_once_its_hello_came_back() -> None:
    bus = LocalEventBus()
    cache = BalanceCache()
    listener = asyncio.create_task(cache.listen(bus))
    try:
        for _ in range(100):
            if cache.listening:
                break
            await asyncio.sleep(0.01)
        assert cache.listening
        cache.put("u1", 60, cache.generation)
        await bus.publish(CHANNEL, {"users": ["u1"]})
        for _ in range(100):
            if cache.get("u1") is None:
                break
            await asyncio.sleep(0.01)
        assert cache.get("u1") is None
    finally:
        listener.cancel()
