"""What this installation can do: speech models, voices, and checks of a requested model.

Engines reach the API through the small ``EngineCatalog`` protocol; the composition root passes the
concrete registries (``cli.wiring.Engines``), so nothing here loads a model — listing only asks the
registries what is on disk.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import InvalidInput, UnknownModel, UnsupportedLanguage, UnsupportedTask
from core.settings import Settings

if TYPE_CHECKING:
    from asr.base import AsrEngine
    from tts.base import TtsEngine

# What OpenAI clients send; each maps to the configured default of its kind.
OPENAI_ASR_ALIASES = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
TTS_LANGUAGES = ("en", "ru")
OPENAI_TTS_ALIASES = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")


class ModelInfo(Protocol):
    """One model as a registry lists it: ``asr.registry.ModelStatus`` and ``tts.registry.ModelStatus``
    both satisfy it (the engine packages know nothing of each other, so each has its own record;
    this is the one shape the core reads)."""

    @property
    def model_id(self) -> str: ...
    @property
    def engine(self) -> str: ...
    @property
    def languages(self) -> Sequence[str]: ...
    @property
    def present(self) -> bool: ...
    @property
    def ready(self) -> bool: ...
    @property
    def detail(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def size_bytes(self) -> int | None: ...


class AsrCatalog(Protocol):
    def get(self, model_id: str | None = None) -> AsrEngine: ...
    def models(self) -> Sequence[ModelInfo]: ...


class TtsCatalog(Protocol):
    def get(self, name: str | None = None) -> TtsEngine: ...
    def models(self) -> Sequence[ModelInfo]: ...


class EngineCatalog(Protocol):
    """The engine registries of this process (``cli.wiring.Engines`` satisfies it)."""

    @property
    def asr(self) -> AsrCatalog: ...
    @property
    def tts(self) -> TtsCatalog: ...


TASKS = ("transcribe", "translate")


@dataclass(frozen=True)
class ModelView:
    """One row of ``GET /v1/models``."""

    id: str
    kind: str  # "asr" | "tts"
    engine: str
    languages: tuple[str, ...]
    present: bool
    ready: bool
    default: bool
    detail: str
    origin: str | None = None  # "bundled" | "downloaded" | "local" | "system"; None: not reported
    size_bytes: int | None = None
    tasks: tuple[str, ...] = ()  # ASR only: "transcribe", and "translate" where the model can

    @property
    def can_translate(self) -> bool:
        return "translate" in self.tasks


class Catalog:
    """Model listings with a short cache (they look at the disk), and request-time checks."""

    def __init__(self, engines: EngineCatalog, settings: Settings, *, ttl_seconds: float = 10.0) -> None:
        self.engines = engines
        self.settings = settings
        self._ttl = ttl_seconds
        self._cached: tuple[float, list[ModelView]] | None = None

    def models(self) -> list[ModelView]:
        """Every ASR and TTS model, the configured defaults marked (blocking: call in a thread)."""
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < self._ttl:
            return self._cached[1]
        asr = list(self.engines.asr.models())
        tts = list(self.engines.tts.models())
        defaults = {self._default_asr(asr), *self._default_tts(tts)}
        rows = [_view(m, "asr", m.model_id in defaults) for m in asr]
        rows += [_view(m, "tts", m.model_id in defaults) for m in tts]
        self._cached = (now, rows)
        return rows

    def _default_asr(self, models: list[ModelInfo]) -> str | None:
        configured = {
            "whisper": f"whisper-{self.settings.whisper_model}",
            "vosk": f"vosk-{self.settings.vosk_model}",
        }.get(self.settings.asr_engine)
        mine = [m for m in models if m.engine == self.settings.asr_engine]
        chosen = next((m for m in mine if m.model_id == configured), mine[0] if mine else None)
        return chosen.model_id if chosen else None

    def _default_tts(self, models: list[ModelInfo]) -> set[str | None]:
        """The model the default speaks each language with (Piper for English, Silero or espeak-ng
        for Russian): the registry knows, as it routes by language and falls back by what is here."""
        serving = getattr(self.engines.tts, "serving", None)
        if callable(serving):
            return {serving(language)[1] for language in TTS_LANGUAGES}
        mine = [m for m in models if m.engine == self.settings.tts_engine]
        chosen = next((m for m in mine if m.ready), mine[0] if mine else None)
        return {chosen.model_id if chosen else None}

    def default_asr(self) -> ModelView | None:
        return next((m for m in self.models() if m.kind == "asr" and m.default), None)

    def find(self, model_id: str) -> tuple[ModelView, str | None] | None:
        """The model ``GET /v1/models/{id}`` shows, and for OpenAI's names the alias it was asked as."""
        models = self.models()
        match = next((m for m in models if m.id == model_id), None)
        if match is not None:
            return match, None
        for kind, aliases in (("asr", OPENAI_ASR_ALIASES), ("tts", OPENAI_TTS_ALIASES)):
            default = next((m for m in models if m.kind == kind and m.default), None)
            if model_id in aliases and default is not None:
                return default, model_id
        return None

    def check_asr_model(self, model: str | None, language: str, task: str = "transcribe") -> str | None:
        """The model id to store on the job (None: the default), or a 400 explaining why not.

        Accepts model ids, engine names and OpenAI's model names (mapped to the default). A known
        model that is not on disk yet is accepted: the worker may fetch it (Whisper and Vosk
        download on first use when online), and fails the job with the reason, refunded, if not.
        A model that cannot ``task`` is refused here, so that nobody waits for a job bound to fail."""
        if model is None or model in OPENAI_ASR_ALIASES:
            chosen = self.default_asr()
            if chosen is not None:
                _check_language(chosen, language)
                self._check_task(chosen, task)
            return None
        asr = [m for m in self.models() if m.kind == "asr"]
        match = next((m for m in asr if m.id == model), None)
        if match is None:
            by_engine = [m for m in asr if m.engine == model]
            match = next((m for m in by_engine if m.default), by_engine[0] if by_engine else None)
        if match is None:
            raise UnknownModel(
                f"Unknown model '{model}'; GET /v1/models lists the ones this server has.",
                field="model",
                allowed=[m.id for m in asr],
            )
        _check_language(match, language)
        self._check_task(match, task)
        return match.id

    def _check_task(self, model: ModelView, task: str) -> None:
        if task not in TASKS:
            raise InvalidInput(f"Unknown task '{task}'; use one of: {', '.join(TASKS)}.", field="task")
        if task in model.tasks:
            return
        able = [m.id for m in self.models() if m.kind == "asr" and task in m.tasks]
        why = "it is English-only" if model.engine == "whisper" else f"{model.engine} only transcribes"
        raise UnsupportedTask(
            f"The model '{model.id}' cannot {task} ({why}); "
            + (f"use one of: {', '.join(able)}." if able else "a multilingual Whisper model can."),
            field="model",
            task=task,
            allowed=able,
        )


