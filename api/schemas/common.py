"""Shapes shared by every area: timestamps, errors, the base model of request bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from core.services.speech import SpeechJob
from core.services.transcriptions import TranscriptionJob

# Aware UTC datetimes as ISO 8601 with an explicit offset ("2025-01-31T12:00:00.123456+00:00").
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# Control characters (NUL, escapes) and the bidi embeddings/overrides/isolates that make a name
# display as something else ("invoice\u202efdp.exe" reads "invoiceexe.pdf"). LRM/RLM stay allowed:
# right-to-left names need them.
_UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _safe_name(value: str) -> str:
    if _UNSAFE_IN_NAMES.search(value):
        raise ValueError("must not contain control characters or bidirectional overrides")
    return value


# A name people will read (of an account, a key, a company).
Name = Annotated[str, AfterValidator(_safe_name)]

JOB_STATUSES = ("queued", "processing", "completed", "failed", "cancelled")


class RequestBody(BaseModel):
    """Request bodies refuse unknown fields, so a misspelt option is a 400, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueryParams(BaseModel):
    """Query strings: unknown parameters are ignored (links and proxies add their own)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ErrorDetail(BaseModel):
    """``code`` is stable (switch on it); ``message`` is for people; more fields depend on the code
    (e.g. ``required_seconds``/``available_seconds`` for ``insufficient_minutes``)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(examples=["invalid_request"])
    message: str


class Error(BaseModel):
    """Every error of the native API."""

    error: ErrorDetail


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(examples=["invalid_request_error"])
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    """Errors of the OpenAI-compatible routes (``/v1/audio/*``), in OpenAI's shape."""

    error: OpenAIErrorDetail


class Balance(BaseModel):
    seconds: int
    minutes: float


def balance_of(seconds: int) -> Balance:
    return Balance(seconds=seconds, minutes=round(seconds / 60, 2))


def job_fields(job: TranscriptionJob | SpeechJob) -> dict[str, Any]:
    """What every view of a job shows of the job itself: id, state, progress, whether its audio
    expired, its error and its times (each view adds what its kind of job has)."""
    return {
        "id": job.id,
        "status": job.status,
        "progress": round(job.progress or 0.0, 4),
        "audio_expired": job.audio_expired_at is not None,
        "error_code": job.error_code,
        "error_message": job.error_message,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
    }


def dump(model: BaseModel) -> dict[str, Any]:
    """A response model as JSON-ready data."""
    return model.model_dump(mode="json")
