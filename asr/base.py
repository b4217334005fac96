"""The one protocol every speech-to-text engine implements, and the values it speaks in.

An engine takes decoded audio — an iterable of float32 mono chunks at 16 kHz, read as a stream —
and plain options, and returns the detected language at once plus an iterator of segments that
are recognized as the audio is consumed. Engines are built once per process (``AsrEngines``) and
shared by every job, so ``transcribe`` must be safe to call from several threads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from asr.errors import InvalidOption

SAMPLE_RATE = 16000
"""The rate of every PCM chunk an engine receives."""

PRESETS: tuple[str, ...] = ("default", "verbatim", "remove_fillers", "concise")
TASKS: tuple[str, ...] = ("transcribe", "translate")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Word:
    """One recognized word with its time in the audio (seconds)."""

    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of recognized speech: a phrase or sentence, with optional word timings."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None


@dataclass(frozen=True)
class TranscriptionOptions:
    """What the caller wants; engines ignore what they cannot do and refuse what they must."""

    language: str = "auto"
    preset: str = "default"  # default | verbatim | remove_fillers | concise
    prompt: str | None = None
    terms: tuple[str, ...] = ()
    word_timestamps: bool = False
    task: Literal["transcribe", "translate"] = "transcribe"
    languages: tuple[str, ...] = ()  # allow-list for language detection when language is "auto"

    def __post_init__(self) -> None:
        language = (self.language or "auto").strip().lower()
        if language != "auto" and not _LANGUAGE.match(language):
            raise InvalidOption(f"Language {self.language!r} is not a language code like 'en' or 'auto'.")
        if self.preset not in PRESETS:
            raise InvalidOption(
                f"Unknown preset {self.preset!r}; use one of: {', '.join(PRESETS)}.", allowed=list(PRESETS)
            )
        if self.task not in TASKS:
            raise InvalidOption(f"Unknown task {self.task!r}; use one of: {', '.join(TASKS)}.")
        allowed = tuple(dict.fromkeys(code.strip().lower() for code in self.languages))
        for code in allowed:
            if not _LANGUAGE.match(code):
                raise InvalidOption(f"Language {code!r} in the allow-list is not a language code.")
        terms = tuple(t.strip() for t in self.terms if t and t.strip())
        # Frozen, but normalizing once here saves every engine from doing it.
        object.__setattr__(self, "language", language)
        object.__setattr__(self, "languages", allowed)
        object.__setattr__(self, "terms", terms)


@dataclass(frozen=True)
class TranscriptionInfo:
    """Known before the first segment: the language in use and the audio's length."""

    language: str
    language_probability: float
    duration: float


class AsrEngine(Protocol):
    """A loaded recognizer, shared by every job of the process."""

    name: str  # "whisper" | "vosk" | "pocketsphinx"
    model_id: str  # e.g. "whisper-small", "pocketsphinx-en", "vosk-en"

    def transcribe(
        self, audio: Iterable[np.ndarray], *, duration: float, options: TranscriptionOptions
    ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
        """Start recognizing ``audio``; segments come from the iterator as the audio is read."""
        ...
