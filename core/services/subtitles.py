"""A finished transcription rendered as subtitles (SRT, WebVTT) or plain text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asr.base import Segment, Word
from asr.formats import to_srt, to_vtt
from core.db.models import TranscriptionJob
from core.errors import Conflict, InvalidInput
from core.jobs.states import JobStatus

FORMATS = ("srt", "vtt", "txt")
CONTENT_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain"}


def segments_of(job: TranscriptionJob) -> list[Segment]:
    """The job's stored segments (JSON rows) as the engines' ``Segment`` values."""
    return [_segment(row) for row in job.segments or ()]


def render(job: TranscriptionJob, fmt: str, *, max_chars_per_line: int = 42, max_lines: int = 2) -> str:
    """The completed job as ``fmt``; Conflict while it is not completed."""
    if fmt not in FORMATS:
        raise InvalidInput(
            f"Unknown subtitle format '{fmt}'; use one of: {', '.join(FORMATS)}.", field="format"
        )
    if job.status != JobStatus.COMPLETED:
        raise Conflict(
            f"The transcription is {job.status}; subtitles exist once it is completed.", status=job.status
        )
    if fmt == "txt":
        return (job.transcript_text or "") + "\n"
    render_fn = to_srt if fmt == "srt" else to_vtt
    try:
        return render_fn(segments_of(job), max_chars_per_line=max_chars_per_line, max_lines=max_lines)
    except ValueError as exc:  # asr's InvalidOption: limits out of range
        raise InvalidInput(str(exc), **getattr(exc, "details", {})) from exc


def _segment(row: dict[str, Any]) -> Segment:
    return Segment(
        start=float(row.get("start", 0.0)),
        end=float(row.get("end", 0.0)),
        text=str(row.get("text", "")),
        words=tuple(_words(row.get("words") or ())),
        speaker=row.get("speaker"),
    )


def _words(rows: Iterable[dict[str, Any]]) -> Iterable[Word]:
    for w in rows:
        yield Word(
            start=float(w.get("start", 0.0)),
            end=float(w.get("end", 0.0)),
            text=str(w.get("text", w.get("word", ""))),
            probability=w.get("probability"),
        )
