"""The one error the audio package raises for unusable input.

    core.errors.InvalidInput
     └── AudioError            code "invalid_audio"; ``details["reason"]`` says why:
                               empty, not_audio, truncated, no_audio_stream, silent, unsupported_format

Raw PyAV/FFmpeg exceptions never leave this package; they are translated here so the API and the
bots can show a message a person understands.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from core.errors import InvalidInput

AudioErrorReason = Literal[
    "empty", "not_audio", "truncated", "no_audio_stream", "silent", "unsupported_format"
]
REASONS: tuple[str, ...] = get_args(AudioErrorReason)

_DEFAULT_MESSAGES: dict[str, str] = {
    "empty": "The file is empty.",
    "not_audio": "The file is not audio or video in a format we can read.",
    "truncated": "The audio is damaged or cut off and cannot be decoded.",
    "no_audio_stream": "The file has no audio track.",
    "silent": "The audio is silent: there is nothing to transcribe.",
    "unsupported_format": "This audio format is not supported.",
}


class AudioError(InvalidInput):
    """Input audio that cannot be used; ``reason`` (also in ``details``) names the cause."""

    code = "invalid_audio"
    default_message = "The audio file cannot be used."

    def __init__(self, message: str | None = None, *, reason: AudioErrorReason, **details: Any) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown AudioError reason {reason!r}; expected one of {REASONS}")
        super().__init__(message or _DEFAULT_MESSAGES[reason], reason=reason, **details)
        self.reason: AudioErrorReason = reason
