"""Errors of the speech-to-text package.

``asr`` knows nothing of the platform, so it has its own root; each error has the same shape as the
core's (a stable ``code``, a message for people, ``details``, ``to_dict()``) and the edges render
both trees alike.

    AsrError
     ├── InvalidOption         an option out of range or unknown (also a ValueError)
     ├── UnsupportedLanguage   the engine or model cannot do this language or task
     ├── UnknownModel          no such model id
     ├── ModelNotAvailable     a known model whose files are not here (names the setting to fix)
     └── EngineFailure         the recognizer itself failed while loading or decoding
"""

from __future__ import annotations

from typing import Any


class AsrError(Exception):
    """Root of every error ``asr`` raises on purpose."""

    code = "asr_error"
    default_message = "Speech recognition failed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object the API and the logs use."""
        return {"code": self.code, "message": self.message, **self.details}


class InvalidOption(AsrError, ValueError):
    """An option that is unknown or outside its allowed range (e.g. ``max_lines=7``)."""

    code = "invalid_option"
    default_message = "A transcription option is not valid."


class UnsupportedLanguage(AsrError):
    """The chosen engine or model does not handle the requested language (or task)."""

    code = "unsupported_language"
    default_message = "This engine does not support the requested language."


class UnknownModel(AsrError):
    """The model id names no engine or model this installation knows."""

    code = "unknown_model"
    default_message = "Unknown speech recognition model."


class ModelNotAvailable(AsrError):
    """The model is known but its files are missing here and could not be fetched."""

    code = "model_not_available"
    default_message = "The speech recognition model is not available on this server."


class EngineFailure(AsrError):
    """The recognition library failed (a corrupt model, an internal error)."""

    code = "engine_failure"
    default_message = "The speech recognition engine failed."
