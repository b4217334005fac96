"""Audio I/O with PyAV: probe, streaming decode to PCM, and encode to the formats we serve.

Import from here (``from core.audio import decode_pcm, AudioError``); nothing is opened or built at
import time.
"""

from __future__ import annotations

from core.audio._input import looks_like_media
from core.audio.decode import SAMPLE_RATE, decode_pcm, pcm_from_bytes, read_pcm
from core.audio.encode import (
    CONTENT_TYPES,
    FILE_EXTENSIONS,
    FORMATS,
    StreamingEncoder,
    check_format,
    encode,
    encode_to_file,
)
from core.audio.errors import AudioError
from core.audio.probe import AudioInfo, probe

__all__ = [
    "CONTENT_TYPES",
    "FILE_EXTENSIONS",
    "FORMATS",
    "SAMPLE_RATE",
    "AudioError",
    "AudioInfo",
    "StreamingEncoder",
    "check_format",
    "decode_pcm",
    "encode",
    "encode_to_file",
    "looks_like_media",
    "pcm_from_bytes",
    "probe",
    "read_pcm",
]
