"""Downloading Silero models from Silero's official location into the models folder.

``pull("v4_ru", models_dir)`` fetches ``https://models.silero.ai/models/tts/ru/v4_ru.pt`` to
``{models_dir}/silero/v4_ru.pt``. The download goes to a ``.part`` file beside the target, is
checked to be a torch package (a zip archive with a pickled ``tts_models/model``), and only
then renamed into place, so a cut connection never leaves a broken model where the engine looks.
``base_url`` can point at a mirror (any URL urllib opens, including ``file://``).
"""

from __future__ import annotations

import http.client
import logging
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from tts.errors import ModelDownloadFailed, UnknownEngine
from tts.silero_catalog import PREFERENCE, SILERO_BASE_URL, SILERO_MODELS, normalize_model_id, silero_dir

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
DEFAULT_PULL = tuple(p[0] for p in PREFERENCE.values())  # one model per language

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


def model_url(model_id: str, base_url: str = SILERO_BASE_URL) -> str:
    """The download URL of a catalogued model."""
    return f"{base_url.rstrip('/')}/{SILERO_MODELS[model_id].url_path}"


def pull(
    model: str,
    models_dir: Path,
    *,
    base_url: str = SILERO_BASE_URL,
    force: bool = False,
    timeout: float = 60.0,
    progress: Progress | None = None,
) -> Path:
    """Download a Silero model (id like ``v4_ru`` or ``silero-v4_ru``); return its path.

    A file already in place is kept unless ``force``. Raises UnknownEngine for an id Silero does
    not publish and ModelDownloadFailed when the download or the check fails."""
    model_id = normalize_model_id(model)
    if model_id not in SILERO_MODELS:
        raise UnknownEngine(
            f"Unknown Silero model {model!r}; known: {', '.join(SILERO_MODELS)}.",
            model=model,
            allowed=[f"silero-{m}" for m in SILERO_MODELS],
        )
    target = silero_dir(models_dir) / SILERO_MODELS[model_id].filename
    if target.is_file() and not force and is_torch_package(target):
        log.info("%s is already present at %s", model_id, target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    url = model_url(model_id, base_url)
    log.info("downloading %s from %s", model_id, url)
    try:
        _download(url, partial, timeout=timeout, progress=progress)
        if not is_torch_package(partial):
            raise ModelDownloadFailed(
                f"What {url} returned is not a Silero model (not a torch package); nothing was saved.",
                model=model_id,
                url=url,
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _download(url: str, dest: Path, *, timeout: float, progress: Progress | None) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "nagovori"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, dest.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            while block := response.read(CHUNK_BYTES):
                out.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
    except urllib.error.HTTPError as exc:
        raise ModelDownloadFailed(
            f"Downloading {url} failed: HTTP {exc.code} {exc.reason}.", url=url, status=exc.code
        ) from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelDownloadFailed(
            f"Downloading {url} failed: {reason}. Check the internet connection (or copy the file by "
            "hand into the models folder).",
            url=url,
        ) from exc
    if total is not None and done != total:
        raise ModelDownloadFailed(
            f"Downloading {url} stopped after {done} of {total} bytes.",
            url=url,
            received=done,
            expected=total,
        )


def is_torch_package(path: Path) -> bool:
    """True for a zip archive that holds a pickled model at ``tts_models/model`` (Silero's layout)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("/tts_models/model") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
