"""Errors in words: a service's error becomes a sentence in the page's language and a status.

The core's messages are English and written for API clients; the ones a person meets on these
pages get their own texts here. Anything else shows the core's own message (still readable), and
an unexpected failure a generic apology (details go to the log, never to the page).
"""

from __future__ import annotations

import math

from core import errors as core_errors
from core.errors import DomainError
from web.i18n import say

STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (core_errors.AuthenticationFailed, 401),
    (core_errors.Forbidden, 403),
    (core_errors.NotFound, 404),
    (core_errors.Conflict, 409),
    (core_errors.RateLimited, 429),
    (core_errors.ServiceUnavailable, 503),
    (core_errors.InvalidInput, 400),
)


def status_of(exc: DomainError) -> int:
    status = next((s for cls, s in STATUS_BY_ERROR if isinstance(exc, cls)), None)
    if status is not None:
        return status
    return 402 if exc.code == "insufficient_minutes" else 400


def message_of(lang: str, exc: DomainError) -> str:
    """What to tell the person about ``exc``, in ``lang``."""
    code, details = exc.code, exc.details
    field = details.get("field")
    if code == "invalid_credentials":
        return say(lang, "error_invalid_credentials")
    if code == "signin_locked":
        minutes = max(1, math.ceil(int(details.get("retry_after") or 60) / 60))
        return say(lang, "error_signin_locked", minutes=minutes)
    if code == "signup_closed":
        return say(lang, "error_signup_closed")
    if isinstance(exc, core_errors.InvalidInput):
        if field == "email":
            return say(lang, "error_email")
        if field == "password" and "min_chars" in details:
            return say(lang, "error_password_short", min=details["min_chars"])
        if field == "name":
            return say(lang, "error_key_name")
    if isinstance(exc, core_errors.Conflict) and field == "email":
        return say(lang, "error_email_taken")
    if code == "insufficient_minutes":
        return say(lang, "error_no_minutes")
    if isinstance(exc, core_errors.ServiceUnavailable):
        return say(lang, "error_unavailable")
    return exc.message


def internal_message(lang: str) -> str:
    return say(lang, "error_internal")
