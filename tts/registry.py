"""One set of synthesizers per process: built lazily, once, thread-safely.

    engines = TtsEngines(TtsConfig(models_dir=settings.effective_models_dir, default_engine="silero"))
    engine = engines.get()            # the default engine; always the same object afterwards
    engines.get("espeak")             # by engine name …
    engines.get("silero-v4_ru")       # … or by a model id from ``models()``

Silero models load on the first sentence in their language, not here. When the default engine is
Silero but no Silero model is on this machine at all (a fresh, offline install), ``get()`` falls
back to espeak-ng and says so once in the log, so the service speaks instead of failing every
request; asking for ``"silero"`` by name still raises ModelNotAvailable on use.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from tts.base import TtsEngine
from tts.errors import UnknownEngine
from tts.espeak import LANGUAGES as ESPEAK_LANGUAGES
from tts.espeak import EspeakEngine
from tts.silero import DEFAULT_SAMPLE_RATE, SileroEngine
from tts.silero_catalog import SILERO_MODELS, SileroModelFile, known_files, normalize_model_id, resolve
from tts.silero_pull import is_torch_package, pull

log = logging.getLogger(__name__)

ENGINES = ("silero", "espeak")
ESPEAK_ID = "espeak-ng"


@dataclass(frozen=True)
class TtsConfig:
    """What the operator chose (from ``NAGOVORI_*`` settings)."""

    models_dir: Path
    default_engine: str = "silero"
    silero_model: str = ""  # NAGOVORI_SILERO_MODEL: ids or paths, comma-separated; empty: by language
    silero_sample_rate: int = DEFAULT_SAMPLE_RATE


@dataclass(frozen=True)
class ModelStatus:
    """One line of ``models list`` / ``GET /v1/models``."""

    model_id: str
    engine: str
    languages: tuple[str, ...]
    present: bool  # the files (or the program) are on this machine
    ready: bool  # a job can use it now
    detail: str
    loaded: bool = False  # already in this process's memory


class TtsEngines:
    """The per-process engine cache (thread-safe)."""

    def __init__(self, config: TtsConfig) -> None:
        if config.default_engine not in ENGINES:
            raise UnknownEngine(
                f"Unknown TTS engine {config.default_engine!r} in NAGOVORI_TTS_ENGINE; use silero or espeak.",
                engine=config.default_engine,
                allowed=list(ENGINES),
            )
        self.config = config
        self._lock = threading.Lock()
        self._engines: dict[str, TtsEngine] = {}
        self._warned_fallback = False

    def get(self, name: str | None = None) -> TtsEngine:
        """The engine for an engine name or model id (None: the default engine), built once."""
        key = self._key(name)
        engine = self._engines.get(key)
        if engine is not None:
            return engine
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = self._build(key)
        return engine

    def default_name(self) -> str:
        """The engine ``get()`` returns: the configured one, or espeak when Silero has no model here."""
        if self.config.default_engine == "silero" and not any(f.present for f in self._silero_files()):
            if not self._warned_fallback:
                self._warned_fallback = True
                log.warning(
                    "no Silero model in %s: speaking with espeak-ng (run `nagovori models pull` for Silero)",
                    self.config.models_dir / "silero",
                )
            return "espeak"
        return self.config.default_engine

    def models(self) -> list[ModelStatus]:
        """Every TTS model this installation knows: espeak-ng and each Silero file, here or not."""
        espeak = self._engines.get("espeak")
        probe = espeak if isinstance(espeak, EspeakEngine) else EspeakEngine()
        version = probe.version()
        rows = [
            ModelStatus(
                ESPEAK_ID,
                "espeak",
                ESPEAK_LANGUAGES,
                present=version is not None,
                ready=version is not None,
                detail=version or "not installed: apt-get install espeak-ng",
                loaded=espeak is not None,
            )
        ]
        serving = resolve(self.config.models_dir, self.config.silero_model)
        loaded = [e for e in self._engines.values() if isinstance(e, SileroEngine)]
        for file in known_files(self.config.models_dir, self.config.silero_model):
            rows.append(self._silero_status(file, serving, loaded))
        return rows

    def pull(self, model: str, *, force: bool = False) -> Path:
        """Download a Silero model into the models folder (needs internet); return its path."""
        return pull(model, self.config.models_dir, force=force)

    def _silero_files(self) -> list[SileroModelFile]:
        return list(resolve(self.config.models_dir, self.config.silero_model).values())

    def _key(self, name: str | None) -> str:
        if name is None or name == "":
            return self.default_name()
        if name in ENGINES:
            return name
        if name == ESPEAK_ID:
            return "espeak"
        model_id = normalize_model_id(name)
        if name.startswith("silero") and (
            model_id in SILERO_MODELS or any(f.model_id == model_id for f in self._known())
        ):
            return f"silero-{model_id}"
        raise UnknownEngine(
            f"Unknown TTS engine or model {name!r}; use silero, espeak, or a model id from `nagovori models list`.",
            engine=name,
            allowed=[*ENGINES, ESPEAK_ID, *(f"silero-{f.model_id}" for f in self._known())],
        )

    def _known(self) -> list[SileroModelFile]:
        return known_files(self.config.models_dir, self.config.silero_model)

    def _build(self, key: str) -> TtsEngine:
        if key == "espeak":
            return EspeakEngine(data_root=self.config.models_dir / "espeak-ng")
        rate = self.config.silero_sample_rate
        if key == "silero":
            config = self.config
            return SileroEngine(lambda: resolve(config.models_dir, config.silero_model), sample_rate=rate)
        model_id = key.removeprefix("silero-")
        file = next(f for f in self._known() if f.model_id == model_id)
        return SileroEngine({language: file for language in file.languages}, sample_rate=rate)

    @staticmethod
    def _silero_status(
        file: SileroModelFile, serving: dict[str, SileroModelFile], loaded: list[SileroEngine]
    ) -> ModelStatus:
        used_for = [language for language, f in serving.items() if f.path == file.path]
        usable = file.present and is_torch_package(file.path)
        if not file.present:
            detail = f"not downloaded: nagovori models pull silero-{file.model_id}"
        elif not usable:
            detail = f"damaged or not a Silero package: {file.path}"
        else:
            detail = f"{file.path}"
        detail += f"; licence {file.licence}"
        if used_for and file.present:
            detail += f"; serves {', '.join(used_for)}"
        return ModelStatus(
            model_id=f"silero-{file.model_id}",
            engine="silero",
            languages=file.languages,
            present=file.present,
            ready=usable,
            detail=detail,
            loaded=any(engine.is_loaded(file.path) for engine in loaded),
        )
