"""RATE_LIMIT_PER_MINUTE: per user, per one-minute window, shared by every API process via Redis."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import requests

from core.ratelimit import LocalRateLimiter, RedisRateLimiter, build_rate_limiter
from tests.api_harness import scratch_postgres, server_processes

LIMIT = 30


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_the_local_limiter_counts_per_key_and_window() -> None:
    clock = Clock(1_000_040.0)  # 20 s into a window: 40 s before it ends
    limiter = LocalRateLimiter(2, clock=clock)
    decisions = [await limiter.hit("user:a") for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.remaining for d in decisions] == [1, 0, 0]
    assert decisions[-1].reset_seconds == 40
    assert decisions[-1].headers()["Retry-After"] == "40" and "Retry-After" not in decisions[0].headers()
    assert (await limiter.hit("user:b")).allowed  # another user has a budget of their own
    clock.now += 40
    assert (await limiter.hit("user:a")).allowed  # a new window


async def test_api_processes_share_one_budget_in_redis(redis_url: str) -> None:
    clock = Clock(2_000_010.0)
    first, second = (RedisRateLimiter(redis_url, 3, clock=clock) for _ in range(2))
    try:
        allowed = [(await limiter.hit("user:x")).allowed for limiter in (first, second, first, second)]
        assert allowed == [True, True, True, False]
        clock.now += 60
        assert (await second.hit("user:x")).allowed
    finally:
        await first.close()
        await second.close()


async def test_a_burst_beyond_the_connection_pool_waits_and_counts_exactly(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis_url, 1000, clock=Clock(3_000_010.0))
    try:
        decisions = await asyncio.gather(*(limiter.hit("user:burst") for _ in range(300)))
        assert sorted(d.remaining for d in decisions) == list(range(700, 1000))
    finally:
        await limiter.close()


def test_redis_is_used_when_configured(redis_url: str) -> None:
    assert isinstance(build_rate_limiter("", 5), LocalRateLimiter)
    assert isinstance(build_rate_limiter(redis_url, 5), RedisRateLimiter)


@pytest.mark.slow
def test_the_limit_stays_exact_across_two_api_processes(tmp_path: Path, redis_url: str) -> None:
    with (
        scratch_postgres() as database_url,
        server_processes(
            tmp_path,
            database_url,
            redis_url,
            serve_args=("--workers", "2"),
            rate_limit_per_minute=str(LIMIT),
        ) as server,
    ):
        if time.time() % 60 > 45:  # the burst must not straddle two windows
            time.sleep(60.5 - time.time() % 60)
        auth = {"Authorization": f"Bearer {server.key}"}
        statuses, remaining = [], []
        for _ in range(LIMIT + 10):
            # A new connection each time: the kernel hands them to both processes (reuse_port), so a
            # budget counted per process would let up to twice the limit through.
            with requests.Session() as fresh:
                response = fresh.get(f"{server.base}/v1/me", headers=auth, timeout=10)
            statuses.append(response.status_code)
            remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        assert statuses == [200] * LIMIT + [429] * 10, server.output()
        assert remaining == [*range(LIMIT - 1, -1, -1), *[0] * 10]
