"""Text-to-speech: voices, the synthesis request, jobs, download links."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import QueryParams, RequestBody, Timestamp, job_fields
from api.schemas.webhooks import CALLBACK_URL_DESCRIPTION
from core.services.speech import SpeechJob, speech_notice

AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
Status = Literal["queued", "processing", "completed", "failed", "cancelled"]


class Voice(BaseModel):
    id: str
    name: str
    gender: str
    description: str
    languages: list[str]


class VoiceList(BaseModel):
    voices: list[Voice]
    default: str = Field(examples=["alloy"])


class CreateSpeech(RequestBody):
    """Text to synthesize. Russian stress marks (a combining acute, U+0301, after the vowel) are kept."""

    text: str = Field(min_length=1, max_length=5000, description="Text to synthesize (max 5000 characters)")
    voice: str = Field(
        "alloy",
        min_length=1,
        max_length=32,
        description="Voice ID (GET /v1/tts/voices), or an OpenAI voice name (coral, sage, …) mapped onto one",
    )
    format: AudioFormat = Field("mp3", description="Audio format of the result")
    speed: float = Field(1.0, ge=0.25, le=4.0)
    language: Literal["auto", "ru", "en"] = Field("auto", description='"auto": from the text\'s script')
    callback_url: str | None = Field(
        None, min_length=1, max_length=2048, description=CALLBACK_URL_DESCRIPTION
    )


class SpeechJobView(BaseModel):
    """A synthesis job; the audio is fetched through ``GET /v1/tts/{id}/download``."""

    id: str
    object: Literal["tts_job"] = "tts_job"
    status: Status
    progress: float
    text: str
    voice: str
    format: str
    speed: float
    language: str | None
    streamed: bool = Field(description="Created by POST /v1/tts/stream")
    audio_seconds: float | None
    billed_seconds: int | None = Field(
        description="ceil(audio_seconds): speech is billed by the audio produced"
    )
    truncated: bool = Field(
        False,
        description="A stream that ended before the text did (the balance ran out, or the server "
        "stopped): `audio_seconds` is what was sent, and all that was billed",
    )
    notice: str | None = Field(
        None, description="Why a completed job's audio is partial, in words for people"
    )
    audio_expired: bool = Field(
        False,
        description="The audio was deleted after the retention period (`RETENTION_DAYS`): the "
        "download answers 410; the text stays",
    )
    error_code: str | None
    error_message: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None


class SpeechJobEnvelope(BaseModel):
    job: SpeechJobView


class SpeechJobList(BaseModel):
    items: list[SpeechJobView]
    count: int
    limit: int
    offset: int


class ListSpeech(QueryParams):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=1_000_000)


class DownloadLink(BaseModel):
    url: str = Field(json_schema_extra={"format": "uri"}, description="A signed URL; GET it without a key")
    expires_at: Timestamp
    content_type: str


def speech_view(job: SpeechJob) -> SpeechJobView:
    return SpeechJobView(
        **job_fields(job),
        text=job.text or "",
        voice=job.voice or "alloy",
        format=job.audio_format or "mp3",
        speed=job.speed or 1.0,
        language=job.language,
        streamed=bool((job.options or {}).get("stream")),
        audio_seconds=round(job.audio_seconds, 3) if job.audio_seconds is not None else None,
        billed_seconds=job.billed_seconds,
        truncated=bool(job.truncated),
        notice=speech_notice(job),
    )
