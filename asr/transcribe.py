"""The one call the worker, the CLI and the bots make: audio in, a finished transcript out.

``transcribe_audio`` runs an engine over a stream, applies the preset to every segment as it
comes, reports progress (the share of the audio recognized so far) through ``on_segment``, and
returns the whole result. With ``channels="split"`` the left and right channels of a call are
recognized one after the other and merged by time under the two speaker labels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from asr.base import AsrEngine, Segment, TranscriptionInfo, TranscriptionOptions
from asr.errors import InvalidOption
from asr.presets import apply_preset

Channels = Literal["mix", "split"]
OpenAudio = Callable[[Channels], Iterable[np.ndarray]]
OnSegment = Callable[[Segment, float], None]


@dataclass(frozen=True)
class TranscriptResult:
    """A finished transcription."""

    text: str
    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration: float


def transcribe_audio(
    engine: AsrEngine,
    open_audio: OpenAudio,
    *,
    duration: float,
    options: TranscriptionOptions,
    channels: Channels = "mix",
    speaker_labels: tuple[str, str] = ("Speaker 1", "Speaker 2"),
    on_segment: OnSegment | None = None,
) -> TranscriptResult:
    """Transcribe the audio ``open_audio(channels)`` yields (mono ``(n,)`` or stereo ``(2, n)`` chunks).

    ``on_segment(segment, fraction)`` is called for every final segment, with the fraction of
    the audio (0–1) recognized so far. ``duration`` is the audio's length in seconds (from the
    probe), used for progress and reported back in the result.
    """
    if channels == "mix":
        info, segments = _run(engine, open_audio("mix"), duration, options, None, on_segment, (0.0, 1.0))
        text = " ".join(s.text for s in segments)
        return TranscriptResult(text, tuple(segments), info.language, info.language_probability, duration)
    if channels != "split":
        raise InvalidOption(f"channels must be 'mix' or 'split', not {channels!r}.")
    labels = tuple(str(label).strip() for label in speaker_labels)
    if len(labels) != 2 or not all(labels) or labels[0] == labels[1]:
        raise InvalidOption("speaker_labels must be two different, non-empty names.")
    left_watch = _Channel(open_audio("split"), 0)
    left_info, left = _run(engine, left_watch, duration, options, labels[0], on_segment, (0.0, 0.5))
    right_info, right = left_info, list[Segment]()
    if not left_watch.same_as_other:
        # A mono file decoded as "split" gives the same samples twice: transcribing it again would
        # only duplicate every line, so the second pass runs only for real stereo.
        right_watch = _Channel(open_audio("split"), 1)
        right_info, right = _run(engine, right_watch, duration, options, labels[1], on_segment, (0.5, 1.0))
    merged = sorted(left + right, key=lambda s: (s.start, s.end, s.speaker != labels[0]))
    info = left_info if left or not right else right_info
    return TranscriptResult(
        _dialogue(merged), tuple(merged), info.language, info.language_probability, duration
    )


def _run(
    engine: AsrEngine,
    audio: Iterable[np.ndarray],
    duration: float,
    options: TranscriptionOptions,
    speaker: str | None,
    on_segment: OnSegment | None,
    span: tuple[float, float],
) -> tuple[TranscriptionInfo, list[Segment]]:
    info, segments = engine.transcribe(audio, duration=duration, options=options)
    kept: list[Segment] = []
    done = span[0]
    for raw in segments:
        segment = apply_preset(raw, options.preset, options.terms)
        if segment is None:
            continue
        if speaker is not None:
            segment = replace(segment, speaker=speaker)
        kept.append(segment)
        share = min(1.0, segment.end / duration) if duration > 0 else 0.0
        done = max(done, span[0] + (span[1] - span[0]) * share)
        if on_segment is not None:
            on_segment(segment, round(done, 4))
    return info, kept


def _dialogue(segments: list[Segment]) -> str:
    """One line per turn: "Speaker 1: ..." with consecutive segments of a speaker joined."""
    lines: list[tuple[str | None, list[str]]] = []
    for segment in segments:
        if lines and lines[-1][0] == segment.speaker:
            lines[-1][1].append(segment.text)
        else:
            lines.append((segment.speaker, [segment.text]))
    return "\n".join(f"{speaker}: {' '.join(texts)}" for speaker, texts in lines)


class _Channel:
    """One row of a stereo stream, noting whether the other row was identical throughout."""

    def __init__(self, audio: Iterable[np.ndarray], index: int) -> None:
        self._audio = audio
        self._index = index
        self.same_as_other = True

    def __iter__(self) -> Iterator[np.ndarray]:
        for chunk in self._audio:
            array = np.asarray(chunk)
            if array.ndim != 2 or array.shape[0] != 2:
                raise InvalidOption(f"channels='split' needs (2, n) stereo chunks, not {array.shape}.")
            if self.same_as_other and not np.array_equal(array[0], array[1]):
                self.same_as_other = False
            yield np.ascontiguousarray(array[self._index], dtype=np.float32)
