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

from dramatiq import Worker
from dramatiq.middleware import AsyncIO

from asr.isolated import GIL_BOUND, IsolatedAsrEngines
from asr.registry import AsrEngines
from cli.engine_config import asr_config, tts_config
from core.jobs.actors import declare_actors
from core.jobs.reconciler import run_reconciler
from core.jobs.runtime import CloseRuntimeOnShutdown, RuntimeHolder, WorkerRuntime
from core.jobs.states import QUEUES
from core.platform import Platform
from core.settings import Settings
from tts.registry import TtsEngines

log = logging.getLogger(__name__)

WORKER_POLL_MS = 100
# Read here until Settings has the fields.


@dataclass
class Engines:
    """One registry per kind, per process: models load lazily, once."""

    asr: AsrEngines
    tts: TtsEngines

    @classmethod
    def from_settings(cls, settings: Settings) -> Engines:
        processes = engine_processes(settings)
        asr = (
            IsolatedAsrEngines(asr_config(settings), processes=processes, isolate=isolated_engines(settings))
            if processes
            else AsrEngines(asr_config(settings))
        )
        return cls(asr=asr, tts=TtsEngines(tts_config(settings)))

    def close(self) -> None:
        """Stop the engine processes, if any (after the workers have stopped)."""
        if isinstance(self.asr, IsolatedAsrEngines):
            self.asr.close()

    def status(self) -> list[dict[str, Any]]:
        """Every model of every engine: present locally, ready to use."""
        return [asdict(m) | {"kind": "asr"} for m in self.asr.models()] + [
            asdict(m) | {"kind": "tts"} for m in self.tts.models()
        ]


def engine_processes(settings: Settings) -> int:
    """How many engine processes run the engines that hold the GIL (0: they run in this process).

    ``NAGOVORI_ENGINE_PROCESSES``: a number, or ``auto`` (the default) — one per worker thread in
    embedded mode, where the API shares the interpreter, and none in a ``nagovori worker``.
    """
    if settings.engine_processes == "auto":
        return settings.worker_threads if settings.embedded else 0
    return int(settings.engine_processes)  # the setting's pattern admits only "auto" or digits


def isolated_engines(settings: Settings) -> tuple[str, ...]:
    """``NAGOVORI_ISOLATED_ENGINES``: the engines that run in the engine processes (comma-separated;
    default: those that hold the GIL while decoding)."""
    names = tuple(name.strip() for name in settings.isolated_engines.split(",") if name.strip())
    return names or GIL_BOUND


def runtime_holder(platform: Platform, engines: Engines) -> RuntimeHolder:
    """The worker runtime, built inside the workers' own event loop on first use."""

    def build() -> WorkerRuntime:
        worker_platform = platform.for_this_loop()
        runtime = WorkerRuntime(worker_platform, engines.asr, engines.tts)
        if platform.settings.telegram_token.get_secret_value():
            from bots.wiring import (
                SharedMessenger,
                messenger_factory,
                telegram_deliverer,
                telegram_file_source,
            )

            messenger = SharedMessenger(messenger_factory(worker_platform.settings))
            runtime.file_sources["telegram"] = telegram_file_source(worker_platform, messenger.open)
            runtime.deliverers["telegram"] = telegram_deliverer(worker_platform, messenger.open)
            runtime.closers.append(messenger.aclose)
        return runtime

    return RuntimeHolder(build)


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
    until the block ends, then stop them cleanly, and then the engine processes."""
    holder = runtime_holder(platform, engines)
    declare_actors(platform.broker, holder, max_retries=platform.settings.job_max_attempts)
    platform.broker.add_middleware(CloseRuntimeOnShutdown(holder), after=AsyncIO)
    worker = None
    if consume:
        worker = Worker(
            platform.broker,
            queues=set(queues),
            worker_threads=threads or platform.settings.worker_threads,
            # An idle Redis consumer otherwise polls once a second: a new job could wait that long.
            worker_timeout=WORKER_POLL_MS,
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
            # Running jobs get the timeout to finish; one cut short is re-queued by the reconciler.
            await asyncio.to_thread(worker.stop, 10_000)
        await asyncio.to_thread(engines.close)
