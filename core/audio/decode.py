"""Streaming decode of any audio/video file to float32 PCM at a fixed rate.

``decode_pcm`` reads the file packet by packet and yields chunks of about ``chunk_seconds``, so a
two-hour recording never sits in memory as a whole. Video files decode their first audio track.
Whether the audio was all silence is only known at the end, so the "silent" AudioError is raised
after the last chunk has been yielded.

Damaged input: FFmpeg's decoders skip a corrupt frame on their own; a packet they refuse is skipped
here too (as the ``ffmpeg`` command line does). A file cut short therefore decodes cleanly to the
audio it still holds; only when nothing at all decodes is it an AudioError "truncated".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Literal

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

from core.audio._input import AudioSource, as_stream, open_audio
from core.audio.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
SILENCE_PEAK = 10 ** (-60 / 20)
"""Peak amplitude (-60 dBFS) below which the whole stream counts as silent."""

Channels = Literal["mix", "split"]


class _Resampler:
    """av.AudioResampler that tolerates inputs whose format, layout or rate change mid-stream."""

    def __init__(self, rate: int, layout: str) -> None:
        self._rate = rate
        self._layout = layout
        self._key: tuple[str, str, int] | None = None
        self._inner: AudioResampler | None = None

    def _make(self) -> AudioResampler:
        return AudioResampler(format="fltp", layout=self._layout, rate=self._rate)

    def resample(self, frame: AudioFrame) -> list[np.ndarray]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        out: list[np.ndarray] = []
        if key != self._key:
            # A resampler is bound to its first frame's parameters: flush it, start another.
            out = self.flush()
            self._inner, self._key = self._make(), key
        assert self._inner is not None
        frame.pts = None  # timestamps are irrelevant here and gaps would make the filter pad
        out.extend(f.to_ndarray() for f in self._inner.resample(frame))
        return out

    def flush(self) -> list[np.ndarray]:
        if self._inner is None:
            return []
        out = [f.to_ndarray() for f in self._inner.resample(None)]
        self._inner = None
        return out


def decode_pcm(
    path: AudioSource,
    *,
    sample_rate: int = SAMPLE_RATE,
    channels: Channels = "mix",
    chunk_seconds: float = 30.0,
) -> Iterator[np.ndarray]:
    """Yield float32 PCM in [-1, 1] in chunks of ~``chunk_seconds`` (the last one shorter).

    ``channels="mix"`` gives mono chunks of shape ``(n,)``; ``"split"`` gives ``(2, n)`` left/right
    (a mono input is duplicated). ``path`` may also be a readable binary file object.
    Raises AudioError (empty, not_audio, truncated, no_audio_stream, unsupported_format, and
    silent after the last chunk).
    """
    if channels not in ("mix", "split"):
        raise ValueError(f"channels must be 'mix' or 'split', not {channels!r}")
    if sample_rate <= 0 or chunk_seconds <= 0:
        raise ValueError("sample_rate and chunk_seconds must be positive")
    chunk_samples = max(1, round(chunk_seconds * sample_rate))
    return _decode(path, sample_rate, channels, chunk_samples)


def _decode(
    source: AudioSource, sample_rate: int, channels: Channels, chunk_samples: int
) -> Iterator[np.ndarray]:
    with open_audio(source) as (container, stream):
        stereo_in = (stream.codec_context.channels or 1) >= 2
        # Mix down ourselves (a mean) rather than through swresample, whose stereo->mono matrix
        # sums at -3 dB and can leave [-1, 1]; mono is duplicated for "split" for the same reason.
        resampler = _Resampler(sample_rate, "stereo" if stereo_in else "mono")
        chunker = _Chunker(channels, chunk_samples)
        frames = _Frames(container, stream)
        for frame in frames:
            yield from chunker.take(resampler.resample(frame))
        if frames.gave_up is not None:
            # The demuxer gave up (a cut-off or corrupt container). Keep what was decoded, if any.
            if chunker.total == 0:
                raise AudioError(
                    "The audio is damaged or cut off and cannot be decoded.", reason="truncated"
                ) from frames.gave_up
            log.warning(
                "audio ends early after %.1f s (%s); keeping it", chunker.total / sample_rate, frames.gave_up
            )
        yield from chunker.take(resampler.flush())
        if frames.bad_packets and chunker.total:
            log.warning("skipped %d corrupt audio packets", frames.bad_packets)
        yield from chunker.rest()
        _check_heard(chunker, frames.bad_packets)


class _Frames:
    """The stream's decoded frames. A packet the decoder refuses is skipped and counted; when the
    demuxer itself gives up, iteration ends and ``gave_up`` holds why."""

    def __init__(self, container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> None:
        self._container = container
        self._stream = stream
        self.bad_packets = 0
        self.gave_up: av.FFmpegError | None = None

    def __iter__(self) -> Iterator[AudioFrame]:
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    self.bad_packets += 1  # one corrupt packet should not cost the whole recording
                    continue
                yield from frames
        except av.FFmpegError as exc:
            self.gave_up = exc


class _Chunker:
    """Shapes resampled blocks to the requested channels and cuts them into equal chunks, noting
    the total length and the peak on the way."""

    def __init__(self, channels: Channels, chunk_samples: int) -> None:
        self._channels = channels
        self._chunk_samples = chunk_samples
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self.total = 0
        self.peak = 0.0

    def take(self, blocks: list[np.ndarray]) -> Iterator[np.ndarray]:
        for raw in blocks:
            if raw.shape[-1] == 0:
                continue
            block = self._shape(raw)
            self.peak = max(self.peak, float(np.max(np.abs(block))))
            self._pending.append(block)
            self._pending_n += block.shape[-1]
            self.total += block.shape[-1]
        while self._pending_n >= self._chunk_samples:
            joined = np.concatenate(self._pending, axis=-1)
            yield joined[..., : self._chunk_samples]
            rest = joined[..., self._chunk_samples :]
            self._pending, self._pending_n = ([rest] if rest.shape[-1] else []), rest.shape[-1]

    def rest(self) -> Iterator[np.ndarray]:
        if self._pending_n:
            yield np.concatenate(self._pending, axis=-1)

    def _shape(self, block: np.ndarray) -> np.ndarray:
        if self._channels == "mix":
            block = block[0] if block.shape[0] == 1 else block.mean(axis=0, dtype=np.float32)
        elif block.shape[0] == 1:
            block = np.repeat(block, 2, axis=0)
        # Resampling can overshoot a full-scale input slightly.
        return np.clip(block, -1.0, 1.0, dtype=np.float32)


def _check_heard(chunker: _Chunker, bad_packets: int) -> None:
    """After the last chunk: nothing decoded, or nothing but silence, is an AudioError."""
    if chunker.total == 0:
        if bad_packets:
            raise AudioError("The audio is damaged and cannot be decoded.", reason="truncated")
        raise AudioError("The file contains no audio samples.", reason="empty")
    if chunker.peak < SILENCE_PEAK:
        raise AudioError(
            "The audio is silent (no sound above -60 dBFS): there is nothing to transcribe.",
            reason="silent",
            peak_dbfs=round(float(20 * np.log10(chunker.peak)), 1) if chunker.peak > 0 else None,
        )


def read_pcm(path: AudioSource, *, sample_rate: int = SAMPLE_RATE, channels: Channels = "mix") -> np.ndarray:
    """The whole decoded signal as one array (for short clips; long files should stream)."""
    chunks = list(decode_pcm(path, sample_rate=sample_rate, channels=channels))
    return np.concatenate(chunks, axis=-1)


def pcm_from_bytes(data: bytes, *, sample_rate: int = SAMPLE_RATE, channels: Channels = "mix") -> np.ndarray:
    """Decode an in-memory file (e.g. a Telegram voice note) the same way as ``read_pcm``."""
    if not data:
        raise AudioError("The file is empty (0 bytes).", reason="empty")
    return read_pcm(as_stream(data), sample_rate=sample_rate, channels=channels)
