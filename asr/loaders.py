"""Turning a resolved ``ModelSource`` into a loaded engine, with errors that say what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from asr.base import AsrEngine
from asr.catalog import ModelSource, is_vosk_dir, is_whisper_dir
from asr.errors import ModelNotAvailable
from bundled.assemble import BundleError, ensure

OFFLINE = (
    "Offline models that need no download: whisper-base and whisper-tiny.en (bundled; "
    "NAGOVORI_WHISPER_MODEL=base) and pocketsphinx-en (NAGOVORI_ASR_ENGINE=pocketsphinx)."
)

if TYPE_CHECKING:
    from asr.registry import AsrConfig


def load_engine(source: ModelSource, config: AsrConfig, *, downloads: bool) -> AsrEngine:
    """Load the engine for ``source``; ``downloads`` allows fetching missing files."""
    if source.engine == "pocketsphinx":
        from asr.engines.pocketsphinx import PocketSphinxEngine

        return PocketSphinxEngine(source.model_id)
    if source.engine == "whisper":
        from asr.engines.whisper import WhisperEngine

        path = _whisper_files(source, config.models_dir, downloads)
        return WhisperEngine(source.model_id, path, threads=config.whisper_threads)
    from asr.engines.vosk import VoskEngine

    return VoskEngine(source.model_id, _vosk_files(source, config.models_dir, downloads), source.language)


def _whisper_files(source: ModelSource, models_dir: Path, downloads: bool) -> Path:
    fix = (
        "Set NAGOVORI_WHISPER_MODEL to a CTranslate2 Whisper directory, put one in "
        f"NAGOVORI_MODELS_DIR ({models_dir}), or run `nagovori models pull {source.model_id}` online. "
        + OFFLINE
    )
    if source.bundle is not None:
        try:
            return ensure(source.bundle, models_dir)
        except BundleError as exc:
            raise ModelNotAvailable(
                f"The bundled Whisper model {source.bundle.name!r} cannot be used: {exc} " + OFFLINE,
                model=source.model_id,
                setting="NAGOVORI_WHISPER_MODEL",
            ) from exc
    if source.path is not None:
        if not is_whisper_dir(source.path):
            raise ModelNotAvailable(
                f"No CTranslate2 Whisper model at {source.path}. {fix}",
                model=source.model_id,
                setting="NAGOVORI_WHISPER_MODEL",
            )
        return source.path
    assert source.download is not None
    from faster_whisper.utils import download_model

    try:
        found = download_model(source.download, local_files_only=not downloads, cache_dir=str(models_dir))
    except Exception as exc:
        why = "could not be downloaded" if downloads else "is not on this machine"
        raise ModelNotAvailable(
            f"Whisper model {source.download!r} {why} ({type(exc).__name__}). {fix}",
            model=source.model_id,
            setting="NAGOVORI_WHISPER_MODEL",
        ) from exc
    return Path(found)


def _vosk_files(source: ModelSource, models_dir: Path, downloads: bool) -> Path | str:
    fix = (
        "Download a model from https://alphacephei.com/vosk/models and unpack it in "
        f"NAGOVORI_MODELS_DIR ({models_dir}), or set NAGOVORI_VOSK_MODEL to its directory. " + OFFLINE
    )
    if source.path is not None:
        if not is_vosk_dir(source.path):
            raise ModelNotAvailable(
                f"No Vosk model at {source.path}. {fix}", model=source.model_id, setting="NAGOVORI_VOSK_MODEL"
            )
        return source.path
    if not downloads or source.download is None:
        raise ModelNotAvailable(
            f"No Vosk model for {source.download or source.model_id!r} on this machine. {fix}",
            model=source.model_id,
            setting="NAGOVORI_VOSK_MODEL",
        )
    return source.download  # a language code: Vosk finds or downloads its own model
