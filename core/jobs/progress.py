"""Progress from an engine thread to the world: job heartbeats, the progress column, live events.

Engines run in a thread (they are CPU-bound); their callbacks hop onto the worker's event loop.
The heartbeat also carries the answer to "is this job still ours?": when a user cancels or
another worker took over, the next callback raises ``JobAbandoned`` inside the engine thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from core.db.database import Database
from core.events import EventBus, job_channel
from core.jobs import lifecycle
from core.jobs.background import running_beside
from core.jobs.lifecycle import Claim

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0


class JobAbandoned(Exception):
    """The job was cancelled or taken over while this worker ran it."""


class ProgressReporter:
    """Thread-safe sink for an engine's progress; one per running job."""

    def __init__(self, db: Database, events: EventBus, claim: Claim, loop: asyncio.AbstractEventLoop) -> None:
        self._db = db
        self._events = events
        self._claim = claim
        self._loop = loop
        self._abandoned = threading.Event()
        self.progress = 0.0

    def check(self) -> None:
        """Raise JobAbandoned in the engine thread once the job is no longer ours."""
        if self._abandoned.is_set():
            raise JobAbandoned(self._claim.job_id)

    def report(self, fraction: float, event: dict[str, Any] | None = None) -> None:
        """Called from the engine thread: remember progress, publish ``event`` (e.g. a token)."""
        self.check()
        self.progress = max(self.progress, min(1.0, fraction))
        if event is not None:
            asyncio.run_coroutine_threadsafe(self.publish(event), self._loop)
        asyncio.run_coroutine_threadsafe(
            self.publish({"type": "progress", "progress": round(self.progress, 4)}), self._loop
        )

    async def publish(self, event: dict[str, Any]) -> None:
        try:
            await self._events.publish(
                job_channel(self._claim.job_id), {"job_id": self._claim.job_id, **event}
            )
        except Exception:  # live events are best effort; the database has the truth
            log.warning("could not publish an event for job %s", self._claim.job_id, exc_info=True)

    @contextlib.asynccontextmanager
    async def heartbeats(self) -> AsyncIterator[None]:
        """Beat while the block runs; a lost job flips the abandoned flag for the engine thread."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                try:
                    still_ours = await lifecycle.heartbeat(self._db, self._claim, progress=self.progress)
                except Exception:
                    log.warning("heartbeat failed for job %s", self._claim.job_id, exc_info=True)
                    continue
                if not still_ours:
                    self._abandoned.set()
                    return

        async with running_beside(beat()):
            yield
