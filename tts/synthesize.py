"""The one call the worker and the CLI make to turn text into audio (the live API stream checks a
request once, in ``core.services.speech``, and hands the engine the prepared text).

    for chunk in synthesize(engines.get(), "Привет! Как дела?", voice="nova"):
        encoder.feed(chunk.pcm)          # one sentence at a time

Everything a caller can get wrong is checked before the engine runs, so a bad request fails before
the first byte of a stream; the text is cleaned, its language detected when ``"auto"``, and the
engine yields sentence by sentence.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from tts.base import MAX_SPEED, MIN_SPEED, SpeechChunk, TtsEngine
from tts.errors import InvalidSpeed
from tts.text import prepare_text
from tts.voices import DEFAULT_VOICE, get_voice


def check_speed(speed: float) -> float:
    """``speed`` itself when within 0.25–4.0; InvalidSpeed otherwise."""
    if not isinstance(speed, int | float) or math.isnan(speed) or not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidSpeed(
            f"The speed must be between {MIN_SPEED} and {MAX_SPEED}, not {speed}.",
            field="speed",
            minimum=MIN_SPEED,
            maximum=MAX_SPEED,
        )
    return float(speed)


def synthesize(
    engine: TtsEngine,
    text: str,
    *,
    voice: str = DEFAULT_VOICE,
    language: str = "auto",
    speed: float = 1.0,
) -> Iterator[SpeechChunk]:
    """Validate, prepare and synthesize ``text``; yield one chunk per sentence.

    Validation happens when this is called, not at the first ``next()``: the errors
    (TextEmpty, TextTooLong, UnknownVoice, UnsupportedLanguage, InvalidSpeed) reach the caller
    before any audio is produced."""
    voice_id = get_voice(voice).id  # an OpenAI alias reaches the engine as the voice it means
    speed = check_speed(speed)
    clean, lang = prepare_text(text, language)
    return engine.synthesize(clean, voice=voice_id, language=lang, speed=speed)
