"""Speech-to-text: faster-whisper, Vosk and PocketSphinx behind one protocol.

This package knows nothing of the rest of the platform: it takes decoded audio (iterables of
float32 16 kHz chunks) and plain options, and gives back segments, transcripts and subtitles.

    engines = AsrEngines(AsrConfig(models_dir=Path("var/models")))
    result = transcribe_audio(engines.get("pocketsphinx"), open_audio, duration=12.5,
                              options=TranscriptionOptions(preset="remove_fillers"))
    print(to_srt(result.segments))
"""

from __future__ import annotations

from asr.base import AsrEngine, Segment, TranscriptionInfo, TranscriptionOptions, Word
from asr.errors import (
    AsrError,
    EngineFailure,
    InvalidOption,
    ModelNotAvailable,
    UnknownModel,
    UnsupportedLanguage,
)
from asr.formats import to_json, to_srt, to_text, to_vtt
from asr.registry import AsrConfig, AsrEngines, ModelStatus
from asr.transcribe import TranscriptResult, transcribe_audio

__all__ = [
    "AsrConfig",
    "AsrEngine",
    "AsrEngines",
    "AsrError",
    "EngineFailure",
    "InvalidOption",
    "ModelNotAvailable",
    "ModelStatus",
    "Segment",
    "TranscriptResult",
    "TranscriptionInfo",
    "TranscriptionOptions",
    "UnknownModel",
    "UnsupportedLanguage",
    "Word",
    "to_json",
    "to_srt",
    "to_text",
    "to_vtt",
    "transcribe_audio",
]
