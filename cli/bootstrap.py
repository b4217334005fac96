"""Building the platform: the one place that picks the object store, the broker and the event bus.

    platform = build_platform(settings)   # every command, the test harnesses, the benchmarks

``core.platform.Platform`` is only the container of what is built here; ``core`` never chooses a
concrete store, broker or bus. Nothing connects yet: connections open on first use.
"""

from __future__ import annotations

from dramatiq import Broker

from core.db.database import Database
from core.events import EventBus, build_event_bus
from core.jobs.broker import build_broker
from core.jobs.queue import JobQueue
from core.observability.job_metrics import watch_database
from core.platform import Platform
from core.settings import Settings
from core.signing import UrlSigner
from core.storage.factory import build_store


def build_platform(
    settings: Settings, *, broker: Broker | None = None, events: EventBus | None = None
) -> Platform:
    """The resources ``settings`` describe: Redis or in-process broker and event bus (by
    ``REDIS_URL``), the object store (by ``S3_ENDPOINT``), the URL signer and the database."""
    broker = broker or build_broker(settings.redis_url, max_retries=settings.job_max_attempts)
    watch_database()  # jobs and ledger movements become metrics as they commit (once per process)
    return Platform(
        settings=settings,
        db=Database(settings.effective_database_url),
        store=build_store(settings),
        signer=UrlSigner(settings.secret_key.get_secret_value()),
        broker=broker,
        queue=JobQueue(broker),
        events=events or build_event_bus(settings.redis_url),
    )
