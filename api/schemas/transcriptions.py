"""Transcription jobs: the create request, the job as clients see it, lists, ETA, subtitles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from api.schemas.common import QueryParams, RequestBody, Timestamp, job_fields
from api.schemas.webhooks import CALLBACK_URL_DESCRIPTION
from core.services.transcriptions import TranscriptionJob, truncation_notice

Status = Literal["queued", "processing", "completed", "failed", "cancelled"]
Preset = Literal["default", "verbatim", "remove_fillers", "concise"]
Task = Literal["transcribe", "translate"]
LANGUAGE_PATTERN = r"^(auto|[a-z]{2,3})$"


class CreateTranscription(RequestBody):
    """Start transcribing audio: exactly one of ``object_key`` (a file uploaded through
    ``POST /v1/uploads/presign``), ``audio_data`` (base64) or ``audio_url`` — or send the file itself
    as the ``file`` part of a ``multipart/form-data`` request with these fields as form fields."""

    object_key: str | None = Field(
        None, min_length=1, max_length=512, description="Object key from the presign response"
    )
    audio_data: str | None = Field(
        None,
        min_length=1,
        description="The file itself, base64 (standard alphabet; a `data:` URL prefix is accepted); "
        "up to `MAX_AUDIO_DATA_MB` decoded (10 MB by default)",
    )
    audio_url: str | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="An http(s) URL the server downloads the file from (public addresses only, up to "
        "the upload limit); the job fails with the reason if it cannot. Not with `wait`",
    )
    callback_url: str | None = Field(
        None, min_length=1, max_length=2048, description=CALLBACK_URL_DESCRIPTION
    )
    wait: bool = Field(
        False,
        description="Answer when the job has ended (200, the finished job) for audio up to "
        "`SYNC_MAX_SECONDS` (60 s) long, if it ends within `SYNC_TIMEOUT` (120 s); otherwise 202 "
        "with the job to poll",
    )
    filename: str | None = Field(None, max_length=255)
    content_type: str | None = Field(None, max_length=100, examples=["audio/mpeg"])
    size_bytes: int | None = Field(None, ge=0)
    duration_seconds: float | None = Field(
        None, ge=0, description="Informational: the server measures the file and bills what it measured"
    )
    language: str = Field(
        "auto", pattern=LANGUAGE_PATTERN, description='Language code or "auto" for detection'
    )
    model: str | None = Field(
        None,
        max_length=64,
        description="A model id from GET /v1/models (or an engine name); omitted: the server's default",
    )
    task: Task = Field(
        "transcribe",
        description='"translate": the text in English, whatever language is spoken (multilingual Whisper '
        "models only; others are a 400 `unsupported_task`). `language` then names the spoken language",
    )
    chunk_prompt_preset: Preset = "default"
    pricing_mode: Literal["free_test", "package"] | None = None
    source_channel: Literal["api", "web", "cli", "telegram"] = "api"
    prompt: str | None = Field(None, max_length=1000, description="Context that helps recognition (Whisper)")
    terms: list[str] = Field(
        default_factory=list, max_length=200, description="Words and names to recognize as spelt here"
    )
    word_timestamps: bool = False
    channels: Literal["mix", "split"] = Field(
        "mix", description='"split": a two-channel call, each channel its own speaker'
    )
    speaker_labels: list[str] | None = Field(
        None, min_length=1, max_length=2, description="Names of the two channels' speakers"
    )

    @field_validator("terms")
    @classmethod
    def _short_terms(cls, terms: list[str]) -> list[str]:
        if any(len(term) > 100 for term in terms):
            raise ValueError("each term has at most 100 characters")
        return terms

    @field_validator("speaker_labels")
    @classmethod
    def _short_labels(cls, labels: list[str] | None) -> list[str] | None:
        if labels is not None and any(not 0 < len(label.strip()) <= 50 for label in labels):
            raise ValueError("each speaker label has 1 to 50 characters")
        return labels


TRANSCRIPTION_FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The audio as the part `file`; any field of CreateTranscription as a form field "
    "(repeat `terms` for several)",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The audio file"},
        "language": {"type": "string", "pattern": LANGUAGE_PATTERN},
        "model": {"type": "string", "maxLength": 64},
        "task": {"type": "string", "enum": ["transcribe", "translate"]},
        "wait": {"type": "boolean"},
        "word_timestamps": {"type": "boolean"},
    },
}
"""``multipart/form-data`` of ``POST /v1/transcriptions`` (documentation; the fields are validated
as ``CreateTranscription``)."""


class Word(BaseModel):
    start: float
    end: float
    text: str
    probability: float | None = None


class Segment(BaseModel):
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] | None = None


class Transcription(BaseModel):
    """A transcription job and, once completed, its result."""

    id: str
    object: Literal["transcription"] = "transcription"
    status: Status
    progress: float = Field(description="0 to 1")
    filename: str | None
    content_type: str | None
    size_bytes: int | None
    duration_seconds: float | None
    language: str
    detected_language: str | None
    model: str | None
    task: Task = Field(description='"translate": the transcript is in English')
    chunk_prompt_preset: str
    source_channel: str
    pricing_mode: str | None
    word_timestamps: bool
    channels: str
    transcript_text: str | None
    segments: list[Segment] | None
    billed_seconds: int | None
    truncated: bool = Field(
        description="The balance ran out part-way: the transcript covers the first `duration_seconds` "
        "of the audio, which is what was billed"
    )
    notice: str | None = Field(description="Why a completed job is partial, in words for people")
    audio_expired: bool = Field(
        False,
        description="The uploaded audio was deleted after the retention period (`RETENTION_DAYS`); "
        "the transcript stays",
    )
    error_code: str | None
    error_message: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None


class TranscriptionList(BaseModel):
    items: list[Transcription]
    count: int = Field(description="All matching jobs, not only this page")
    limit: int
    offset: int


class ListTranscriptions(QueryParams):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)
    status: Status | None = None
    since: datetime | date | None = Field(
        None, alias="from", description="Created at or after (ISO date/time)"
    )
    until: datetime | date | None = Field(None, description="Created before (ISO date/time)")
    q: str | None = Field(None, min_length=1, max_length=200, description="Search in transcripts")


class TranscriptionEta(BaseModel):
    """Estimates from measured processing times of recent jobs."""

    job_id: str
    status: Status
    queue_position: int = Field(description="Jobs that start before this one (0 once processing)")
    estimated_wait_seconds: int = Field(description="Until processing starts")
    estimated_completion_seconds: int = Field(description="Until the transcript is ready")
    average_duration_seconds: int = Field(description="Mean processing time of recent jobs")
    realtime_factor: float | None = Field(description="Processing seconds per audio second, measured")
    based_on_jobs: int


class SubtitlesQuery(QueryParams):
    format: Literal["srt", "vtt", "txt"] = "srt"
    max_chars_per_line: int = Field(42, ge=30, le=120)
    max_lines: int = Field(2, ge=1, le=4)


def transcription_view(job: TranscriptionJob) -> Transcription:
    options: dict[str, Any] = job.options or {}
    return Transcription(
        **job_fields(job),
        filename=job.filename,
        content_type=job.content_type,
        size_bytes=job.size_bytes,
        duration_seconds=job.duration_seconds,
        language=job.language or "auto",
        detected_language=job.detected_language,
        model=job.model,
        task="translate" if options.get("task") == "translate" else "transcribe",
        chunk_prompt_preset=str(options.get("preset", "default")),
        source_channel=job.source,
        pricing_mode=options.get("pricing_mode"),
        word_timestamps=bool(options.get("word_timestamps", False)),
        channels=str(options.get("channels", "mix")),
        transcript_text=job.transcript_text,
        segments=[Segment.model_validate(s) for s in job.segments] if job.segments is not None else None,
        billed_seconds=job.billed_seconds,
        truncated=bool(job.truncated),
        notice=truncation_notice(job.duration_seconds) if job.truncated else None,
    )
