"""The Dramatiq broker: in-process (StubBroker) in embedded mode, Redis when ``REDIS_URL`` is set.

Built by the composition roots, never at import time, and never installed as Dramatiq's global
broker: actors are bound to it explicitly (see ``actors``).
"""

from __future__ import annotations

from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    AsyncIO,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

# Long recordings take long; the reconciler, not a time limit, decides when a job is lost.
JOB_TIME_LIMIT_MS = 6 * 60 * 60 * 1000


def build_broker(redis_url: str = "", *, max_retries: int = 3, min_backoff_ms: int = 1000) -> Broker:
    """A broker with the middleware the pipeline relies on (async actors, retries with backoff)."""
    middleware = [
        AgeLimit(),
        TimeLimit(time_limit=JOB_TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=max_retries, min_backoff=min_backoff_ms, max_backoff=60_000),
        AsyncIO(),
    ]
    broker: Broker
    if redis_url:
        # Messages of a worker that dies unacked come back after heartbeat_timeout.
        broker = RedisBroker(
            url=redis_url, middleware=middleware, namespace="nagovori", heartbeat_timeout=30_000
        )
    else:
        broker = StubBroker(middleware=middleware)
    return broker
