"""Which request and which job a log line belongs to, carried in context variables.

The API sets the request id per request (``X-Request-ID`` when the client sent a sane one, else a
fresh one); a job inserted while serving it remembers the id in its ``options`` and the queue
message carries it on, so the worker's lines for that job (``job_context``) and the bot's delivery
lines carry it too: ``grep <request id>`` finds the job's whole story across processes. Stdlib only.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
OPTION_KEY = "request_id"  # where a job keeps the id of the request that created it (jobs.options)
_SANE = re.compile(r"[A-Za-z0-9._:\-]{1,64}")  # no spaces, quotes or control bytes: safe in any log line

request_id: ContextVar[str | None] = ContextVar("nagovori_request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("nagovori_job_id", default=None)


def new_request_id() -> str:
    return secrets.token_hex(8)


def sane_request_id(value: str | None) -> str | None:
    """``value`` when it can go into a log line as it is (bounded, safe characters), else None."""
    if value and _SANE.fullmatch(value):
        return value
    return None


@contextlib.contextmanager
def job_context(job: str, request: str | None) -> Iterator[None]:
    """Tag the log lines written inside the block with ``job`` and ``request`` (None: the job was
    made outside any request — its lines must not borrow the id of whatever runs around them)."""
    job_token = job_id.set(job)
    request_token = request_id.set(sane_request_id(request))
    try:
        yield
    finally:
        request_id.reset(request_token)
        job_id.reset(job_token)
