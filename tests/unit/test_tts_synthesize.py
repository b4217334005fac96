"""``tts.synthesize.synthesize``: everything a caller can get wrong fails before the engine runs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tts.base import SpeechChunk
from tts.errors import InvalidSpeed, TextEmpty, TextTooLong, UnknownVoice, UnsupportedLanguage
from tts.synthesize import check_speed, synthesize


class RecordingEngine:
    """Implements the TtsEngine protocol and records what it was asked to say."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def synthesize(
        self, text: str, *, voice: str, language: str, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        self.calls.append({"text": text, "voice": voice, "language": language, "speed": speed})
        for word in text.split():
            yield SpeechChunk(np.zeros(len(word), dtype=np.float32), 8000, word)


def test_passes_clean_text_and_detected_language() -> None:
    engine = RecordingEngine()
    chunks = list(synthesize(engine, "  Привет,\u200b мир!  ", voice="nova", speed=1.5))
    assert engine.calls == [{"text": "Привет, мир!", "voice": "nova", "language": "ru", "speed": 1.5}]
    assert [c.text for c in chunks] == ["Привет,", "мир!"]


def test_defaults() -> None:
    engine = RecordingEngine()
    list(synthesize(engine, "Hello"))
    assert engine.calls == [{"text": "Hello", "voice": "alloy", "language": "en", "speed": 1.0}]


def test_explicit_language_is_kept() -> None:
    engine = RecordingEngine()
    list(synthesize(engine, "Hello", language="ru"))
    assert engine.calls[0]["language"] == "ru"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": ""}, TextEmpty),
        ({"text": "x" * 5001}, TextTooLong),
        ({"text": "Hi", "voice": "bob"}, UnknownVoice),
        ({"text": "Hi", "language": "de"}, UnsupportedLanguage),
        ({"text": "Hi", "speed": 0.1}, InvalidSpeed),
        ({"text": "Hi", "speed": 5.0}, InvalidSpeed),
        ({"text": "Hi", "speed": float("nan")}, InvalidSpeed),
    ],
)
def test_bad_requests_fail_at_the_call_before_the_engine_runs(kwargs: dict[str, object], error: type) -> None:
    engine = RecordingEngine()
    text = kwargs.pop("text")
    with pytest.raises(error):
        synthesize(engine, text, **kwargs)  # type: ignore[arg-type]  # not iterated: the call raises
    assert engine.calls == []


@pytest.mark.parametrize("speed", [0.25, 1, 4.0])
def test_speed_limits_are_inclusive(speed: float) -> None:
    assert check_speed(speed) == float(speed)


def test_invalid_speed_names_the_range() -> None:
    with pytest.raises(InvalidSpeed) as caught:
        check_speed(9)
    assert caught.value.details == {"field": "speed", "minimum": 0.25, "maximum": 4.0}
    assert "0.25" in caught.value.message and "4.0" in caught.value.message


def test_chunk_duration() -> None:
    chunk = SpeechChunk(np.zeros(24000, dtype=np.float32), 48000, "x")
    assert chunk.duration_seconds == 0.5
