"""The composition root: concrete engines, the worker runtime and embedded workers.

Only this module (and the commands that call it) knows which engine registries, stores and
brokers exist; ``core`` sees them through its small provider protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

from asr.registry import AsrConfig, AsrEngines
from dramatiq import Worker
from tts.registry import TtsConfig, TtsEngines

from core.jobs.actors import declare_actors
from core.jobs.broker import QUEUES
from core.jobs.reconciler import run_reconciler
from core.jobs.runtime import RuntimeHolder, WorkerRuntime
from core.platform import Platform
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Engines:
    """One registry per kind, per process: models load lazily, once."""

    asr: AsrEngines
    tts: TtsEngines

    @classmethod
    def from_settings(cls, settings: Settings) -> Engines:
        models_dir = settings.effective_models_dir
        return cls(
            asr=AsrEngines(
                AsrConfig(
                    models_dir=models_dir,
                    default_engine=settings.asr_engine,
                    whisper_model=settings.whisper_model,
                    whisper_threads=settings.whisper_threads,
                    vosk_model=settings.vosk_model,
                )
            ),
            tts=TtsEngines(
                TtsConfig(
                    models_dir=models_dir,
                    default_engine=settings.tts_engine,
                    silero_model=settings.silero_model,
                )
            ),
        )

    def status(self) -> list[dict[str, Any]]:
        """Every model of every engine: present locally, ready to use."""
        return [asdict(m) | {"kind": "asr"} for m in self.asr.models()] + [
            asdict(m) | {"kind": "tts"} for m in self.tts.models()
        ]


def runtime_holder(platform: Platform, engines: Engines) -> RuntimeHolder:
    """The worker runtime, built inside the workers' own event loop on first use."""
    return RuntimeHolder(lambda: WorkerRuntime(platform.for_this_loop(), engines.asr, engines.tts))


@contextlib.asynccontextmanager
async def running_workers(
    platform: Platform,
    engines: Engines,
    *,
    queues: tuple[str, ...] = QUEUES,
    threads: int | None = None,
    consume: bool = True,
    reconcile: bool = True,
) -> AsyncIterator[RuntimeHolder]:
    """Declare the actors; with ``consume``, run Dramatiq worker threads and the reconciler
    until the block ends, then stop them cleanly."""
    holder = runtime_holder(platform, engines)
    declare_actors(platform.broker, holder, max_retries=platform.settings.job_max_attempts)
    worker = None
    if consume:
        worker = Worker(
            platform.broker, queues=set(queues), worker_threads=threads or platform.settings.worker_threads
        )
        worker.start()
    stop = asyncio.Event()
    reconciler = asyncio.create_task(run_reconciler(platform, stop)) if reconcile else None
    try:
        yield holder
    finally:
        stop.set()
        if reconciler is not None:
            await reconciler
        if worker is not None:
            await asyncio.to_thread(worker.stop, 10_000)
        await _close_holder(holder)


async def _close_holder(holder: RuntimeHolder) -> None:
    try:
        await holder.close()
    except Exception:  # the workers' loop may be gone already; its connections die with it
        log.debug("worker runtime close failed", exc_info=True)
