"""The platform's resources, built once by a composition root and passed to every use case.

``Platform`` only holds what was built: the choice of store, broker and event bus is the
composition root's (``cli.bootstrap.build_platform``), never the core's. No globals: the API keeps
a ``Platform`` in its app state, the bots get it injected, the workers take their own copy (with a
database bound to their event loop) around the same broker and event bus.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from dramatiq import Broker

from core.db.database import Database
from core.events import EventBus
from core.jobs.queue import JobQueue
from core.services.auth_cache import AuthCache
from core.services.balance_cache import BalanceCache, announcer
from core.settings import Settings
from core.signing import UrlSigner
from core.storage.base import ObjectStore


@dataclass
class Platform:
    """Settings plus the database, object store, URL signer, job queue and event bus, and the
    process's caches of who credentials belong to and of balances (kept by ``for_this_loop``: one
    per process). Every database it holds announces the balances its commits changed."""

    settings: Settings
    db: Database
    store: ObjectStore
    signer: UrlSigner
    broker: Broker
    queue: JobQueue
    events: EventBus
    auth_cache: AuthCache = field(default_factory=AuthCache)
    balance_cache: BalanceCache = field(default_factory=BalanceCache)

    def __post_init__(self) -> None:
        self.db.on_commit(announcer(self.balance_cache, self.events))

    def for_this_loop(self) -> Platform:
        """The same platform with its own database engine, for another event loop (the workers')."""
        return dataclasses.replace(self, db=Database(self.settings.effective_database_url))

    async def close(self) -> None:
        """Release the database's connections and the store's (those of this event loop)."""
        await self.db.dispose()
        await self.store.aclose()
