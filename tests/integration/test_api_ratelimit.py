"""RATE_LIMIT_PER_MINUTE: per user, per one-minute window, shared by every API process via Redis."""

from __future__ import annotations

from core.ratelimit import LocalRateLimiter, RedisRateLimiter, build_rate_limiter


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


def test_redis_is_used_when_configured(redis_url: str) -> None:
    assert isinstance(build_rate_limiter("", 5), LocalRateLimiter)
    assert isinstance(build_rate_limiter(redis_url, 5), RedisRateLimiter)
