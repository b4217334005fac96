"""Errors of the text-to-speech package.

``tts`` knows nothing of the platform, so it has its own root; each error has the same shape as the
core's (a stable ``code``, a message for people, ``details``, ``to_dict()``) and the edges render
both trees alike. Everything under ``InvalidTtsRequest`` is the caller's to fix (HTTP 400); the
rest is the server's (a missing model: 503; a failing engine: 500).

    TtsError
     ├── InvalidTtsRequest        the request cannot be synthesized as given
     │    ├── TextEmpty            nothing to say after clean-up
     │    ├── TextTooLong          over MAX_TEXT_CHARS (details: limit, length)
     │    ├── UnknownVoice         not one of the seven voice ids (details: voice, allowed)
     │    ├── UnsupportedLanguage  not "auto", "ru" or "en", or not served by the engine
     │    ├── InvalidSpeed         speed outside 0.25–4.0
     │    └── UnknownEngine        no such engine or model id
     ├── ModelNotAvailable        a known engine whose model file or program is not here
     ├── ModelDownloadFailed      ``pull`` could not fetch or verify a model
     └── EngineFailure            the engine itself failed while loading or synthesizing
"""

from __future__ import annotations

from typing import Any


class TtsError(Exception):
    """Root of every error ``tts`` raises on purpose."""

    code = "tts_error"
    default_message = "Speech synthesis failed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object the API and the logs use."""
        return {"code": self.code, "message": self.message, **self.details}


class InvalidTtsRequest(TtsError):
    """The text or an option cannot be used as given."""

    code = "invalid_request"
    default_message = "The speech request is not valid."


class TextEmpty(InvalidTtsRequest):
    """No speakable text is left after removing whitespace and control characters."""

    code = "text_empty"
    default_message = "The text is empty: there is nothing to say."


class TextTooLong(InvalidTtsRequest):
    """The text is longer than the per-request limit (``details``: ``limit``, ``length``)."""

    code = "text_too_long"
    default_message = "The text is too long."


class UnknownVoice(InvalidTtsRequest):
    """The voice id is not one of ``tts.voices.VOICE_IDS``."""

    code = "unknown_voice"
    default_message = "Unknown voice."


class UnsupportedLanguage(InvalidTtsRequest):
    """The language is not one we synthesize (or not one this engine serves)."""

    code = "unsupported_language"
    default_message = "This language is not supported for speech synthesis."


class InvalidSpeed(InvalidTtsRequest):
    """The speed factor is outside the allowed range."""

    code = "invalid_speed"
    default_message = "The speed must be between 0.25 and 4.0."


class UnknownEngine(InvalidTtsRequest):
    """The engine name or model id names nothing this installation knows."""

    code = "unknown_engine"
    default_message = "Unknown speech synthesis engine."


class ModelNotAvailable(TtsError):
    """The engine is known but its model file (or program) is not on this machine."""

    code = "model_not_available"
    default_message = "The speech synthesis model is not available on this server."


class ModelDownloadFailed(TtsError):
    """A model could not be downloaded, or what arrived is not a model."""

    code = "model_download_failed"
    default_message = "The model could not be downloaded."


class EngineFailure(TtsError):
    """The synthesizer failed while loading a model or producing audio."""

    code = "engine_failure"
    default_message = "The speech synthesizer failed."
