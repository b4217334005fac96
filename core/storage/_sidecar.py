"""The metadata file kept beside each local object: its SHA-256, size and content type.

The object and its sidecar are two files, and two renames are never atomic together (two writers of
one key may interleave). So the sidecar also records the identity of the data file it describes
(inode, size, mtime in ns — all kept by ``rename``). A sidecar whose identity does not match the
file is ignored: the file is hashed again and the sidecar rewritten. The store therefore never
reports a digest for bytes it did not hash, and heals itself after a crash or a restore from backup.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from typing import Any

from core.storage._fileio import FILE_MODE, O_CLOEXEC, O_NOFOLLOW, write_all
from core.storage.base import StoredObject

FORMAT_VERSION = 1
_MAX_SIDECAR_BYTES = 64 * 1024
_HASH_BLOCK = 1024 * 1024


def sidecar_name(name: str) -> str:
    """``.{name}.meta``: a dot-name, which no valid key can take."""
    return f".{name}.meta"


def identity(st: os.stat_result) -> dict[str, int]:
    return {"ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def write_sidecar(
    parent_fd: int, name: str, st: os.stat_result, sha256: str, content_type: str | None
) -> None:
    """Replace the sidecar atomically (temp file + rename in the same directory)."""
    meta = {"v": FORMAT_VERSION, "sha256": sha256, "content_type": content_type, **identity(st)}
    tmp = f".{uuid.uuid4().hex}.meta.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC
    fd = os.open(tmp, flags, FILE_MODE, dir_fd=parent_fd)
    try:
        # No fsync: a sidecar lost in a crash is detected (identity mismatch) and rebuilt.
        write_all(fd, json.dumps(meta, separators=(",", ":")).encode())
    finally:
        os.close(fd)
    try:
        os.replace(tmp, sidecar_name(name), src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=parent_fd)
        raise


def read_sidecar(parent_fd: int, name: str) -> dict[str, Any] | None:
    """The sidecar's contents, or None when it is missing, a link, or unreadable."""
    try:
        fd = os.open(sidecar_name(name), os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC, dir_fd=parent_fd)
    except OSError:
        return None
    try:
        meta = json.loads(os.read(fd, _MAX_SIDECAR_BYTES))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return meta if isinstance(meta, dict) and meta.get("v") == FORMAT_VERSION else None


def describe(key: str, parent_fd: int, name: str, fd: int) -> StoredObject:
    """Describe the open object ``fd``, trusting the sidecar only when it matches this very file."""
    st = os.fstat(fd)
    meta = read_sidecar(parent_fd, name)
    content_type = meta.get("content_type") if meta else None
    if not isinstance(content_type, str):
        content_type = None
    if meta is not None and all(meta.get(k) == v for k, v in identity(st).items()):
        sha = meta.get("sha256")
        if isinstance(sha, str) and len(sha) == 64:
            return StoredObject(key=key, size=st.st_size, sha256=sha, content_type=content_type)
    sha = hash_fd(fd)
    with contextlib.suppress(OSError):  # healing is best effort; the answer is right either way
        write_sidecar(parent_fd, name, st, sha, content_type)
    return StoredObject(key=key, size=st.st_size, sha256=sha, content_type=content_type)


def hash_fd(fd: int) -> str:
    """SHA-256 of the whole file, read with ``pread`` so the descriptor's position is untouched."""
    hasher = hashlib.sha256()
    offset = 0
    while block := os.pread(fd, _HASH_BLOCK, offset):
        hasher.update(block)
        offset += len(block)
    return hasher.hexdigest()
