"""``nagovori transcribe FILE``: speech to text on this machine, the result alone on stdout.

The file is probed first (limits are checked before any recognition), decoded as a stream and
recognized by the chosen engine; a progress bar goes to stderr for files longer than 30 s.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

import numpy as np

from asr.base import PRESETS, Segment, TranscriptionOptions
from asr.formats import check_limits, to_json, to_srt, to_text, to_vtt
from asr.registry import ENGINES, AsrEngines
from asr.transcribe import TranscriptResult, transcribe_audio
from cli.engine_config import asr_config
from cli.paths import input_file
from core.audio import decode_pcm, probe
from core.errors import InvalidInput
from core.services.transcriptions import check_duration
from core.settings import Settings

FORMATS = ("text", "json", "srt", "vtt")
LONG_FILE_SECONDS = 30.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("transcribe", help="transcribe an audio or video file to stdout")
    parser.add_argument("file", type=Path, help="audio or video file (any common format)")
    parser.add_argument("--engine", choices=ENGINES, help="engine (default: NAGOVORI_ASR_ENGINE)")
    parser.add_argument("--model", help="model id or name, e.g. whisper-small, large-v3, vosk-ru")
    parser.add_argument("--language", default="auto", help="language code, or auto (default)")
    parser.add_argument("--languages", help="with auto: comma-separated languages to choose from")
    parser.add_argument("--preset", choices=PRESETS, default="default", help="post-processing preset")
    parser.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    parser.add_argument(
        "--channels",
        choices=("mix", "split"),
        default="mix",
        help="split: stereo call, one speaker per channel",
    )
    parser.add_argument(
        "--speakers", help='labels for --channels split, e.g. "AI,User" (default: Speaker 1,Speaker 2)'
    )
    parser.add_argument("--prompt", help="context to prime the recognizer (whisper)")
    parser.add_argument("--terms", help="comma-separated custom words and names, e.g. ComfyUI,Nagovori")
    parser.add_argument("--word-timestamps", action="store_true", help="include word times (json)")
    parser.add_argument("--translate", action="store_true", help="translate to English (whisper)")
    parser.add_argument("--max-chars-per-line", type=int, default=42, help="srt/vtt line width, 30-120")
    parser.add_argument("--max-lines", type=int, default=2, help="srt/vtt lines per cue, 1-4")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    path = input_file(args.file)
    check_limits(args.max_chars_per_line, args.max_lines)
    options = TranscriptionOptions(
        language=args.language,
        preset=args.preset,
        prompt=args.prompt,
        terms=_split(args.terms),
        word_timestamps=args.word_timestamps,
        task="translate" if args.translate else "transcribe",
        languages=_split(args.languages),
    )
    labels = _split(args.speakers) or ("Speaker 1", "Speaker 2")
    if len(labels) != 2:
        raise InvalidInput("--speakers takes exactly two comma-separated names.")
    info = probe(path)
    duration = info.duration_seconds
    check_duration(settings, duration)
    if args.channels == "split" and info.channels < 2:
        raise InvalidInput("--channels split needs a stereo recording; this file is mono.")
    engine = AsrEngines(asr_config(settings)).get(_model_id(args.engine or settings.asr_engine, args.model))
    bar = _ProgressBar(sys.stderr, duration) if duration >= LONG_FILE_SECONDS and not args.quiet else None

    def open_audio(channels: Literal["mix", "split"]) -> Iterator[np.ndarray]:
        return decode_pcm(path, channels=channels)

    result = transcribe_audio(
        engine,
        open_audio,
        duration=duration,
        options=options,
        channels=args.channels,
        speaker_labels=(labels[0], labels[1]),
        on_segment=bar.update if bar else None,
    )
    if bar:
        bar.finish()
    sys.stdout.write(_render(result, args.format, args.max_chars_per_line, args.max_lines))
    sys.stdout.flush()
    return 0


def _model_id(engine: str, model: str | None) -> str:
    """``--model large-v3`` (engine whisper) -> ``whisper-large-v3``; a full model id as given."""
    if not model:
        return engine
    if model in ENGINES or model.startswith(tuple(f"{name}-" for name in ENGINES)):
        return model
    return f"{engine}-{model}"


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _render(result: TranscriptResult, fmt: str, max_chars: int, max_lines: int) -> str:
    if fmt == "json":
        return json.dumps(to_json(result), ensure_ascii=False, indent=2) + "\n"
    if fmt == "srt":
        return to_srt(result.segments, max_chars_per_line=max_chars, max_lines=max_lines)
    if fmt == "vtt":
        return to_vtt(result.segments, max_chars_per_line=max_chars, max_lines=max_lines)
    text = to_text(result)
    return text + "\n" if text else ""


class _ProgressBar:
    """A one-line bar redrawn in place on a terminal, or a line per 10 % otherwise."""

    WIDTH = 30

    def __init__(self, stream: IO[str], duration: float) -> None:
        self._stream = stream
        self._duration = duration
        self._tty = stream.isatty()
        self._shown = -1

    def update(self, segment: Segment, fraction: float) -> None:
        percent = int(fraction * 100)
        if self._tty:
            filled = int(fraction * self.WIDTH)
            done = fraction * self._duration
            self._stream.write(
                f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {percent:3d}%  "
                f"{_clock(done)}/{_clock(self._duration)}"
            )
        elif percent // 10 > self._shown // 10:
            self._stream.write(f"transcribing: {percent}%\n")
        else:
            return
        self._shown = percent
        self._stream.flush()

    def finish(self) -> None:
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"
