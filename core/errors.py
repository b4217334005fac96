"""Domain errors of the platform core.

Every error a user can cause or meet carries a stable ``code`` and a message meant for people;
the API renders them as ``{"error": {"code", "message", ...details}}`` and the bots as plain text.
HTTP statuses are chosen at the edge (``api/errors.py``), never here.

    NagovoriError
     ├── InvalidInput            bad parameters, unusable files (400)
     │    ├── AudioTooShort / AudioTooLong
 │    ├── UploadIncomplete
     │    └── InvalidObjectKey
     ├── NotFound                missing, or someone else's (404)
     ├── Conflict                the request clashes with the resource's state (409)
     ├── PayloadTooLarge         over the upload limit (413)
     ├── AuthenticationFailed    no or bad credentials (401)
     ├── Forbidden               a signed URL that is tampered with or expired (403)
     ├── TooManyJobs             the per-user queue is full (429)
     ├── RateLimited             too many requests (429)
     └── ServiceUnavailable      a dependency (database, broker, engine) is down (503)
"""

from __future__ import annotations

from typing import Any


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


class NotFound(NagovoriError):
    """The resource does not exist, or belongs to someone else."""

    code = "not_found"
    default_message = "Not found."


class Conflict(NagovoriError):
    """The resource's current state forbids the operation."""

    code = "conflict"
    default_message = "The resource is in a state that does not allow this."


class PayloadTooLarge(NagovoriError):
    """The body is over the configured size limit."""

    code = "payload_too_large"
    default_message = "The file is too large."


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


class RateLimited(NagovoriError):
    """Over ``RATE_LIMIT_PER_MINUTE``; ``retry_after`` says when to come back."""

    code = "rate_limited"
    default_message = "Too many requests."


class ServiceUnavailable(NagovoriError):
    """A dependency is down; the request may succeed later."""

    code = "service_unavailable"
    default_message = "The service is temporarily unavailable; try again shortly."
