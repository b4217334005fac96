"""Domain errors of the platform core.

Every error a user can cause or meet carries a stable ``code`` and a message meant for people;
the API renders them as ``{"error": {"code", "message", ...details}}`` and the bots as plain text.
HTTP statuses are chosen at the edge (``api/errors.py``), never here.

``DomainError`` is the one contract of "an error raised on purpose": a protocol that this tree and
the other packages' roots (``billing.errors.BillingError``, ``asr.errors.AsrError``,
``tts.errors.TtsError``) satisfy by their shape, since those packages import nothing of ``core``.
Whoever sorts errors (the worker, the API's error middleware, the CLI, the bots) asks
``isinstance(exc, DomainError)``, never for attributes one by one.

    NagovoriError
     ├── InvalidInput            bad parameters, unusable files (400)
     │    ├── AudioTooShort / AudioTooLong
     │    ├── UploadIncomplete
     │    ├── InvalidObjectKey
     │    ├── UnknownModel       no such model id (the code asr's own UnknownModel has)
     │    ├── UnsupportedLanguage  the model cannot do the language (the code asr's has)
     │    └── UnsupportedTask    the model cannot do the task (translate)
     ├── NotFound                missing, or someone else's (404)
     ├── Conflict                the request clashes with the resource's state (409)
     │    ├── UploadUsed         a second PUT to an upload that already completed
     │    └── InputChanged       a job's input is no longer the file it was created with
     ├── Gone                    existed once, deleted for good (410)
     │    └── AudioExpired       the audio was deleted after RETENTION_DAYS
     ├── RequestTimeout          a request body that stalls or crawls (408)
     ├── PayloadTooLarge         over the upload limit (413)
     │    └── StorageQuotaExceeded  over the user's STORAGE_QUOTA_MB
     ├── AuthenticationFailed    no or bad credentials (401)
     ├── Forbidden               a signed URL that is tampered with or expired (403)
     ├── TooManyJobs             the per-user queue is full (429)
     │    └── TooManyActiveJobs  MAX_ACTIVE_JOBS jobs are running already (a live stream) (429)
     ├── TooManyObjects          the user keeps STORAGE_QUOTA_OBJECTS objects already (429)
     ├── RateLimited             too many requests (429)
     └── ServiceUnavailable      a dependency (database, broker, engine) is down (503)

Outside the tree, because it is no failure: ``RetryLater``, a worker step asking to run again
(after ``seconds``, when it knows how long to wait); the actors turn it into the broker's retry.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class DomainError(Protocol):
    """An error raised on purpose, by any package: a stable ``code``, a ``message`` for people,
    ``details`` for machines and ``to_dict()`` for the JSON body; ``default_message`` is the
    class's generic message, safe to show when the specific one names server paths.

    Anything else that reaches the edge is a bug (or a dependency failing) and is reported as such.
    """

    default_message: str
    code: str
    message: str
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]: ...


class NagovoriError(Exception):
    """Root of every error the platform raises on purpose."""

    code = "internal_error"
    default_message = "Something went wrong."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The error as the JSON object both the API and the logs use."""
        return {"code": self.code, "message": self.message, **self.details}


class InvalidInput(NagovoriError):
    """The request or the file cannot be used as given."""

    code = "invalid_request"
    default_message = "The request is not valid."


class AudioTooShort(InvalidInput):
    """Audio shorter than ``MIN_AUDIO_SECONDS``."""

    code = "audio_too_short"


class AudioTooLong(InvalidInput):
    """Audio longer than ``MAX_AUDIO_SECONDS``."""

    code = "audio_too_long"


class InvalidObjectKey(InvalidInput):
    """An object key that is malformed or tries to leave the store."""

    code = "invalid_object_key"
    default_message = "The object key is not valid."


class UploadIncomplete(InvalidInput):
    """A job names an object whose upload has not finished."""

    code = "upload_incomplete"
    default_message = "The file has not been uploaded yet: PUT it to the upload_url first."


class UnknownModel(InvalidInput):
    """A ``model`` that is none of the ids ``GET /v1/models`` lists (the code ``asr`` uses too)."""

    code = "unknown_model"


class UnsupportedLanguage(InvalidInput):
    """The chosen model cannot recognize the requested language (the code ``asr`` uses too)."""

    code = "unsupported_language"


