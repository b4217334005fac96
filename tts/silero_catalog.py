"""Which Silero models exist, where their files live, and which one serves each language.

Files are looked up as ``{models_dir}/silero/{model_id}.pt`` (what ``pull`` writes). The operator
can name models explicitly with ``NAGOVORI_SILERO_MODEL``: a model id (``v5_ru``), a path to a
``.pt`` file, or several separated by commas (``v4_ru,/srv/models/v3_en.pt``). A named model serves
its languages; a language it does not cover falls back to the first model present in
``{models_dir}/silero`` in ``PREFERENCE`` order.

Licences (stated so that operators know what they may charge for): the Silero TTS models are
published under CC BY-NC 4.0 (no commercial use without a licence from Silero), except
``v5_cis_base``, which is MIT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SILERO_BASE_URL = "https://models.silero.ai/models/tts"
CC_BY_NC = "CC BY-NC 4.0"


@dataclass(frozen=True)
class SileroModelInfo:
    """A model Silero publishes: its id, languages, location under the base URL and licence."""

    model_id: str
    languages: tuple[str, ...]
    url_path: str
    licence: str

    @property
    def filename(self) -> str:
        return f"{self.model_id}.pt"


SILERO_MODELS: dict[str, SileroModelInfo] = {
    m.model_id: m
    for m in (
        SileroModelInfo("v5_ru", ("ru",), "ru/v5_ru.pt", CC_BY_NC),
        SileroModelInfo("v4_ru", ("ru",), "ru/v4_ru.pt", CC_BY_NC),
        SileroModelInfo("v3_1_ru", ("ru",), "ru/v3_1_ru.pt", CC_BY_NC),
        SileroModelInfo("v5_cis_base", ("ru",), "ru/v5_cis_base.pt", "MIT"),
        SileroModelInfo("v3_en", ("en",), "en/v3_en.pt", CC_BY_NC),
    )
}
# The model used for a language when several are present (newest first); the first is also what
# ``pull`` fetches by default.
PREFERENCE: dict[str, tuple[str, ...]] = {
    "ru": ("v5_ru", "v4_ru", "v3_1_ru", "v5_cis_base"),
    "en": ("v3_en",),
}
LANGUAGES = tuple(PREFERENCE)


@dataclass(frozen=True)
class SileroModelFile:
    """One model file this installation would use (or could use once it is downloaded)."""

    model_id: str
    path: Path
    languages: tuple[str, ...]
    configured: bool = False  # named by NAGOVORI_SILERO_MODEL

    @property
    def present(self) -> bool:
        return self.path.is_file()

    @property
    def licence(self) -> str:
        info = SILERO_MODELS.get(self.model_id)
        return info.licence if info else "unknown (check the model's source)"


def silero_dir(models_dir: Path) -> Path:
    """Where Silero ``.pt`` files are kept under the models folder."""
    return models_dir / "silero"


def normalize_model_id(model: str) -> str:
    """``v4_ru`` from ``v4_ru``, ``silero-v4_ru`` or ``silero:v4_ru``."""
    return re.sub(r"^silero[-:]", "", model.strip())


def _guess_languages(stem: str) -> tuple[str, ...]:
    info = SILERO_MODELS.get(stem)
    if info is not None:
        return info.languages
    return ("en",) if re.search(r"(^|[_-])en($|[_-])", stem) else ("ru",)


def configured_files(models_dir: Path, silero_model: str) -> list[SileroModelFile]:
    """The models named by NAGOVORI_SILERO_MODEL (ids or paths), in the order given."""
    files: list[SileroModelFile] = []
    for entry in (e.strip() for e in silero_model.split(",")):
        if not entry:
            continue
        model_id = normalize_model_id(entry)
        if model_id in SILERO_MODELS:
            path = silero_dir(models_dir) / SILERO_MODELS[model_id].filename
        else:
            path = Path(entry).expanduser()
            if not path.is_absolute() and not path.exists():
                path = silero_dir(models_dir) / path
            model_id = path.stem
        files.append(SileroModelFile(model_id, path, _guess_languages(model_id), configured=True))
    return files


def resolve(models_dir: Path, silero_model: str = "") -> dict[str, SileroModelFile]:
    """For each language, the model file that serves it (which may not be downloaded yet)."""
    chosen: dict[str, SileroModelFile] = {}
    for file in configured_files(models_dir, silero_model):
        for language in file.languages:
            chosen.setdefault(language, file)
    for language, preference in PREFERENCE.items():
        if language in chosen:
            continue
        candidates = [
            SileroModelFile(m, silero_dir(models_dir) / SILERO_MODELS[m].filename, (language,))
            for m in preference
        ]
        chosen[language] = next((c for c in candidates if c.present), candidates[0])
    return chosen


def known_files(models_dir: Path, silero_model: str = "") -> list[SileroModelFile]:
    """Every model worth listing: the catalogue, the configured ones, and other ``.pt`` files found."""
    files = {f.path: f for f in configured_files(models_dir, silero_model)}
    for info in SILERO_MODELS.values():
        path = silero_dir(models_dir) / info.filename
        files.setdefault(path, SileroModelFile(info.model_id, path, info.languages))
    folder = silero_dir(models_dir)
    if folder.is_dir():
        for path in sorted(folder.glob("*.pt")):
            files.setdefault(path, SileroModelFile(path.stem, path, _guess_languages(path.stem)))
    return list(files.values())


def missing_message(file: SileroModelFile, language: str) -> str:
    """What to do when the model for ``language`` is not on disk: names the settings to fix."""
    how = (
        f"NAGOVORI_SILERO_MODEL points at {file.path}, which does not exist"
        if file.configured
        else f"no Silero model for '{language}' in {file.path.parent}"
    )
    return (
        f"Silero cannot speak '{language}': {how}. Run `nagovori models pull silero-{file.model_id}` "
        f"(needs internet), or copy a Silero .pt file to {file.path}, or set NAGOVORI_MODELS_DIR to "
        "the folder holding silero/<model>.pt, or set NAGOVORI_SILERO_MODEL to the file; "
        "the espeak engine works without any model."
    )
