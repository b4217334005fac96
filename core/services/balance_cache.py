"""Balances cached per process, so that ``GET /v1/me`` costs no database trip when warm.

A balance changes only through the ledger (``billing.ledger``), and every ledger function that
changes ``account_balances`` notes the account in its session (``ledger.balances_changed``). When
a write session commits, the database runs its commit hooks (``Database.on_commit``); the one each
``Platform`` installs (``announcer``) drops those balances from this process's cache at once and
announces them on ``CHANNEL`` (in-process when embedded, Redis pub/sub across processes), and every
API process drops them as the announcement arrives. Nothing that commits a ledger change can forget
to announce it: the ledger records, the database announces, no caller is involved. Announcing
after the commit (not before, not from inside the transaction) means a process that hears the news
and reads again sees the new balance; a rolled-back change announces nothing.

The cache follows the auth cache's trust scheme (``auth_cache.FollowedCache``): it answers only
while its own hello has come back through its subscription, a balance read from the database is
stored only if no announcement arrived since the read began (``generation``), and entries live
``TTL_SECONDS`` at most. The TTL is the backstop for writers outside any platform process (the
``minutes grant`` shell command, which builds no event bus; a hand-made SQL update): their changes
show within ``TTL_SECONDS``.

The embedded worker commits ledger changes on its own thread and event loop into the same cache,
so storing and forgetting take a lock: a forget can never slip between an insert's generation
check and its store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from billing import ledger
from core.events import Event, EventBus
from core.services.auth_cache import FollowedCache

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger(__name__)

CHANNEL = "balances"
TTL_SECONDS = 5.0
MAX_ENTRIES = 100_000  # past it the map starts afresh (a cache, not a store)

CommitHook = Callable[[Mapping[str, Any]], Awaitable[None]]


class BalanceCache(FollowedCache):
    """User id → seconds the account can spend now; see the module docstring for when it is trusted."""

    channel = CHANNEL

    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._balances: dict[str, tuple[float, int]] = {}

    def get(self, user_id: str) -> int | None:
        if not self.listening:
            return None
        found = self._balances.get(user_id)
        if found is None:
            return None
        if found[0] <= self._clock():
            self._balances.pop(user_id, None)
            return None
        return found[1]

    def put(self, user_id: str, seconds: int, generation: int) -> None:
        with self._lock:
            if not self.listening or generation != self.generation:
                return
            if len(self._balances) >= MAX_ENTRIES:
                self._balances.clear()
            self._balances[user_id] = (self._clock() + self._ttl, seconds)

    def forget(self, user_ids: Iterable[str]) -> None:
        with self._lock:
            self.generation += 1
            for user_id in user_ids:
                self._balances.pop(user_id, None)

    def clear(self) -> None:
        with self._lock:
            super().clear()

    def apply(self, event: Event) -> None:
        """Drop the balances an announcement names (anything unrecognised: all of them)."""
        users = event.get("users")
        if isinstance(users, list) and all(isinstance(user, str) for user in users):
            self.forget(users)
        else:
            self.clear()

    def _drop_all(self) -> None:
        self._balances.clear()


def announcer(cache: BalanceCache, events: EventBus) -> CommitHook:
    """The commit hook that forgets the balances a committed transaction changed, here and everywhere."""

    async def announce(committed: Mapping[str, Any]) -> None:
        users = ledger.balances_changed(committed)
        if not users:
            return
        cache.forget(users)
        # The change is committed either way; if the bus cannot carry the news, the other processes'
        # subscriptions are most likely down too (and then they do not use their caches), and the
        # TTL bounds the rest.
        try:
            await events.publish(CHANNEL, {"users": sorted(users)})
        except Exception as exc:
            log.warning("balance cache: could not announce %s (%s)", sorted(users), exc)

    return announce


async def balance_seconds(platform: Platform, user_id: str) -> int:
    """Seconds the account can spend now: from the cache when it can answer, else one primary-key
    read outside any transaction (stored unless a change was announced meanwhile)."""
    cache = platform.balance_cache
    seconds = cache.get(user_id)
    if seconds is not None:
        return seconds
    generation = cache.generation
    async with platform.db.lookup() as session:
        seconds = await ledger.balance(session, user_id)
    cache.put(user_id, seconds, generation)
    return seconds