class UnsupportedTask(InvalidInput):
    """The chosen model cannot do the requested task (translating needs a multilingual Whisper)."""

    code = "unsupported_task"


class NotFound(NagovoriError):
    """The resource does not exist, or belongs to someone else."""

    code = "not_found"
    default_message = "Not found."


class Conflict(NagovoriError):
    """The resource's current state forbids the operation."""

    code = "conflict"
    default_message = "The resource is in a state that does not allow this."


class UploadUsed(Conflict):
    """A PUT to an upload URL whose upload already completed: an upload is written once."""

    code = "upload_used"
    default_message = (
        "This upload URL was already used; an uploaded file cannot be replaced. "
        "Ask POST /v1/uploads/presign for a new URL."
    )


class InputChanged(Conflict):
    """The worker found other bytes than the job was created (and billed) for; the job fails."""

    code = "input_changed"
    default_message = (
        "The uploaded file changed after the job was created; the job was stopped and "
        "your minutes were returned."
    )


class Gone(NagovoriError):
    """The resource existed but was deleted for good."""

    code = "gone"
    default_message = "This resource no longer exists."


class AudioExpired(Gone):
    """The job's audio was deleted after ``RETENTION_DAYS``; its text is kept."""

    code = "audio_expired"
    default_message = "The audio was deleted after the retention period; the job's text is kept."


class RequestTimeout(NagovoriError, TimeoutError):
    """The client stopped sending its request body, or sends it too slowly (api/protocol.py).

    A ``TimeoutError`` too: aiohttp ends its read of a leftover body quietly on one."""

    code = "request_timeout"
    default_message = "The request body did not arrive in time."


class PayloadTooLarge(NagovoriError):
    """The body is over the configured size limit."""

    code = "payload_too_large"
    default_message = "The file is too large."


class StorageQuotaExceeded(PayloadTooLarge):
    """Storing this would take the user's files over ``STORAGE_QUOTA_MB``."""

    code = "storage_quota_exceeded"
    default_message = "Your storage is full; delete files or wait until old uploads expire."


class AuthenticationFailed(NagovoriError):
    """Missing, malformed, unknown or revoked credentials."""

    code = "unauthorized"
    default_message = "Authentication required: send 'Authorization: Bearer nag_…'."


class Forbidden(NagovoriError):
    """A signed URL whose signature does not match or has expired."""

    code = "forbidden"
    default_message = "The signed URL is not valid or has expired."


class TooManyJobs(NagovoriError):
    """The user already has ``MAX_QUEUED_JOBS`` jobs waiting."""

    code = "too_many_jobs"
    default_message = "Too many jobs waiting; try again when some have finished."


class TooManyActiveJobs(TooManyJobs):
    """A live stream cannot wait in the queue: it needs a free ``MAX_ACTIVE_JOBS`` slot now."""

    code = "too_many_active_jobs"
    default_message = "Too many jobs running; try again when one has finished."


class TooManyObjects(NagovoriError):
    """The user already keeps ``STORAGE_QUOTA_OBJECTS`` stored files (uploads and TTS results)."""

    code = "too_many_objects"
    default_message = "You keep too many stored files; wait until old uploads expire."


class RateLimited(NagovoriError):
    """Over ``RATE_LIMIT_PER_MINUTE``; ``retry_after`` says when to come back."""

    code = "rate_limited"
    default_message = "Too many requests."


class ServiceUnavailable(NagovoriError):
    """A dependency is down; the request may succeed later."""

    code = "service_unavailable"
    default_message = "The service is temporarily unavailable; try again shortly."


class RetryLater(Exception):
    """A worker step that cannot finish now and should run again: after ``seconds`` when the other
    side said how long to wait (Telegram's flood control), else after the broker's backoff.

    Not a ``NagovoriError``: those are final answers, this is a request to come back. The actors
    (``core.jobs.actors``) map it to the broker's retry, so no step knows the broker."""

    def __init__(self, message: str = "retry later", *, seconds: float | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds


def public_message(exc: DomainError) -> str:
    """The message stored on a failed job, which its owner reads. An engine's own message can name
    server paths (a missing model's folder): those go to the log, the job gets the error's
    generic message."""
    message = exc.message
    if isinstance(exc, NagovoriError) or not ("/" in message or "\\" in message):
        return message
    logging.getLogger("core.jobs").warning("%s: %s", exc.code, message)
    return exc.default_message
