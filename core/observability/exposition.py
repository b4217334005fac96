"""The ``/metrics`` answer: this process's (or, under a supervisor, this machine's) metrics plus
the queue gauges measured at scrape time.

Without ``PROMETHEUS_MULTIPROC_DIR`` the process's own registry is read (with the process and GC
collectors prometheus-client adds). With it — set by ``nagovori serve --workers N`` for its API
processes, which share one port so any of them may answer a scrape — the registry is rebuilt per
scrape from every process's files (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from core.observability import queue_gauges
from core.platform import Platform

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST


async def render(platform: Platform) -> bytes:
    """The exposition text (Prometheus text format 0.0.4)."""
    snapshot = await queue_gauges.measure(platform.db)
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(queue_gauges.SnapshotCollector(snapshot))
    return generate_latest(_process_registry()) + generate_latest(scraped)


def _process_registry() -> CollectorRegistry:
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry)
    return registry
