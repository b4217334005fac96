"""Where log lines go and what they look like: ``NAGOVORI_LOG_FORMAT`` (text | json) and
``NAGOVORI_LOG_LEVEL``, on one stderr handler that every process's records pass through.

Each line carries the request id and the job id of the context it was written in
(``request_context``); credentials are rewritten by ``RedactSecrets`` before any formatter sees
them. A JSON line is one object: ``time``, ``level``, ``logger``, ``message``, then
``request_id``/``job_id`` when known, the fields a caller passed as ``extra`` (the access log's
``method``, ``route``, ``status``, …) and ``exception`` (the traceback) when there is one.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from core.observability import request_context
from core.redaction import RedactSecrets, redact

# Attributes every LogRecord has: anything else on a record came in through ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_CONTEXT = ("request_id", "job_id")


class AddContext(logging.Filter):
    """Stamp each record with the request and job of the context that wrote it (unless the caller
    named them in ``extra``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_context.request_id.get()
        if getattr(record, "job_id", None) is None:
            record.job_id = request_context.job_id.get()
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [request_id=… job_id=…]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        tags = " ".join(f"{name}={value}" for name in _CONTEXT if (value := getattr(record, name, None)))
        return f"{line} [{tags}]" if tags else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line (newlines inside messages and tracebacks are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_") or value is None:
                continue
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _NagovoriHandler(logging.StreamHandler):
    """Ours, so that configuring twice (tests call the CLI repeatedly) replaces rather than adds."""


def configure_logging(level: str, log_format: Literal["text", "json"], *, debug: bool = False) -> None:
    """Send every logger's records to stderr in ``log_format`` at ``level`` (DEBUG with ``debug``)."""
    handler = _NagovoriHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactSecrets())  # first: no formatter ever sees a credential
    handler.addFilter(AddContext())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _NagovoriHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.getLevelNamesMapping().get(level.upper(), logging.INFO))
    if not debug:  # faster-whisper logs every file's VAD and language at INFO: our own lines say it
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
