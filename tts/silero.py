"""Silero: the natural-sounding engine, loaded from Silero's own ``torch.package`` files.

Each language has its own model (``tts.silero_catalog.resolve``), loaded the first time a text in
that language arrives and then kept for the life of the process. Per sentence the engine:

* writes numbers as words (Silero drops digits) and turns acute stress marks into Silero's ``+``;
* picks the voice's speaker (``tts.voices``), with Silero's automatic stress and ``ё`` on;
* expresses speed and a voice's pitch through Silero's SSML ``<prosody>``, whose rates are the
  five steps x-slow … x-fast: speed is rounded to the nearest step.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from tts.base import SpeechChunk
from tts.errors import EngineFailure, ModelNotAvailable, UnsupportedLanguage
from tts.numbers import numbers_to_words
from tts.silero_catalog import SileroModelFile, missing_message
from tts.stress import acute_to_plus, strip_stress
from tts.text import split_sentences
from tts.voices import VOICE_IDS, get_voice

log = logging.getLogger(__name__)

SAMPLE_RATES = (8000, 24000, 48000)
DEFAULT_SAMPLE_RATE = 48000
# Speed factor → Silero's SSML rate: each step covers the speeds nearest to it.
_RATE_STEPS = ((0.7, "x-slow"), (0.9, "slow"), (1.12, "medium"), (1.45, "fast"), (float("inf"), "x-fast"))
_SPEAKABLE = {"ru": re.compile(r"[а-яёА-ЯЁ]"), "en": re.compile(r"[a-zA-Z]")}


def load_silero_package(path: Path) -> Any:
    """Load a Silero TTS ``.pt`` the way Silero documents it, onto the CPU."""
    import torch  # heavy; imported only when a model is actually loaded

    try:
        with warnings.catch_warnings():
            # torch's own unpickler uses its deprecated TypedStorage: noise, not the operator's to fix.
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            importer = torch.package.PackageImporter(str(path))
            model = importer.load_pickle("tts_models", "model")
        model.to(torch.device("cpu"))
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ModelNotAvailable(
            f"The Silero model {path} cannot be loaded ({type(exc).__name__}: {exc}); the file is "
            "damaged or not a Silero TTS package. Download it again (`nagovori models pull`) or point "
            "NAGOVORI_SILERO_MODEL at a good file.",
            path=str(path),
            reason="damaged",
        ) from exc
    if not callable(getattr(model, "apply_tts", None)):
        raise ModelNotAvailable(
            f"{path} is a torch package but not a Silero TTS model (it has no apply_tts); "
            "check NAGOVORI_SILERO_MODEL.",
            path=str(path),
            reason="not_tts",
        )
    return model


def speed_to_rate(speed: float) -> str:
    """The SSML prosody rate nearest to ``speed`` (1.0 → "medium")."""
    return next(name for limit, name in _RATE_STEPS if speed < limit)


@dataclass
class _Loaded:
    model: Any
    speakers: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)


class SileroEngine:
    """Silero models per language, loaded lazily and once, shared by all threads."""

    name = "silero"

    def __init__(
        self,
        models: Mapping[str, SileroModelFile] | Callable[[], Mapping[str, SileroModelFile]],
        *,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        loader: Callable[[Path], Any] = load_silero_package,
    ) -> None:
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"Silero sample rate must be one of {SAMPLE_RATES}")
        # A callable is asked again on every request, so a model downloaded after start-up is found.
        self._models = models if callable(models) else (lambda fixed=dict(models): fixed)
        self.sample_rate = sample_rate
        self._loader = loader
        self._lock = threading.Lock()
        self._loaded: dict[Path, _Loaded] = {}

    @property
    def models(self) -> dict[str, SileroModelFile]:
        """The model file serving each language (downloaded or not)."""
        return dict(self._models())

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.models)

    def is_loaded(self, path: Path) -> bool:
        return path in self._loaded

    def synthesize(
        self, text: str, *, voice: str, language: str, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        """Yield one chunk per sentence; the language's model loads on the first one."""
        loaded = self._model(language)
        speaker, pitch = self._speaker(loaded, voice, language)
        rate = speed_to_rate(speed)
        for sentence in split_sentences(text, language):
            spoken = self._silero_text(sentence, language)
            if not _SPEAKABLE[language].search(spoken):
                continue  # e.g. a Latin-only sentence for the Russian model: it has no sounds for it
            pcm = self._apply(loaded, spoken, speaker, pitch, rate)
            yield SpeechChunk(pcm=pcm, sample_rate=self.sample_rate, text=sentence)

    def load(self, language: str) -> None:
        """Load the model for ``language`` now (e.g. at start-up) instead of on first use."""
        self._model(language)

    def _model(self, language: str) -> _Loaded:
        models = self.models
        file = models.get(language)
        if file is None:
            raise UnsupportedLanguage(
                f"No Silero model is configured for '{language}'; it serves: {', '.join(models)}.",
                field="language",
                language=language,
                allowed=list(models),
            )
        loaded = self._loaded.get(file.path)
        if loaded is not None:
            return loaded
        with self._lock:  # one load per file, however many threads ask at once
            loaded = self._loaded.get(file.path)
            if loaded is None:
                if not file.present:
                    raise ModelNotAvailable(
                        missing_message(file, language), model=f"silero-{file.model_id}", language=language
                    )
                log.info("loading Silero model %s from %s", file.model_id, file.path)
                model = self._loader(file.path)
                speakers = [str(s) for s in getattr(model, "speakers", []) or []]
                loaded = self._loaded[file.path] = _Loaded(model, speakers)
        return loaded

    @staticmethod
    def _speaker(loaded: _Loaded, voice: str, language: str) -> tuple[str, str | None]:
        name, _, pitch = get_voice(voice).speaker("silero", language).partition(":")
        own = [s for s in loaded.speakers if s != "random"]
        if not own or name in own:
            return name, pitch or None
        # A model with other speaker names (v5_cis_base: ru_aigul, …): a stable pick from its own
        # list, preferring this language's speakers, so each voice still sounds different.
        preferred = [s for s in own if s.startswith(f"{language}_")] or own
        return preferred[VOICE_IDS.index(voice) % len(preferred)], pitch or None

    @staticmethod
    def _silero_text(sentence: str, language: str) -> str:
        spoken = numbers_to_words(sentence, language)
        return acute_to_plus(spoken) if language == "ru" else strip_stress(spoken)

    def _apply(self, loaded: _Loaded, text: str, speaker: str, pitch: str | None, rate: str) -> np.ndarray:
        import torch

        kwargs: dict[str, Any] = {
            "speaker": speaker,
            "sample_rate": self.sample_rate,
            "put_accent": True,
            "put_yo": True,
        }
        if pitch or rate != "medium":
            attributes = (f' rate="{rate}"' if rate != "medium" else "") + (
                f' pitch="{pitch}"' if pitch else ""
            )
            kwargs["ssml_text"] = f"<speak><prosody{attributes}>{escape(text)}</prosody></speak>"
        else:
            kwargs["text"] = text
        try:
            # Silero's models keep per-call state in places; one call per model at a time is safe.
            with loaded.lock, torch.inference_mode():
                audio = loaded.model.apply_tts(**kwargs)
        except Exception as exc:
            raise EngineFailure(
                f"Silero failed on the sentence {text[:80]!r}: {type(exc).__name__}: {exc}",
                speaker=speaker,
            ) from exc
        pcm = np.asarray(
            audio.detach().cpu().numpy() if hasattr(audio, "detach") else audio, dtype=np.float32
        )
        return np.clip(pcm.reshape(-1), -1.0, 1.0)
