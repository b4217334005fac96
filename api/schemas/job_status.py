"""``GET /v1/transcriptions/{id}/status`` and ``GET /v1/tts/{id}/status``: a job's state and its
progress by stage, in percent (Prosa's shape; see ``core.services.job_status`` for what each means)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.services.job_status import StatusReport

Status = Literal["queued", "processing", "completed", "failed", "cancelled"]


class TranscriptionStages(BaseModel):
    transfer: float = Field(
        ge=0,
        le=100,
        description="The input reaching us: for an `audio_url` the share downloaded so far (when its "
        "server sends a Content-Length), 100 once the file is stored or being recognized",
    )
    transcribe: float = Field(ge=0, le=100, description="The share of the audio recognized so far")


class TranscriptionProgress(BaseModel):
    total: float = Field(ge=0, le=100, description="Both stages, transfer counting for a tenth")
    details: TranscriptionStages


class TranscriptionStatus(BaseModel):
    """A transcription's state without its transcript: cheap to poll."""

    id: str
    status: Status
    progress: TranscriptionProgress


class SpeechStages(BaseModel):
    synthesize: float = Field(ge=0, le=100, description="The share of the text synthesized so far")


class SpeechProgress(BaseModel):
    total: float = Field(ge=0, le=100)
    details: SpeechStages


class SpeechStatus(BaseModel):
    """A speech job's state without its text or audio: cheap to poll."""

    id: str
    status: Status
    progress: SpeechProgress


def transcription_status_view(report: StatusReport) -> TranscriptionStatus:
    return TranscriptionStatus.model_validate(_fields(report))


def speech_status_view(report: StatusReport) -> SpeechStatus:
    return SpeechStatus.model_validate(_fields(report))


def _fields(report: StatusReport) -> dict[str, object]:
    progress = {"total": report.total, "details": report.stages}
    return {"id": report.id, "status": report.status, "progress": progress}
