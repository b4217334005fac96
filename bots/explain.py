"""Turning errors into answers people understand, in their language.

Works on the (code, message, details) shape every error of the platform shares (core, billing,
the engines), so the conversation explains a raised error and the delivery explains a failed
job's stored ``error_code``/``error_message`` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.model import Button, Keyboard
from bots.texts import duration, say
from core.errors import DomainError

MB = 1024 * 1024


@dataclass(frozen=True)
class Explanation:
    text: str
    buttons: Keyboard | None = None


def is_domain_error(exc: BaseException) -> bool:
    """Errors raised on purpose (``core.errors.DomainError``, of any package); anything else is a bug."""
    return isinstance(exc, DomainError)


def explain_error(exc: BaseException, lang: str) -> Explanation:
    """The answer for a raised domain error."""
    return explain(str(getattr(exc, "code", "")), str(getattr(exc, "message", exc)), _details(exc), lang)


def explain(code: str, message: str, details: dict[str, Any], lang: str, *, kind: str = "asr") -> Explanation:
    """The answer for an error ``code``; unknown codes show the error's own message."""
    d = details
    try:
        if code == "insufficient_minutes":
            text = say(
                lang,
                "insufficient_minutes",
                needed=duration(d["required_seconds"], lang),
                balance=duration(d["available_seconds"], lang),
            )
            return Explanation(text, [[Button(say(lang, "buy_button"), "buy")]])
        if code in ("audio_too_long", "audio_too_short"):
            limit = d["max_seconds"] if code == "audio_too_long" else d["min_seconds"]
            return Explanation(
                say(lang, code, duration=duration(d["duration_seconds"], lang), limit=duration(limit, lang))
            )
        if code == "file_too_big":
            return Explanation(
                say(lang, "file_too_big", size=round(d["size_bytes"] / MB, 1), limit=d["limit_bytes"] // MB)
            )
        if code == "unsupported_file":
            return Explanation(say(lang, "unsupported_file", mime=d.get("mime_type") or "?"))
        if code == "too_many_jobs":
            return Explanation(say(lang, "too_many_jobs", limit=d["limit"]))
        if code == "text_too_long":
            return Explanation(say(lang, "text_too_long", length=d["length"], limit=d["limit"]))
    except (KeyError, TypeError):
        pass  # a stored failure has no details: fall through to the generic answers
    if code == "insufficient_minutes":  # a job that ran out part-way (speech: nothing was sent)
        key = "speech_out_of_minutes" if kind == "tts" else "out_of_minutes"
        return Explanation(say(lang, key), [[Button(say(lang, "buy_button"), "buy")]])
    if code == "text_empty":
        return Explanation(say(lang, "text_empty"))
    if code == "invalid_audio":
        return Explanation(say(lang, "bad_audio", detail=message))
    if code == "service_unavailable":
        return Explanation(say(lang, "unavailable"))
    if code == "processing_failed":
        return Explanation(say(lang, "speech_failed" if kind == "tts" else "processing_failed"))
    if code and message:
        return Explanation(say(lang, "failed_generic", detail=message))
    return Explanation(say(lang, "oops"))


def _details(exc: BaseException) -> dict[str, Any]:
    details = getattr(exc, "details", None)
    return dict(details) if isinstance(details, dict) else {}
