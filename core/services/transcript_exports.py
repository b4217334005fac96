"""A finished transcription as files a person downloads: TXT, SRT and VTT (``subtitles.render``)
and JSON (text, language, duration and timed segments), with a file name taken from the upload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from asr.base import PRESETS as ENGINE_PRESETS
from core.db.models import TranscriptionJob
from core.errors import Conflict, InvalidInput
from core.jobs.states import JobStatus
from core.services import subtitles

FORMATS = ("txt", "srt", "vtt", "json")
PRESETS: tuple[str, ...] = tuple(ENGINE_PRESETS)  # what ``request_transcription`` accepts


@dataclass(frozen=True)
class ExportFile:
    """One download: its text, media type and a file name."""

    text: str
    content_type: str
    filename: str


def export(job: TranscriptionJob, fmt: str) -> ExportFile:
    """The completed job as ``fmt`` (InvalidInput for an unknown format, Conflict while unfinished)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown format '{fmt}'; use one of: {', '.join(FORMATS)}.", field="format")
    stem = _stem(job)
    if fmt == "json":
        if job.status != JobStatus.COMPLETED:
            raise Conflict(
                f"The transcription is {job.status}; files exist once it is completed.", status=job.status
            )
        body = json.dumps(as_json(job), ensure_ascii=False, indent=2) + "\n"
        return ExportFile(body, "application/json", f"{stem}.json")
    return ExportFile(subtitles.render(job, fmt), subtitles.CONTENT_TYPES[fmt], f"{stem}.{fmt}")


def as_json(job: TranscriptionJob) -> dict[str, Any]:
    """The transcript with its timed segments (the words too, when the engine gave them)."""
    return {
        "id": job.id,
        "filename": job.filename,
        "language": job.detected_language or job.language,
        "duration_seconds": job.duration_seconds,
        "text": job.transcript_text or "",
        "segments": [
            {
                "start": segment.start,
                "end": segment.end,
                "text": segment.text,
                **({"speaker": segment.speaker} if segment.speaker else {}),
                **(
                    {"words": [{"start": w.start, "end": w.end, "text": w.text} for w in segment.words]}
                    if segment.words
                    else {}
                ),
            }
            for segment in subtitles.segments_of(job)
        ],
    }


def _stem(job: TranscriptionJob) -> str:
    """The upload's name without its extension, safe inside a Content-Disposition header."""
    name = (job.filename or "").rsplit(".", 1)[0]
    safe = "".join(c if c.isalnum() or c in "-_. " else "_" for c in name).strip(" .")
    return safe[:100] or f"transcript-{job.id}"
