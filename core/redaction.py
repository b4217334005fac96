"""Keep credentials out of log lines.

aiohttp logs a malformed request with its raw header block (``Authorization: Bearer nag_…`` and
all) and a traceback; clients put keys, JWTs and signed URLs in places that end up in messages,
and HTTP clients log URLs with the Telegram token in them. ``RedactSecrets`` rewrites every record
it sees: credentials become ``[redacted]``, and a bad request from a client is one line without
the header dump. ``protect_logs`` puts it on the server's loggers (the app factory calls it);
the CLI also puts it on its log handlers, for every logger. Stdlib only: the CLI imports it first.
"""

from __future__ import annotations

import logging
import re

_SECRETS = (
    # "Authorization: Bearer <anything up to the end of the quoted value or line>": a control
    # character inside the key must not let its tail through.
    (re.compile(r"(?i)\b(bearer)\s+[^'\"\n]*"), r"\1 [redacted]"),
    (re.compile(r"nag_[A-Za-z0-9_\-]+"), "nag_[redacted]"),  # API keys
    (re.compile(r"whsec_[A-Za-z0-9+/=_\-]+"), "whsec_[redacted]"),  # webhook signing secrets
    (re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "[redacted jwt]"),
    (re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_\-]{30,}"), "[redacted telegram token]"),  # in /bot<token>/ too
    (re.compile(r"(?i)\b(signature=)[^&\s'\"]+"), r"\1[redacted]"),  # signed URLs grant access
)
# The loggers the API writes requests and their errors to (a logger's filter sees only its own records).
SERVER_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web", "aiohttp.internal", "api.errors")


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites records so that no credential reaches a handler; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and _is_bad_http_request(error):
            # One line, the reason only: the rest of aiohttp's message is the raw request.
            reason = (str(getattr(error, "message", "") or error).strip().splitlines() or [""])[0].rstrip(":")
            record.msg, record.args = f"{record.getMessage()}: bad request ({reason})", ()
            record.exc_info, record.exc_text = None, None
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _is_bad_http_request(error: BaseException) -> bool:
    """aiohttp's HttpProcessingError family (a malformed request line or header), by name: this
    module must not import aiohttp."""
    return any(
        cls.__name__ == "HttpProcessingError" and cls.__module__.startswith("aiohttp.")
        for cls in type(error).__mro__
    )


def protect_logs() -> None:
    """Put ``RedactSecrets`` on the server's loggers (once per process)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
