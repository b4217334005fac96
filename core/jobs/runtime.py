"""What a worker process needs to run jobs: the platform plus engines, file sources, deliverers.

Engines come in as small provider protocols; the composition root (CLI ``worker``/``serve``)
passes the concrete registries from ``asr``/``tts``, so ``core`` never wires an engine itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dramatiq import Broker, Middleware
from dramatiq.asyncio import get_event_loop_thread

from core.errors import InputChanged
from core.platform import Platform
from core.storage.transfer import fetch_to_file

log = logging.getLogger(__name__)
_HASH_BLOCK = 1024 * 1024

if TYPE_CHECKING:
    from asr.base import AsrEngine
    from core.db.models import Job, TranscriptionJob
    from tts.base import TtsEngine


class AsrProvider(Protocol):
    def get(self, model_id: str | None = None) -> AsrEngine: ...


class TtsProvider(Protocol):
    def get(self, name: str | None = None) -> TtsEngine: ...


class FileSource(Protocol):
    """Brings a job's input file to local disk (an object, or a Telegram file)."""

    async def fetch(self, job: TranscriptionJob, directory: Path) -> Path: ...


class Deliverer(Protocol):
    """Sends a finished job's result to where it came from (a Telegram chat)."""

    async def deliver(self, job: Job) -> None: ...


class ObjectFileSource:
    """Inputs uploaded to the object store: used in place when local, downloaded otherwise.

    Either way the bytes the engine will decode are hashed first and must be the ones the job was
    created (and billed) for — its pinned size and SHA-256 — or the job fails with ``InputChanged``.
    A local file is read once more for that (sequential, from the page cache the decoder then
    uses); a download is hashed as it is written.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def fetch(self, job: TranscriptionJob, directory: Path) -> Path:
        assert job.object_key is not None
        local = self.platform.store.local_path(job.object_key)
        if local is not None:
            size, sha256 = await asyncio.to_thread(_digest, local)
            check_pinned(job, size, sha256)
            return local
        target = directory / Path(job.object_key).name
        got = await fetch_to_file(self.platform.store, job.object_key, target)
        check_pinned(job, got.size, got.sha256)
        return target


def check_pinned(job: TranscriptionJob, size: int, sha256: str) -> None:
    """``InputChanged`` unless ``size``/``sha256`` are the job's pinned ones (jobs created before
    pinning have no SHA-256: their size is still checked)."""
    if (job.size_bytes is not None and size != job.size_bytes) or (
        job.input_sha256 is not None and sha256 != job.input_sha256
    ):
        log.warning("job %s: its input %s changed after the job was created", job.id, job.object_key)
        raise InputChanged(object_key=job.object_key, expected_size=job.size_bytes, actual_size=size)


def _digest(path: Path) -> tuple[int, str]:
    hasher, size = hashlib.sha256(), 0
    with path.open("rb", buffering=0) as fh:
        while block := fh.read(_HASH_BLOCK):
            hasher.update(block)
            size += len(block)
    return size, hasher.hexdigest()


@dataclass
class WorkerRuntime:
    """The worker side's dependencies, one per worker process (engines are loaded once, lazily)."""

    platform: Platform
    asr: AsrProvider
    tts: TtsProvider
    file_sources: dict[str, FileSource] = field(default_factory=dict)  # by job.source; "default" for objects
    deliverers: dict[str, Deliverer] = field(default_factory=dict)  # by job.source
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # run when the runtime closes

    def file_source(self, job: TranscriptionJob) -> FileSource:
        if job.telegram_file_id and "telegram" in self.file_sources:
            return self.file_sources["telegram"]
        return self.file_sources.get("default") or ObjectFileSource(self.platform)


class RuntimeHolder:
    """Builds the worker runtime on first use, inside the worker's own event loop."""

    def __init__(self, factory: _Factory) -> None:
        self._factory = factory
        self._runtime: WorkerRuntime | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> WorkerRuntime:
        if self._runtime is None:
            async with self._lock:
                if self._runtime is None:
                    self._runtime = self._factory()
        return self._runtime

    async def close(self) -> None:
        if self._runtime is not None:
            for close in self._runtime.closers:
                try:
                    await close()
                except Exception:
                    log.warning("a worker resource did not close cleanly", exc_info=True)
            await self._runtime.platform.close()
            self._runtime = None


class CloseRuntimeOnShutdown(Middleware):
    """Dispose of the runtime inside the workers' event loop as the worker shuts down.

    Add it *after* Dramatiq's AsyncIO middleware: ``after_*`` hooks run in reverse order, so this
    one runs while the loop AsyncIO stops in its own hook is still alive.
    """

    def __init__(self, holder: RuntimeHolder) -> None:
        self.holder = holder

    def after_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is None:
            return
        try:
            loop_thread.run_coroutine(self.holder.close())
        except Exception:  # shutting down: the connections die with the process anyway
            log.warning("could not close the worker runtime cleanly", exc_info=True)


class _Factory(Protocol):
    def __call__(self) -> WorkerRuntime: ...
