"""Live recognition: audio pushed in as it arrives, partial and final text out as it is heard.

File transcription (``AsrEngine.transcribe``) pulls audio from an iterable; a live session cannot
block an engine thread waiting for the network, so streaming engines expose a push interface
instead: ``accept(pcm)`` takes the next bytes of 16 kHz mono s16le audio and returns what became
known (partials and finals), ``finish()`` flushes the last utterance. A recognizer is used from
one thread at a time and is not shared.

PocketSphinx and Vosk stream natively (they have their own endpointers and partial hypotheses);
Whisper does not, so ``asr.engines.live_whisper`` re-decodes the open utterance about every second
and confirms the words two passes agree on (local agreement), cutting at pauses found by VAD.

Where the work runs: the caller runs ``accept``/``finish`` in a thread. PocketSphinx keeps the GIL
inside a decode, which is why file jobs run it in engine processes (``asr.isolated``). A live
session keeps its endpointer and partial decoding in-process (an answer per 0.25 s of speech, no
pipe round trip; each holds the GIL for a short burst), and where the registry isolates the engine
it sends each finished utterance to an engine process for the final decode (the long one: about
half the utterance's length on a loaded 2-core machine). Utterances are capped at
``MAX_LIVE_UTTERANCE_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from asr.base import SAMPLE_RATE, AsrEngine, Segment, TranscriptionOptions, Word
from asr.errors import UnsupportedLanguage
from asr.registry import AsrEngines

STREAMING_ENGINES: tuple[str, ...] = ("pocketsphinx", "vosk", "whisper")
BYTES_PER_SECOND = SAMPLE_RATE * 2  # s16le mono
MAX_LIVE_UTTERANCE_SECONDS = 15
"""A monologue without pauses is finalized every this many seconds (bounds the final decode)."""


@dataclass(frozen=True)
class Result:
    """What the recognizer knows about the current utterance: partial text, or a final segment."""

    text: str
    is_final: bool
    start: float = 0.0
    end: float = 0.0
    words: tuple[Word, ...] = ()


class Recognizer(Protocol):
    """A live recognizer for one session (one thread at a time)."""

    def accept(self, pcm: bytes) -> list[Result]:
        """Take the next 16 kHz mono s16le bytes (any length); return the partials and finals
        that became known."""
        ...

    def finish(self) -> list[Result]:
        """The stream has ended: the finals of whatever is still pending."""
        ...

    def close(self) -> None:
        """Give the recognizer's resources back (idempotent; also after a failure)."""
        ...


class StreamingEngine(Protocol):
    name: str
    model_id: str

    def open_stream(self, language: str, *, terms: tuple[str, ...] = ()) -> Recognizer: ...


def open_stream(
    engines: AsrEngines, model_id: str | None, language: str, terms: tuple[str, ...] = ()
) -> Recognizer:
    """A live recognizer of ``model_id`` (None: the default engine) for ``language`` ("auto":
    the model's); ``terms`` bias the engines that take hints (Whisper's hotwords, as in file jobs).
    Loads the model in this process once (even where file jobs isolate the engine in engine
    processes: see the module docstring). Blocking: call it in a thread."""
    source = engines.resolve(model_id)
    if source.engine not in STREAMING_ENGINES:
        raise UnsupportedLanguage(
            f"The {source.model_id} model cannot transcribe live yet; use one of the "
            f"{' or '.join(STREAMING_ENGINES)} models.",
            engine=source.engine,
            model=source.model_id,
            streaming_engines=list(STREAMING_ENGINES),
        )
    # The base registry's get: the in-process engine, never an isolated proxy.
    engine = AsrEngines.get(engines, source.model_id)
    opener = getattr(engine, "open_stream", None)
    if opener is None:  # pragma: no cover - every STREAMING_ENGINES engine has one
        raise UnsupportedLanguage(f"The {source.model_id} model cannot transcribe live.")
    shared = engines.get(source.model_id)
    if shared is engine:
        recognizer: Recognizer = opener(language, terms=terms)
    else:  # file jobs run this engine in engine processes: so do the session's long decodes
        recognizer = opener(language, terms=terms, decode_elsewhere=_utterance_decoder(shared, language))
    return recognizer


def _utterance_decoder(engine: AsrEngine, language: str) -> Callable[[bytes, float], list[Segment]]:
    """Decode one utterance's s16le PCM with ``engine`` (e.g. an engine-process proxy), its times
    shifted to the stream's."""
    options = TranscriptionOptions(language=language, word_timestamps=True)

    def decode(pcm: bytes, offset: float) -> list[Segment]:
        samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32767.0
        _, segments = engine.transcribe([samples], duration=samples.size / SAMPLE_RATE, options=options)
        return [_shifted(segment, offset) for segment in segments]

    return decode


def _shifted(segment: Segment, offset: float) -> Segment:
    def at(t: float) -> float:
        return round(t + offset, 3)

    words = tuple(replace(w, start=at(w.start), end=at(w.end)) for w in segment.words)
    return replace(segment, start=at(segment.start), end=at(segment.end), words=words)