def _view(info: ModelInfo, kind: str, default: bool) -> ModelView:
    languages = tuple(info.languages)
    return ModelView(
        id=info.model_id,
        kind=kind,
        engine=info.engine,
        languages=languages,
        present=bool(info.present),
        ready=bool(info.ready),
        default=default,
        detail=info.detail,
        origin=info.origin,
        size_bytes=info.size_bytes,
        tasks=_tasks(info.model_id, info.engine, languages) if kind == "asr" else (),
    )


def _tasks(model_id: str, engine: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    """Only multilingual Whisper translates. Distil-Whisper and large-v3-turbo were not trained to
    translate (they answer in the spoken language), so they are refused rather than mislead."""
    name = model_id.lower()
    english_only = languages == ("en",) or name.endswith(".en")
    if engine != "whisper" or english_only or "distil" in name or "turbo" in name:
        return ("transcribe",)
    return TASKS


def _check_language(model: ModelView, language: str) -> None:
    if language == "auto" or not model.languages or "*" in model.languages:
        return
    if language not in model.languages:
        raise UnsupportedLanguage(
            f"The model '{model.id}' does not support language '{language}'; "
            f"it supports: {', '.join(model.languages)}.",
            field="language",
            allowed=list(model.languages),
        )


DEFAULT_VOICE = "alloy"


def voices(tts: object | None = None) -> list[dict[str, Any]]:
    """The voices every TTS engine offers, by id; with the TTS registry, who serves each language.

    Blocking when ``tts`` is given (the registry looks at the disk): call it in a thread."""
    from tts.voices import aliases_of, list_voices  # the voice table is data; imported when first listed

    serving = getattr(tts, "serving", None)
    rows: list[dict[str, Any]] = []
    for v in list_voices():
        row: dict[str, Any] = {
            "id": v.id,
            "name": v.name,
            "gender": v.gender,
            "description": v.description,
            "languages": list(v.languages),
            "aliases": aliases_of(v.id),
        }
        if callable(serving):
            row["serving"] = {
                language: dict(zip(("engine", "model"), serving(language), strict=True))
                for language in v.languages
            }
        rows.append(row)
    return rows


__all__ = [
    "DEFAULT_VOICE",
    "OPENAI_ASR_ALIASES",
    "OPENAI_TTS_ALIASES",
    "TASKS",
    "Catalog",
    "EngineCatalog",
    "ModelView",
    # The check errors are core.errors' (one class per code); they stay importable from here.
    "UnknownModel",
    "UnsupportedLanguage",
    "UnsupportedTask",
    "voices",
]
