"""Engine registry settings from the platform's settings (one place for every command)."""

from __future__ import annotations

from asr.registry import AsrConfig
from core.settings import Settings
from tts.registry import TtsConfig


def asr_config(settings: Settings) -> AsrConfig:
    """The ASR registry's settings, from the platform's."""
    return AsrConfig(
        models_dir=settings.effective_models_dir,
        default_engine=settings.asr_engine,
        whisper_model=settings.whisper_model,
        whisper_threads=settings.whisper_threads,
        vosk_model=settings.vosk_model,
    )


def tts_config(settings: Settings) -> TtsConfig:
    """The TTS registry's settings, from the platform's."""
    return TtsConfig(
        models_dir=settings.effective_models_dir,
        default_engine=settings.tts_engine,
        silero_model=settings.silero_model,
    )
