"""The one protocol every synthesizer implements, and the chunk of audio it yields.

An engine takes text that ``tts.text.prepare_text`` has already cleaned, a voice id, a language
and a speed, and yields one ``SpeechChunk`` per sentence, so that callers can encode and send the
first sentence while the next one is being synthesized. Engines are built once per process
(``tts.registry.TtsEngines``) and are safe to share between threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

MAX_TEXT_CHARS = 5000
MIN_SPEED = 0.25
MAX_SPEED = 4.0


@dataclass(frozen=True, eq=False)
class SpeechChunk:
    """The audio of one sentence: mono float32 PCM in [-1, 1] at ``sample_rate``."""

    pcm: np.ndarray
    sample_rate: int
    text: str

    @property
    def duration_seconds(self) -> float:
        return self.pcm.shape[0] / self.sample_rate


class TtsEngine(Protocol):
    """A speech synthesizer: prepared text in, sentence-sized PCM chunks out."""

    name: str  # "silero" | "espeak"

    def synthesize(
        self, text: str, *, voice: str, language: str, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        """Yield the audio of ``text`` sentence by sentence (text already prepared)."""
        ...
