"""Per-user request limits: ``RATE_LIMIT_PER_MINUTE`` in fixed one-minute windows.

``LocalRateLimiter`` counts in this process (embedded mode); ``RedisRateLimiter`` counts in Redis so
that every API process of a distributed deployment shares one budget per user. Both answer with a
``RateDecision`` the API turns into ``X-RateLimit-*`` headers, and into a 429 with ``Retry-After``
when the budget is spent. Fixed windows are coarse (a burst may straddle two windows) but need one
atomic increment per request and are what the announcement promises: "60 requests per minute".
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

WINDOW_SECONDS = 60
REDIS_CONNECTIONS = 32  # per process: requests beyond wait their turn for a connection ...
REDIS_WAIT_SECONDS = 5.0  # ... this long at most (then the request fails like any Redis outage)


@dataclass(frozen=True)
class RateDecision:
    """The outcome of counting one request."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the window ends and the budget is full again

    def headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers (and ``Retry-After`` when refused)."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimiter(Protocol):
    async def hit(self, key: str) -> RateDecision:
        """Count one request for ``key`` and say whether it is within the limit."""
        ...

    async def close(self) -> None: ...


def _window(now: float) -> tuple[int, int]:
    """(window number, seconds until it ends — at least 1)."""
    window = int(now // WINDOW_SECONDS)
    reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return window, reset


def _decide(count: int, limit: int, reset: int) -> RateDecision:
    return RateDecision(count <= limit, limit, max(0, limit - count), reset)


class LocalRateLimiter:
    """Counters in this process's memory; old windows are dropped as new ones start."""

    def __init__(self, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key: str) -> RateDecision:
        window, reset = _window(self._clock())
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        return _decide(count, self.limit, reset)

    async def close(self) -> None:
        return None


class RedisRateLimiter:
    """One counter per user and window in Redis (``INCR`` + ``EXPIRE`` in one round trip).

    The connections come from a blocking pool: under a burst of concurrent requests a request
    waits for a free connection instead of failing (redis-py's default pool raises "Too many
    connections" past 100, which answered 500s at 200 concurrent clients)."""

    def __init__(self, url: str, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        from redis.asyncio import BlockingConnectionPool, Redis  # embedded mode never needs redis

        self.limit = limit
        self._clock = clock
        pool = BlockingConnectionPool.from_url(
            url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS
        )
        self._redis: Any = Redis.from_pool(pool)

    async def hit(self, key: str) -> RateDecision:
        window, reset = _window(self._clock())
        name = f"nagovori:ratelimit:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_SECONDS + 5)
            count, _ = await pipe.execute()
        return _decide(int(count), self.limit, reset)

    async def close(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(redis_url: str, limit: int) -> RateLimiter:
    """Redis-backed when Redis is configured, in-process otherwise."""
    if redis_url:
        return RedisRateLimiter(redis_url, limit)
    return LocalRateLimiter(limit)
