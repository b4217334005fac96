"""What is in a media file: duration, format, codec, rate, channels, video — without decoding it.

The duration comes from the container header when it has one (WAV, FLAC, MP3 with a Xing header,
OGG, MP4). Streams that do not record it (a WEBM from a browser's MediaRecorder, some raw streams)
are decoded once, frame by frame, and their samples counted; nothing is kept in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition

from core.audio._input import AudioSource, open_audio
from core.audio.errors import AudioError

# Raw elementary streams: FFmpeg only *estimates* their duration from the bit rate, which is off
# by several percent, so their packets are counted instead (cheap: no decoding).
_ESTIMATED_FORMATS = frozenset({"aac", "ac3", "eac3", "dts", "truehd"})


@dataclass(frozen=True)
class AudioInfo:
    """The facts about a media file that billing, limits and the API need."""

    duration_seconds: float
    format_name: str
    """FFmpeg's demuxer name, e.g. "wav", "mp3", "ogg", "flac", "matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2"."""
    codec: str
    """The audio codec, e.g. "mp3", "opus", "aac", "flac", "pcm_s16le"."""
    sample_rate: int
    channels: int
    has_video: bool
    """True when a real video track is present (cover art in an MP3 does not count)."""
    bit_rate: int | None


def probe(path: AudioSource) -> AudioInfo:
    """Describe ``path`` (a path or a readable binary file object); raise AudioError when unusable."""
    with open_audio(path) as (container, stream):
        estimated = container.format.name in _ESTIMATED_FORMATS
        duration = None if estimated else _header_duration(container, stream)
        if duration is None:
            duration = _counted_duration(container, stream)
        ctx = stream.codec_context
        has_video = any(not (v.disposition & Disposition.attached_pic) for v in container.streams.video)
        return AudioInfo(
            duration_seconds=duration,
            format_name=container.format.name,
            codec=ctx.codec.canonical_name,
            sample_rate=ctx.sample_rate or stream.rate or 0,
            channels=ctx.channels,
            has_video=has_video,
            bit_rate=container.bit_rate or ctx.bit_rate or None,
        )


def _header_duration(container: InputContainer, stream: AudioStream) -> float | None:
    """The duration the container declares, or None when it declares none."""
    if stream.duration and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _counted_duration(container: InputContainer, stream: AudioStream) -> float:
    """Walk the audio track once and add up its length, holding nothing in memory.

    A packet that states its duration is counted without decoding; one that does not is decoded
    and its samples counted (including the empty flush packets PyAV yields at the end, which
    drain the decoder's delay).
    """
    seconds = 0.0
    try:
        for packet in container.demux(stream):
            if packet.duration and packet.time_base is not None:
                seconds += float(packet.duration * packet.time_base)
                continue
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue  # a corrupt packet: the decoder skips it, so do we
            seconds += sum(frame.samples / frame.sample_rate for frame in frames)
    except av.FFmpegError as exc:
        if seconds == 0:
            raise AudioError(reason="truncated") from exc
    if seconds == 0:
        raise AudioError("The file contains no audio samples.", reason="empty")
    return seconds
