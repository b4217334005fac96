"""Who a credential belongs to, cached per process so that authenticating costs no database trip.

Two maps: an API key's SHA-256 → (user id, key id, revoked), and a user id → the ``User`` row
(which JWT subjects and keys both resolve to). Entries live ``ttl`` seconds at most, but that is
only the backstop: every change that could make an entry wrong is announced on the event bus
(``CHANNEL``; in-process when embedded, Redis pub/sub across processes) and each API process drops
the entry as the announcement arrives:

* a key revoked → ``{"key": hash}``;
* a user changed (preferences, admin or not) or deleted → ``{"user": id}`` (the user's keys too).

The cache trusts only what it can hear being invalidated: until its process's subscription has
delivered a hello of its own (``listen``), and while Redis is unreachable, it answers nothing and
stores nothing, and it forgets everything when it (re)subscribes. An entry read from the database is stored only if
no invalidation arrived since the read began (``generation``), so a revocation racing a request's
look-up cannot leave the stale answer behind. Balances are cached the same way, by
``core.services.balance_cache`` (the scheme is ``FollowedCache`` below).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.db.models import User
from core.events import Event, EventBus

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger(__name__)

CHANNEL = "auth"
TTL_SECONDS = 30.0
MAX_ENTRIES = 50_000  # per map; past it the map starts afresh (a cache, not a store)
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class CachedKey:
    """What an API key's hash resolved to."""

    user_id: str
    key_id: str
    revoked: bool


class FollowedCache:
    """A cache trusted only while it follows its invalidations on the event bus ``channel``.

    Until its subscription has delivered a hello of its own, and from the moment the subscription
    fails, it answers nothing and stores nothing (subclasses check ``listening``), and it forgets
    everything whenever it starts or stops following. ``generation`` changes with every
    invalidation: an answer read from the database is stored only if it has not changed since the
    read began. Subclasses say what an event drops (``apply``) and how to forget everything
    (``_drop_all``)."""

    channel = ""

    def __init__(self) -> None:
        self.generation = 0
        self.listening = False

    def clear(self) -> None:
        self.generation += 1
        self._drop_all()

    def apply(self, event: Event) -> None:
        raise NotImplementedError

    def _drop_all(self) -> None:
        raise NotImplementedError

    async def listen(self, events: EventBus) -> None:
        """Follow ``channel`` until cancelled, resubscribing (and starting afresh) after a failure."""
        while True:
            try:
                async with events.subscribe(self.channel) as feed:
                    await self._follow(events, feed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("%s cache: lost the event bus (%s); reading the database", self.channel, exc)
            finally:
                self._set_listening(False)
            await asyncio.sleep(RETRY_SECONDS)

    async def _follow(self, events: EventBus, feed: AsyncIterator[Event]) -> None:
        # Trusted only once the subscription provably delivers: our own hello has come back (a
        # Redis SUBSCRIBE is sent, not confirmed, when ``subscribe`` returns).
        hello: Event = {"hello": uuid.uuid4().hex}
        greeter = asyncio.create_task(_greet(events, self.channel, hello))
        try:
            async for event in feed:
                if event == hello:
                    greeter.cancel()
                    if not self.listening:
                        self._set_listening(True)
                elif "hello" not in event:  # other processes' hellos change nothing
                    self.apply(event)
        finally:
            greeter.cancel()

    def _set_listening(self, listening: bool) -> None:
        self.listening = listening
        self.clear()


class AuthCache(FollowedCache):
    """The per-process maps; see the module docstring for when they are trusted."""

    channel = CHANNEL

    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._ttl = ttl
        self._clock = clock
        self._keys: dict[str, tuple[float, CachedKey]] = {}
        self._users: dict[str, tuple[float, User]] = {}
        self._last_used: dict[str, datetime] = {}  # key id → last_used_at as this process knows it

    def key(self, digest: str) -> CachedKey | None:
        return self._get(self._keys, digest)

    def user(self, user_id: str) -> User | None:
        return self._get(self._users, user_id)

    def put_key(self, digest: str, entry: CachedKey, generation: int) -> None:
        self._put(self._keys, digest, entry, generation)

    def put_user(self, user: User, generation: int) -> None:
        self._put(self._users, user.id, user, generation)

    def forget_key(self, digest: str) -> None:
        self.generation += 1
        self._keys.pop(digest, None)

    def forget_user(self, user_id: str) -> None:
        self.generation += 1
        self._users.pop(user_id, None)
        for digest in [d for d, (_, entry) in list(self._keys.items()) if entry.user_id == user_id]:
            self._keys.pop(digest, None)

    def touched(self, key_id: str, at: datetime) -> None:
        if len(self._last_used) >= MAX_ENTRIES:
            self._last_used.clear()
        known = self._last_used.get(key_id)
        if known is None or at > known:
            self._last_used[key_id] = at

    def touch_due(self, key_id: str, now: datetime, every_seconds: float) -> bool:
        """Whether ``last_used_at`` of this key is worth writing again."""
        known = self._last_used.get(key_id)
        return known is None or (now - known).total_seconds() >= every_seconds

    def _drop_all(self) -> None:
        self._keys.clear()
        self._users.clear()

    def apply(self, event: Event) -> None:
        """Drop what an announcement on ``CHANNEL`` names (anything unrecognised: everything)."""
        if isinstance(event.get("key"), str):
            self.forget_key(event["key"])
        elif isinstance(event.get("user"), str):
            self.forget_user(event["user"])
        else:
            self.clear()

    def _get(self, entries: dict[str, tuple[float, Any]], name: str) -> Any:
        if not self.listening:
            return None
        found = entries.get(name)
        if found is None:
            return None
        if found[0] <= self._clock():
            entries.pop(name, None)
            return None
        return found[1]

    def _put(self, entries: dict[str, tuple[float, Any]], name: str, value: Any, generation: int) -> None:
        if not self.listening or generation != self.generation:
            return
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[name] = (self._clock() + self._ttl, value)


async def _greet(events: EventBus, channel: str, hello: Event) -> None:
    while True:
        try:
            await events.publish(channel, hello)
        except Exception as exc:
            log.warning("%s cache: could not reach the event bus (%s)", channel, exc)
        await asyncio.sleep(RETRY_SECONDS)


async def user_by_id(platform: Platform, user_id: str) -> User | None:
    """The user with this id (from the cache when it can answer), or None when there is none."""
    cache = platform.auth_cache
    user = cache.user(user_id)
    if user is not None:
        return user
    generation = cache.generation
    async with platform.db.read() as session:
        user = await session.get(User, user_id)
    if user is not None:
        cache.put_user(user, generation)
    return user


async def announce_key_revoked(platform: Platform, digest: str) -> None:
    """Drop a revoked key here at once, and in every other process as the event arrives."""
    await _announce(platform, {"key": digest}, lambda: platform.auth_cache.forget_key(digest))


async def announce_user_changed(platform: Platform, user_id: str) -> None:
    """Drop a changed or deleted user (and their keys) here at once, and everywhere else."""
    await _announce(platform, {"user": user_id}, lambda: platform.auth_cache.forget_user(user_id))


async def _announce(platform: Platform, event: Event, forget_here: Callable[[], None]) -> None:
    forget_here()
    # The change is committed either way; if the bus cannot carry the news, the other processes'
    # subscriptions are most likely down too (and then they do not use their caches), and the TTL
    # bounds the rest.
    try:
        await platform.events.publish(CHANNEL, event)
    except Exception as exc:
        log.warning("auth cache: could not announce %s (%s)", event, exc)
