"""The platform's resources, built once by a composition root and passed to every use case.

No globals: the API keeps a ``Platform`` in its app state, the bots get it injected, the workers
build their own (with a database bound to their event loop) around the same broker and event bus.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dramatiq import Broker

from core.db.database import Database
from core.events import EventBus, build_event_bus
from core.jobs.broker import build_broker
from core.jobs.queue import JobQueue
from core.settings import Settings
from core.signing import UrlSigner
from core.storage.base import ObjectStore
from core.storage.local import LocalObjectStore


@dataclass
class Platform:
    """Settings plus the database, object store, URL signer, job queue and event bus."""

    settings: Settings
    db: Database
    store: ObjectStore
    signer: UrlSigner
    broker: Broker
    queue: JobQueue
    events: EventBus

    @classmethod
    def build(
        cls, settings: Settings, *, broker: Broker | None = None, events: EventBus | None = None
    ) -> Platform:
        """Wire the resources the settings describe (connections open lazily, on first use)."""
        broker = broker or build_broker(settings.redis_url, max_retries=settings.job_max_attempts)
        return cls(
            settings=settings,
            db=Database(settings.effective_database_url),
            store=LocalObjectStore(settings.objects_dir),
            signer=UrlSigner(settings.secret_key.get_secret_value()),
            broker=broker,
            queue=JobQueue(broker),
            events=events or build_event_bus(settings.redis_url),
        )

    def for_this_loop(self) -> Platform:
        """The same platform with its own database engine, for another event loop (the workers')."""
        return dataclasses.replace(self, db=Database(self.settings.effective_database_url))

    async def close(self) -> None:
        await self.db.dispose()
