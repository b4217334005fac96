"""The engine process: a loop that loads models on request and transcribes audio streamed to it.

Messages (tuples) from the parent on ``inbox``: ``("load", model)``, ``("start", model, duration,
options)`` followed by audio ``("chunk", array)``… then ``("eof",)`` or ``("abort",)``, and
``("quit",)``. Answers on ``outbox``: ``("ok",)`` for a load, ``("info", info)`` then
``("segment", s)``… and ``("end",)`` for a job, ``("error", wire_error)`` for either.
Errors travel as plain data (``wire_error``) and are rebuilt as the same ``asr.errors`` type.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from asr.errors import AsrError, EngineFailure

ENGINE_NICENESS = 5
WireError = tuple[str, str, str, dict[str, Any]]  # module, class name, message, details


class AudioAborted(Exception):
    """The parent's audio source failed or the parent gave up on the job."""


def wire_error(exc: BaseException) -> WireError:
    """An exception as data that pickles whatever its details hold."""
    if isinstance(exc, AsrError):
        return type(exc).__module__, type(exc).__qualname__, exc.message, dict(exc.details)
    return "asr.errors", "EngineFailure", f"The engine process failed: {type(exc).__name__}: {exc}", {}


def rebuild_error(data: WireError) -> AsrError:
    """The ``asr.errors`` exception ``wire_error`` described (only classes under ``asr`` are built)."""
    module, name, message, details = data
    cls: Any = EngineFailure
    if module == "asr" or module.startswith("asr."):
        found = getattr(importlib.import_module(module), name, None)
        if isinstance(found, type) and issubclass(found, AsrError):
            cls = found
    error: AsrError = cls(message, **details)
    return error


def serve(config: Any, inbox: Connection, outbox: Connection) -> None:
    """The child's main loop; returns when the parent says quit or goes away."""
    from asr.registry import AsrEngines

    # Ctrl+C reaches the whole process group; the parent decides when this process ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Recognition is batch work: when it competes with the API for the cores, the API goes first
    # (a request takes milliseconds; a job loses little by waiting them out).
    with contextlib.suppress(OSError):
        os.nice(ENGINE_NICENESS)
    engines = AsrEngines(config)  # models load on first use, once per engine process
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        kind = message[0]
        if kind == "quit":
            return
        if kind == "load":
            try:
                engines.get(message[1])
            except Exception as exc:
                outbox.send(("error", wire_error(exc)))
            else:
                outbox.send(("ok",))
        elif kind == "start":
            _transcribe(engines, message, inbox, outbox)
        # stray audio of a job that already ended is ignored


def _transcribe(engines: Any, message: tuple[Any, ...], inbox: Connection, outbox: Connection) -> None:
    _, model, duration, options = message
    audio = _Audio(inbox)
    try:
        engine = engines.get(model)
        info, segments = engine.transcribe(audio, duration=duration, options=options)
        outbox.send(("info", info))
        for segment in segments:
            outbox.send(("segment", segment))
    except AudioAborted:
        outbox.send(("aborted",))
    except Exception as exc:
        outbox.send(("error", wire_error(exc)))
    else:
        outbox.send(("end",))
    audio.drain()  # the engine may stop reading early: leave the pipe at the next command


class _Audio:
    """The audio stream as the engine sees it: chunks until the parent's end-of-stream."""

    def __init__(self, inbox: Connection) -> None:
        self._inbox = inbox
        self._done = False

    def __iter__(self) -> Iterator[np.ndarray]:
        while not self._done:
            message = self._inbox.recv()
            if message[0] == "chunk":
                yield message[1]
                continue
            self._done = True
            if message[0] == "abort":
                raise AudioAborted

    def drain(self) -> None:
        while not self._done:
            if self._inbox.recv()[0] in ("eof", "abort"):
                self._done = True
