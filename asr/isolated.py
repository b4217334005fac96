"""Engines in processes of their own, so that one holding the GIL never stalls the caller's.

PocketSphinx decodes an utterance in one C call that keeps the GIL: in a process that also
serves HTTP, every request waited for it (23 s on continuous speech). ``IsolatedAsrEngines`` has
``AsrEngines``' surface; for the engines it is told to isolate, ``get`` returns a proxy whose
``transcribe`` checks out one of ``processes`` engine processes, streams the audio to it over a
pipe and yields its segments lazily. Each process loads its models once, lazily.

A job stops promptly: while waiting for the process, the proxy calls the check that
``stop_when`` installed (it raises to stop; e.g. "this job was cancelled"), and closing the
segment iterator early does the same. The busy process is killed and replaced — a decoder stuck
in one long C call cannot be interrupted any other way. A process that dies raises EngineFailure
and is replaced; errors raised by an engine arrive as the same ``asr.errors`` type and message.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from asr.base import AsrEngine, Segment, TranscriptionInfo, TranscriptionOptions
from asr.errors import EngineFailure
from asr.isolated_child import rebuild_error, serve
from asr.registry import AsrConfig, AsrEngines

log = logging.getLogger(__name__)

GIL_BOUND: tuple[str, ...] = ("pocketsphinx",)
"""Engines that keep the GIL while they decode (measured; see docs/operations.md)."""

POLL_SECONDS = 0.1  # how often a waiting job looks at its stop check and its process

_stop_check: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "asr_stop_check", default=None
)


@contextlib.contextmanager
def stop_when(check: Callable[[], None]) -> Iterator[None]:
    """Within the block (and threads started with its context, as ``asyncio.to_thread`` does),
    isolated engines call ``check()`` while they wait; whatever it raises stops the job."""
    token = _stop_check.set(check)
    try:
        yield
    finally:
        _stop_check.reset(token)


class IsolatedAsrEngines(AsrEngines):
    """``AsrEngines`` whose ``isolate``d engines run in a pool of engine processes."""

    def __init__(self, config: AsrConfig, *, processes: int, isolate: tuple[str, ...] = GIL_BOUND) -> None:
        super().__init__(config)
        self.isolate = isolate
        self.pool = EnginePool(config, processes)
        self._proxies: dict[str, _IsolatedEngine] = {}

    def get(self, model_id: str | None = None) -> AsrEngine:
        """In-process engines as ``AsrEngines`` gives them; isolated ones after a process loaded
        the model (so a missing model fails here, with the engine's own message)."""
        source = self.resolve(model_id)
        if source.engine not in self.isolate:
            return super().get(model_id)
        proxy = self._proxies.get(source.model_id)
        if proxy is None:
            with self.pool.checkout() as worker:
                worker.load(model_id)
            proxy = self._proxies.setdefault(
                source.model_id, _IsolatedEngine(self.pool, model_id, source.engine, source.model_id)
            )
        return proxy

    def loaded(self) -> list[str]:
        return sorted({*super().loaded(), *self._proxies})

    def close(self) -> None:
        """Stop the engine processes (running jobs are cut off)."""
        self.pool.close()


class EnginePool:
    """Up to ``size`` engine processes, started on first use and replaced when they die."""

    def __init__(self, config: AsrConfig, size: int) -> None:
        if size < 1:
            raise ValueError("an engine pool needs at least one process")
        self.config = config
        self.size = size
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(size):
            self._idle.put(None)  # a free slot: a process is started when it is first needed
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def checkout(self) -> Iterator[_Worker]:
        """A process of one's own for the block; a broken one is replaced on the way back."""
        if self._closed:
            raise EngineFailure("The engine processes have been shut down.")
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive():
                if worker is not None:
                    worker.stop()
                worker = self._start()
            yield worker
        finally:
            if worker is not None and (self._closed or worker.broken or not worker.alive()):
                worker.stop()
                with self._lock:
                    self._all.discard(worker)
                worker = None
            self._idle.put(worker)

    def pids(self) -> list[int]:
        """Process ids of the engine processes running now."""
        with self._lock:
            return [w.pid for w in self._all if w.alive()]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop()

    def _start(self) -> _Worker:
        worker = _Worker(self.config)
        with self._lock:
            self._all.add(worker)
        return worker


class _Worker:
    """One engine process and its two pipes (commands and audio in, results out)."""

    def __init__(self, config: AsrConfig) -> None:
        # spawn: never fork a process that has threads and an event loop.
        context = multiprocessing.get_context("spawn")
        child_in, self.inbox = context.Pipe(duplex=False)
        self.outbox, child_out = context.Pipe(duplex=False)
        self.process: BaseProcess = context.Process(
            target=serve, args=(config, child_in, child_out), name="nagovori-engine", daemon=True
        )
        self.process.start()
        child_in.close()  # the child's ends: closing ours lets a dead child show as a broken pipe
        child_out.close()
        self.pid = self.process.pid or 0
        self.broken = False

    def alive(self) -> bool:
        return self.process.is_alive()

    def load(self, model_id: str | None) -> None:
        self.inbox.send(("load", model_id))
        reply = self.receive(None)
        if reply[0] == "error":
            raise rebuild_error(reply[1])

    def receive(self, check: Callable[[], None] | None) -> tuple[Any, ...]:
        """The next message from the process; raises what ``check`` raises, or EngineFailure if
        the process dies."""
        while True:
            if check is not None:
                check()
            try:
                if self.outbox.poll(POLL_SECONDS):
                    message: tuple[Any, ...] = self.outbox.recv()
                    return message
            except (EOFError, OSError):
                pass
            else:
                if self.alive():
                    continue
            self.broken = True
            self.process.join(1)
            raise EngineFailure(
                f"The engine process stopped unexpectedly (exit code {self.process.exitcode}).",
                exit_code=self.process.exitcode,
            )

    def stop(self) -> None:
        """Quit politely when idle; kill otherwise (a decoder in a long C call never listens)."""
        if self.alive() and not self.broken:
            with contextlib.suppress(OSError):
                self.inbox.send(("quit",))
            self.process.join(2)
        if self.alive():
            self.process.kill()
            self.process.join(5)
        self.inbox.close()
        self.outbox.close()


class _IsolatedEngine:
    """An ``AsrEngine`` whose work happens in the pool's processes."""

    def __init__(self, pool: EnginePool, spec: str | None, name: str, model_id: str) -> None:
        self._pool = pool
        self._spec = spec
        self.name = name
        self.model_id = model_id

    def transcribe(
        self, audio: Iterable[np.ndarray], *, duration: float, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        """Start the job in a process; the info comes back at once, segments as recognized."""
        check = _stop_check.get()
        run = _Run(self._pool, audio, check)
        try:
            message = run.start(self._spec, duration, options)
        except BaseException:
            run.close()
            raise
        return message, run.segments()


class _Run:
    """One job in one engine process: the audio feeder thread and the results as they come."""

    def __init__(
        self, pool: EnginePool, audio: Iterable[np.ndarray], check: Callable[[], None] | None
    ) -> None:
        self._checkout = pool.checkout()
        self._worker: _Worker = self._checkout.__enter__()
        self._returned = False
        self._audio = audio
        self._check = check
        self._stop_feeding = threading.Event()
        self._feed_error: BaseException | None = None
        self._feeder: threading.Thread | None = None
        self._finished = False

    def start(self, spec: str | None, duration: float, options: TranscriptionOptions) -> TranscriptionInfo:
        self._worker.inbox.send(("start", spec, duration, options))
        # The audio source may be a decoder reading a file: feed it from a thread of its own so
        # that this one can keep watching for results, a stop request or a dead process.
        self._feeder = threading.Thread(
            target=contextvars.copy_context().run, args=(self._feed,), name="engine-feed", daemon=True
        )
        self._feeder.start()
        info = self._next()
        if info[0] != "info":
            raise EngineFailure(f"The engine process answered {info[0]!r} instead of starting.")
        result: TranscriptionInfo = info[1]
        return result

    def segments(self) -> Iterator[Segment]:
        try:
            while True:
                message = self._next()
                if message[0] == "end":
                    self._finished = True
                    return
                yield message[1]
        finally:
            self.close()

    def close(self) -> None:
        """Return the process: clean after a finished job, killed and replaced otherwise."""
        if self._returned:
            return
        self._returned = True
        self._stop_feeding.set()
        if not self._finished:
            self._worker.broken = True  # busy or in an unknown state: kill it, start afresh
        if self._feeder is not None:
            if self._worker.broken:
                self._worker.stop()  # unblocks a feeder stuck in send
            self._feeder.join(5)
        self._checkout.__exit__(None, None, None)

    def _next(self) -> tuple[Any, ...]:
        message = self._worker.receive(self._check)
        if message[0] == "error":
            error = rebuild_error(message[1])
            self._after_error()
            raise error
        if message[0] == "aborted":
            self._after_error()
            feed_error = self._feed_error
            if feed_error is not None:
                raise feed_error
            raise EngineFailure("The engine process stopped reading the audio.")
        return message

    def _after_error(self) -> None:
        """The process reported and drains the rest of the audio: it stays usable."""
        self._stop_feeding.set()
        if self._feeder is not None:
            self._feeder.join(30)
            if self._feeder.is_alive():
                return  # stays broken: close() kills it
        self._finished = True

    def _feed(self) -> None:
        try:
            for chunk in self._audio:
                if self._stop_feeding.is_set():
                    break
                if not self._send(("chunk", np.ascontiguousarray(chunk, dtype=np.float32))):
                    return  # the process is gone (killed on stop, or crashed): the reader says so
        except BaseException as exc:
            self._feed_error = exc
            self._send(("abort",))
            return
        self._send(("abort",) if self._stop_feeding.is_set() else ("eof",))

    def _send(self, message: tuple[Any, ...]) -> bool:
        try:
            self._worker.inbox.send(message)
        except (OSError, ValueError):
            return False
        return True
