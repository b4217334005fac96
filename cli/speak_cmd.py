"""``nagovori speak TEXT|- -o FILE``: text to speech on this machine.

The text comes from the argument or, with ``-``, from stdin. Audio is written sentence by sentence
as it is synthesized (to ``FILE.part``, renamed into place when complete), or streamed to stdout
with ``-o -``. The format comes from ``--format``, else from the file's extension, else MP3. A
summary line (duration, engine, voice) goes to stderr.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cli.engine_config import tts_config
from cli.paths import output_file
from core.audio.encode import FORMATS, StreamingEncoder, check_format, encode_to_file
from core.settings import Settings
from tts.base import SpeechChunk
from tts.errors import EngineFailure
from tts.registry import TtsEngines
from tts.synthesize import synthesize
from tts.voices import DEFAULT_VOICE, VOICE_IDS

_EXTENSION_FORMATS = {
    ".mp3": "mp3",
    ".ogg": "opus",
    ".opus": "opus",
    ".oga": "opus",
    ".aac": "aac",
    ".flac": "flac",
    ".wav": "wav",
    ".pcm": "pcm",
    ".raw": "pcm",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("speak", help="synthesize speech from text into an audio file")
    parser.add_argument("text", help="the text to speak (up to 5000 characters), or - to read stdin")
    parser.add_argument("-o", "--output", required=True, help="audio file to write, or - for stdout")
    parser.add_argument(
        "--engine", help="silero or espeak, or a model id from `models list` (default: NAGOVORI_TTS_ENGINE)"
    )
    parser.add_argument(
        "--voice", default=DEFAULT_VOICE, help=f"one of {', '.join(VOICE_IDS)} (default: alloy)"
    )
    parser.add_argument("--language", default="auto", help="auto (default), ru or en")
    parser.add_argument("--speed", type=float, default=1.0, help="0.25 to 4.0 (default: 1.0)")
    parser.add_argument(
        "--format", choices=FORMATS, help="audio format (default: from the file extension, else mp3)"
    )
    parser.set_defaults(func=run)


def output_format(output: str, fmt: str | None) -> str:
    """The chosen format, else the one the extension names, else mp3."""
    if fmt:
        return check_format(fmt)
    return _EXTENSION_FORMATS.get(Path(output).suffix.lower(), "mp3") if output != "-" else "mp3"


def run(args: argparse.Namespace, settings: Settings) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    fmt = output_format(args.output, args.format)
    if args.output != "-":
        output_file(Path(args.output))  # before any synthesis: a folder or a missing one says so
    engines = TtsEngines(tts_config(settings))
    engine = engines.get(args.engine)
    # Validation (text, voice, language, speed) happens here, before anything is written.
    chunks = synthesize(engine, text, voice=args.voice, language=args.language, speed=args.speed)
    first = next(chunks, None)
    if first is None:
        raise EngineFailure("The engine produced no audio for this text.")
    rate = first.sample_rate
    pcm = _pcm(itertools.chain([first], chunks), rate)
    if args.output == "-":
        seconds = _to_stdout(pcm, rate, fmt)
    else:
        seconds = encode_to_file(pcm, rate, fmt, Path(args.output))
    where = "stdout" if args.output == "-" else args.output
    print(
        f"{where}: {seconds:.1f} s of speech ({fmt}, {engine.name}, voice {args.voice})",
        file=sys.stderr,
    )
    return 0


def _pcm(chunks: Iterator[SpeechChunk], rate: int) -> Iterator[np.ndarray]:
    for chunk in chunks:
        if chunk.sample_rate != rate:
            raise EngineFailure(f"The engine changed sample rate mid-text ({rate} → {chunk.sample_rate} Hz).")
        yield chunk.pcm


def _to_stdout(pcm: Iterator[np.ndarray], rate: int, fmt: str) -> float:
    out = sys.stdout.buffer
    with StreamingEncoder(fmt, rate) as encoder:
        for block in pcm:
            out.write(encoder.feed(block))
            out.flush()  # a listener downstream hears each sentence as soon as it is ready
        out.write(encoder.close())
    out.flush()
    return encoder.duration_seconds
