"""Opening an input container for reading, with FFmpeg's failures translated to AudioError.

Shared by ``probe`` and ``decode``: both need the same checks (empty file, not media, no audio
track, no decoder) and the same wording for them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import av
from av.audio.stream import AudioStream
from av.container import InputContainer

from core.audio.errors import AudioError

AudioSource = str | Path | IO[bytes]
"""A path on disk or a readable binary file object (e.g. ``io.BytesIO``)."""

# Leading bytes of the containers we accept. A file that starts like one of these but that FFmpeg
# cannot open is reported as damaged ("truncated") rather than as "not audio".
_SIGNATURES: tuple[bytes, ...] = (
    b"RIFF",  # WAV
    b"fLaC",  # FLAC
    b"OggS",  # OGG (Opus, Vorbis)
    b"ID3",  # MP3 with ID3v2 tag
    b"\x1a\x45\xdf\xa3",  # Matroska / WEBM
    b"FORM",  # AIFF
    b"#!AMR",  # AMR
)


def looks_like_media(head: bytes) -> bool:
    """True when ``head`` starts like a known audio/video container."""
    if head.startswith(_SIGNATURES):
        return True
    if len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):  # MP4/MOV/M4A
        return True
    # MPEG audio frame sync (MP3) or ADTS AAC: 11 set bits.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


def _read_head(source: AudioSource) -> bytes:
    """The first bytes of the source, leaving a file object where it was."""
    if isinstance(source, str | Path):
        with open(source, "rb") as fh:
            return fh.read(16)
    seekable = getattr(source, "seekable", None)
    if seekable is None or not seekable():
        return b"?"  # cannot peek without consuming; let FFmpeg decide
    pos = source.tell()
    head = source.read(16)
    source.seek(pos)
    return head


@contextmanager
def open_audio(source: AudioSource) -> Iterator[tuple[InputContainer, AudioStream]]:
    """Open ``source`` and pick its first audio stream; raise AudioError when that is impossible.

    A missing path raises the ordinary ``FileNotFoundError``: that is a storage problem, not bad
    audio.
    """
    if isinstance(source, str | Path) and not Path(source).is_file():
        raise FileNotFoundError(f"no such audio file: {source}")
    head = _read_head(source)
    if not head:
        raise AudioError("The file is empty (0 bytes).", reason="empty")
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except av.FFmpegError as exc:
        if looks_like_media(head):
            raise AudioError(
                "The file looks like audio or video but is damaged or incomplete; it cannot be opened.",
                reason="truncated",
            ) from exc
        raise AudioError(
            "The file is not audio or video in a format we can read (e.g. MP3, OGG/Opus, WAV, FLAC, "
            "M4A, WEBM, MP4).",
            reason="not_audio",
        ) from exc
    try:
        if not container.streams.audio:
            kind = "video" if container.streams.video else "file"
            raise AudioError(f"The {kind} has no audio track.", reason="no_audio_stream")
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise AudioError(
                f"The audio codec {stream.codec.name if stream.codec else 'of this file'} is not supported.",
                reason="unsupported_format",
            )
        yield container, stream
    finally:
        container.close()


def as_stream(data: bytes) -> IO[bytes]:
    """Wrap bytes in a file object PyAV can read."""
    return io.BytesIO(data)
