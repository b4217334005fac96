"""Output formats shared by the API, the bots and the CLI: text, JSON, SRT and WebVTT.

Subtitles wrap each segment into lines of at most ``max_chars_per_line`` characters (30–120,
default 42) and cues of at most ``max_lines`` lines (1–4, default 2). A segment too long for one
cue becomes several, timed by its word timestamps when it has them and by character share
otherwise. Lines within a cue are balanced, so a two-line cue is not one long line and a stub.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asr.base import Segment
from asr.errors import InvalidOption

if TYPE_CHECKING:
    from asr.transcribe import TranscriptResult

CHARS_RANGE = (30, 120)
LINES_RANGE = (1, 4)


@dataclass(frozen=True)
class Cue:
    """One subtitle: a time span and its lines."""

    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None


def to_text(result: TranscriptResult) -> str:
    """The plain transcript (speaker-labelled lines for a two-channel call)."""
    return result.text


def to_json(result: TranscriptResult) -> dict[str, Any]:
    """The transcript with its segments (and words, when recognized) as JSON-ready data."""
    return {
        "text": result.text,
        "language": result.language,
        "language_probability": round(result.language_probability, 4),
        "duration": round(result.duration, 3),
        "segments": [_segment_json(i, s) for i, s in enumerate(result.segments)],
    }


def to_srt(segments: Iterable[Segment], *, max_chars_per_line: int = 42, max_lines: int = 2) -> str:
    """SubRip subtitles; a speaker's name opens each of their cues ("Speaker 1: ...")."""
    blocks = []
    for number, cue in enumerate(captions(segments, max_chars_per_line, max_lines, label_width=True), 1):
        blocks.append(
            f"{number}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n" + "\n".join(cue.lines)
        )
    return "\n\n".join(blocks) + "\n" if blocks else ""


def to_vtt(segments: Iterable[Segment], *, max_chars_per_line: int = 42, max_lines: int = 2) -> str:
    """WebVTT subtitles; speakers become voice tags (``<v Speaker 1>``)."""
    parts = ["WEBVTT", ""]
    for cue in captions(segments, max_chars_per_line, max_lines, label_width=False):
        lines = [_escape(line) for line in cue.lines]
        if cue.speaker:
            lines[0] = f"<v {_escape(cue.speaker)}>{lines[0]}"
        parts.append(f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n" + "\n".join(lines) + "\n")
    return "\n".join(parts) + ("\n" if len(parts) == 2 else "")


def captions(
    segments: Iterable[Segment], max_chars_per_line: int = 42, max_lines: int = 2, *, label_width: bool = True
) -> list[Cue]:
    """Cut segments into cues that respect the line limits (see the module docstring)."""
    check_limits(max_chars_per_line, max_lines)
    cues: list[Cue] = []
    for segment in segments:
        tokens = segment.text.split()
        times = _token_times(segment, tokens)
        label = f"{segment.speaker}: " if segment.speaker and label_width else ""
        position = 0
        while position < len(tokens):
            rest = tokens[position:]
            if label:
                rest = [label + rest[0], *rest[1:]]
            count = _cue_size(rest, max_chars_per_line, max_lines)
            balanced = _balance(
                rest[:count], max_chars_per_line, len(_wrap(rest[:count], max_chars_per_line))
            )
            start, end = times[position][0], times[position + count - 1][1]
            position += count
            cues.append(
                Cue(
                    start,
                    max(end, start + 0.001),
                    tuple(" ".join(line) for line in balanced),
                    segment.speaker,
                )
            )
    return cues


def check_limits(max_chars_per_line: int, max_lines: int) -> None:
    """InvalidOption unless 30 <= max_chars_per_line <= 120 and 1 <= max_lines <= 4."""
    if not CHARS_RANGE[0] <= max_chars_per_line <= CHARS_RANGE[1]:
        raise InvalidOption(
            f"max_chars_per_line must be between {CHARS_RANGE[0]} and {CHARS_RANGE[1]}.",
            max_chars_per_line=max_chars_per_line,
        )
    if not LINES_RANGE[0] <= max_lines <= LINES_RANGE[1]:
        raise InvalidOption(
            f"max_lines must be between {LINES_RANGE[0]} and {LINES_RANGE[1]}.", max_lines=max_lines
        )


def _cue_size(tokens: Sequence[str], width: int, max_lines: int) -> int:
    """How many tokens the next cue takes: as many as fit, shared evenly with the cues still needed
    for the rest, so a segment does not end on a stub cue of one or two words."""
    lines = _wrap(tokens, width)
    fitting = sum(len(line) for line in lines[:max_lines])
    cues_needed = -(-len(lines) // max_lines)
    if cues_needed <= 1:
        return fitting
    target = sum(len(t) + 1 for t in tokens) / cues_needed
    taken, length = 0, 0
    while taken < fitting and (taken == 0 or length + len(tokens[taken]) + 1 <= target):
        length += len(tokens[taken]) + 1
        taken += 1
    return taken


def _wrap(tokens: Sequence[str], width: int) -> list[list[str]]:
    """Greedy wrapping; a single token wider than ``width`` gets a line of its own."""
    lines: list[list[str]] = []
    current: list[str] = []
    length = 0
    for token in tokens:
        extra = len(token) + (1 if current else 0)
        if current and length + extra > width:
            lines.append(current)
            current, length = [token], len(token)
        else:
            current.append(token)
            length += extra
    if current:
        lines.append(current)
    return lines


def _balance(tokens: Sequence[str], width: int, line_count: int) -> list[list[str]]:
    """The narrowest wrapping that still fits in ``line_count`` lines."""
    best = _wrap(tokens, width)
    narrowest = max(len(t) for t in tokens)
    for trial in range(narrowest, width):
        lines = _wrap(tokens, trial)
        if len(lines) <= line_count:
            return lines
    return best


def _token_times(segment: Segment, tokens: Sequence[str]) -> list[tuple[float, float]]:
    """(start, end) of each token: from word timings when they line up, else by character share."""
    if len(segment.words) == len(tokens):
        return [(w.start, w.end) for w in segment.words]
    total = sum(len(t) + 1 for t in tokens) or 1
    span = max(segment.end - segment.start, 0.0)
    times, position = [], 0
    for token in tokens:
        start = segment.start + span * position / total
        position += len(token) + 1
        times.append((start, segment.start + span * position / total))
    return times


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _segment_json(index: int, segment: Segment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": index,
        "start": round(segment.start, 3),
        "end": round(segment.end, 3),
        "text": segment.text,
    }
    if segment.speaker is not None:
        data["speaker"] = segment.speaker
    if segment.words:
        data["words"] = [
            {"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text, "probability": w.probability}
            for w in segment.words
        ]
    return data
