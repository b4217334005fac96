"""Encoding mono float32 PCM to the formats we serve, whole or as a live stream.

    fmt    container / codec               used for
    mp3    MP3 / libmp3lame, 64 kb/s       /v1/tts/stream, downloads
    opus   OGG / libopus 48 kHz, 32 kb/s   Telegram voice notes
    aac    ADTS / aac, 64 kb/s             clients that want AAC
    flac   FLAC / flac (s16)               lossless
    wav    WAV / pcm_s16le                 lossless, universal
    pcm    raw s16le, no header            realtime consumers

``StreamingEncoder`` writes into an unseekable in-memory sink and hands back whatever the muxer has
written after each ``feed``, so an HTTP response can start after the first sentence. Because the
sink cannot seek, a streamed WAV carries the usual "unknown length" sizes (0xFFFFFFFF) and a
streamed FLAC has no total-samples count; ``encode`` and ``encode_to_file`` write seekable targets
and get exact headers.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.audio.stream import AudioStream

from core.errors import InvalidInput

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
CONTENT_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/L16",
}
FILE_EXTENSIONS: dict[str, str] = {
    "mp3": ".mp3",
    "opus": ".ogg",
    "aac": ".aac",
    "flac": ".flac",
    "wav": ".wav",
    "pcm": ".pcm",
}


@dataclass(frozen=True)
class _Spec:
    container: str
    codec: str
    bit_rate: int | None = None
    rate: int | None = None  # a rate the format requires, whatever the input's
    stream_options: tuple[tuple[str, str], ...] = ()  # container options for live streaming


_SPECS: dict[str, _Spec] = {
    "mp3": _Spec("mp3", "libmp3lame", 64_000),
    # 100 ms OGG pages instead of the default 1 s, so the first sentence leaves the muxer at once.
    "opus": _Spec("ogg", "libopus", 32_000, rate=48_000, stream_options=(("page_duration", "100000"),)),
    "aac": _Spec("adts", "aac", 64_000),
    "flac": _Spec("flac", "flac"),
    "wav": _Spec("wav", "pcm_s16le"),
}

PcmInput = np.ndarray | Iterable[np.ndarray]


def check_format(fmt: str) -> str:
    """``fmt`` itself when we can encode it; InvalidInput naming the allowed ones otherwise."""
    if fmt not in FORMATS:
        raise InvalidInput(
            f"Unknown audio format {fmt!r}; use one of: {', '.join(FORMATS)}.",
            field="format",
            allowed=list(FORMATS),
        )
    return fmt


def _mono_float(pcm: np.ndarray) -> np.ndarray:
    """Validate and normalise one block: 1-D float32 in [-1, 1] (int16 is scaled)."""
    block = np.asarray(pcm)
    if block.ndim == 2 and block.shape[0] == 1:
        block = block[0]
    if block.ndim != 1:
        raise InvalidInput(f"Expected mono PCM of shape (n,), got shape {block.shape}.")
    if block.dtype == np.int16:
        block = block.astype(np.float32) / 32768.0
    block = np.nan_to_num(block.astype(np.float32, copy=False), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(block, -1.0, 1.0)


def _blocks(pcm: PcmInput) -> Iterable[np.ndarray]:
    return [pcm] if isinstance(pcm, np.ndarray) else pcm


def _codec_rate(codec: str, wanted: int) -> int:
    """``wanted`` if the encoder takes it, else the closest rate above it (or the highest)."""
    rates = av.Codec(codec, "w").audio_rates
    if not rates or wanted in rates:
        return wanted
    above = [r for r in rates if r >= wanted]
    return min(above) if above else max(rates)


class _Muxer:
    """One PyAV output container with one mono audio stream; PyAV resamples and re-frames."""

    def __init__(self, target: Any, fmt: str, sample_rate: int, *, streaming: bool) -> None:
        spec = _SPECS[fmt]
        options = {"fflags": "+bitexact"}  # same input, same bytes (no random OGG serial, no tags)
        if streaming:
            options.update(spec.stream_options)
        self._container = av.open(target, mode="w", format=spec.container, container_options=options)
        rate = spec.rate or _codec_rate(spec.codec, sample_rate)
        stream = self._container.add_stream(spec.codec, rate=rate, layout="mono")
        assert isinstance(stream, AudioStream)
        self._stream = stream
        if spec.bit_rate:
            self._stream.bit_rate = spec.bit_rate
        self._in_rate = sample_rate
        self._pts = 0

    def write(self, block: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(block[None, :], format="flt", layout="mono")
        frame.sample_rate = self._in_rate
        frame.time_base = Fraction(1, self._in_rate)
        frame.pts = self._pts
        self._pts += block.shape[0]
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        if self._pts == 0:
            self._container.start_encoding()  # no audio at all: still write a valid, empty file
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()


class _Sink:
    """A write-only, unseekable file object whose contents are taken as they arrive."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


