"""File arguments checked before any work starts, each problem said in one line."""

from __future__ import annotations

from pathlib import Path

from core.errors import InvalidInput


def input_file(path: Path) -> Path:
    """A file to read: it must exist and be a file (a folder is named as one)."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give a file.")
    if not path.is_file():
        raise InvalidInput(f"No such file: {path}")
    return path


def output_file(path: Path) -> Path:
    """A file to write: not an existing folder, in a folder that exists."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder; give the name of a file to write.")
    if not path.parent.is_dir():
        raise InvalidInput(f"No such folder: {path.parent}")
    return path
