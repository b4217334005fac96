"""A corpus of bad uploads built from the shared clips: empty, cut off, random bytes, text with an
audio name, forged headers claiming hours, corrupt frames behind a good header, wrong extensions,
and an hour of silence. Each comes with what the platform must do with it."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.decode import read_pcm
from core.audio.encode import encode, encode_to_file

SPEECH = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
LONGER = "en/jfk.flac"  # 11 s


@dataclass(frozen=True)
class BadFile:
    """One upload and the outcome it must have.

    ``refused``: the HTTP status and error code when the job must not even be created;
    otherwise the job runs and ends ``job_status`` with ``error_code`` (failed) or is charged
    ``billed`` seconds (completed, from what the file really holds).
    """

    name: str
    data: bytes
    refused: tuple[int, str] | None = None
    reason: str | None = None  # AudioError's reason, when that is the error
    job_status: str | None = None
    error_code: str | None = None
    billed: int | None = None


def flac_claiming(pcm: np.ndarray, seconds: int) -> bytes:
    """A real FLAC of ``pcm`` whose STREAMINFO says it holds ``seconds`` of audio."""
    data = bytearray(encode(pcm, 16000, "flac"))
    assert data[:4] == b"fLaC"
    at = 8 + 10  # after the marker and block header: min/max block (4) and frame (6) sizes
    packed = int.from_bytes(data[at : at + 8], "big")
    total_mask = (1 << 36) - 1  # the last 36 bits: total samples
    packed = (packed & ~total_mask) | (seconds * 16000)
    data[at : at + 8] = packed.to_bytes(8, "big")
    return bytes(data)


def flac_metadata(data: bytes) -> bytes:
    """A FLAC file's marker and metadata blocks: everything before its first audio frame."""
    at = 4
    while True:
        last, length = data[at] & 0x80, int.from_bytes(data[at + 1 : at + 4], "big")
        at += 4 + length
        if last:
            return data[:at]


def wav_claiming(pcm: np.ndarray, seconds: int) -> bytes:
    """A WAV whose RIFF and data sizes claim ``seconds`` while it holds ``pcm`` only."""
    claimed = seconds * 16000 * 2
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + claimed)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
        + b"data"
        + struct.pack("<I", claimed)
    )
    return header + (np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes()


def corpus(shared_audio: Path) -> list[BadFile]:
    """Every bad upload except the hour of silence (see ``hour_of_silence``)."""
    speech = read_pcm(shared_audio / SPEECH)
    speech_seconds = math.ceil(speech.size / 16000)
    longer = (shared_audio / LONGER).read_bytes()
    noise = np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    invalid = (400, "invalid_audio")
    return [
        BadFile("empty.ogg", b"", refused=invalid, reason="empty"),
        BadFile("cut-in-header.flac", longer[:200], refused=invalid, reason="truncated"),
        BadFile("random.mp3", b"\x00" + noise, refused=invalid, reason="not_audio"),
        BadFile("shopping-list.mp3", b"milk, eggs, bread\n" * 200, refused=invalid, reason="not_audio"),
        # Over MAX_AUDIO_SECONDS (4 h) by its own account: refused before anything is held.
        BadFile("ten-hours.flac", flac_claiming(speech, 10 * 3600), refused=(400, "audio_too_long")),
        # A good header, then garbage where the frames should be: only the worker finds out.
        BadFile(
            "corrupt-frames.flac",
            flac_metadata(longer) + noise,
            job_status="failed",
            error_code="invalid_audio",
        ),
        # Claims three hours but holds 1.9 s: charged for what it holds.
        BadFile("three-hours.flac", flac_claiming(speech, 3 * 3600), job_status="completed", billed=2),
        BadFile("five-hours.wav", wav_claiming(speech, 5 * 3600), job_status="completed", billed=2),
        # Half a file: its header still announces the whole 11 s.
        BadFile("cut-in-half.flac", longer[: len(longer) // 2], job_status="completed", billed=6),
        # Wrong extensions: the content decides, not the name.
        BadFile(
            "speech.mp3",
            (shared_audio / SPEECH).read_bytes(),
            job_status="completed",
            billed=speech_seconds,
        ),
        BadFile("speech.wav", encode(speech, 16000, "opus"), job_status="completed", billed=speech_seconds),
    ]


def hour_of_silence(cache: Path) -> Path:
    """An hour of digital silence as FLAC (650 kB), built once into the test cache."""
    path = cache / "silence-1h.flac"
    if not path.exists():
        partial = path.with_suffix(".part.flac")
        encode_to_file(np.zeros(3600 * 16000, dtype=np.float32), 16000, "flac", partial)
        partial.rename(path)
    return path