class StreamingEncoder:
    """Encode PCM fed piece by piece; each call returns the bytes ready so far."""

    def __init__(self, fmt: str, sample_rate: int) -> None:
        self._fmt = check_format(fmt)
        if sample_rate <= 0:
            raise InvalidInput(f"The sample rate must be positive, not {sample_rate}.")
        self._rate = sample_rate
        self._samples = 0
        self._closed = False
        self._sink = _Sink()
        self._muxer = None if fmt == "pcm" else _Muxer(self._sink, fmt, sample_rate, streaming=True)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self._fmt]

    @property
    def duration_seconds(self) -> float:
        """Seconds of audio fed so far (what billing charges for)."""
        return self._samples / self._rate

    def feed(self, pcm: np.ndarray) -> bytes:
        """Encode one block of mono PCM; return the bytes the muxer has written (may be b"")."""
        if self._closed:
            raise RuntimeError("feed() after close()")
        block = _mono_float(pcm)
        if block.size == 0:
            return b""
        self._samples += block.shape[0]
        if self._muxer is None:
            return (block * 32767.0).round().astype("<i2").tobytes()
        self._muxer.write(block)
        return self._sink.drain()

    def close(self) -> bytes:
        """Flush the encoder and write the container trailer; return the last bytes."""
        if self._closed:
            return b""
        self._closed = True
        if self._muxer is not None:
            self._muxer.close()
        return self._sink.drain()

    def __enter__(self) -> StreamingEncoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode(pcm: PcmInput, sample_rate: int, fmt: str) -> bytes:
    """Encode mono float32 PCM (an array or an iterable of chunks) to a complete file in memory."""
    check_format(fmt)
    out = io.BytesIO()
    _write(pcm, sample_rate, fmt, out)
    return out.getvalue()


def encode_to_file(pcm: PcmInput, sample_rate: int, fmt: str, path: str | Path) -> float:
    """Encode to ``path`` (written whole, then renamed into place); return the duration in seconds."""
    check_format(fmt)
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as fh:
            samples = _write(pcm, sample_rate, fmt, fh)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return samples / sample_rate


def _write(pcm: PcmInput, sample_rate: int, fmt: str, target: io.BufferedIOBase | io.BytesIO) -> int:
    """Encode into a seekable binary file object; return the number of samples written."""
    if sample_rate <= 0:
        raise InvalidInput(f"The sample rate must be positive, not {sample_rate}.")
    samples = 0
    if fmt == "pcm":
        for raw in _blocks(pcm):
            block = _mono_float(raw)
            samples += block.shape[0]
            target.write((block * 32767.0).round().astype("<i2").tobytes())
        return samples
    muxer = _Muxer(target, fmt, sample_rate, streaming=False)
    for raw in _blocks(pcm):
        block = _mono_float(raw)
        if block.size:
            samples += block.shape[0]
            muxer.write(block)
    muxer.close()
    return samples
