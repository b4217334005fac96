"""File-system primitives of the local store: no-follow path walking and thread-safe descriptors.

Keys are resolved one segment at a time with ``openat``-style calls and ``O_NOFOLLOW``, so neither a
symlink planted inside the store nor a directory swapped for one between check and use can lead a
read or a write outside the root.

``asyncio.to_thread`` keeps running a blocking call after the awaiting task is cancelled; had the
task closed the descriptor meanwhile, the thread could write into whatever file reused its number.
``ThreadFile`` therefore serialises every operation on its descriptor with a lock, and ``close``
waits for the operation in flight (at most one chunk).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from core.errors import Conflict, InvalidObjectKey, NotFound

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
DIR_MODE = 0o750
FILE_MODE = 0o640
_LINK_ERRNOS = {errno.ELOOP, errno.ENOTDIR, errno.EMLINK}


def open_parent(root: Path, key: str, *, create: bool) -> tuple[int, str]:
    """Open the directory holding ``key`` (creating it when asked); return its fd and the last segment.

    ``NotFound`` when a directory is missing (reads), ``InvalidObjectKey`` when a segment is a
    symlink, ``Conflict`` when an object occupies a name the key needs as a directory.
    """
    *folders, name = key.split("/")
    if create:
        root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    try:
        fd = os.open(root, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound("Object not found.", key=key) from None
    try:
        for folder in folders:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(folder, DIR_MODE, dir_fd=fd)
            child = _open_at(
                fd, folder, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, key, create=create
            )
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd, name


def open_object(parent_fd: int, name: str, key: str) -> int:
    """Open a stored object for reading without following a symlink; ``NotFound`` unless a file."""
    # O_NONBLOCK: a FIFO dropped into the store must not hang the reader; files ignore it.
    fd = _open_at(parent_fd, name, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, key, create=False)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotFound("Object not found.", key=key)
    return fd


def _open_at(parent_fd: int, name: str, flags: int, key: str, *, create: bool) -> int:
    """``os.open`` of ``name`` inside ``parent_fd``, its failures told as the store's errors."""
    try:
        return os.open(name, flags, dir_fd=parent_fd)
    except FileNotFoundError:
        raise NotFound("Object not found.", key=key) from None
    except OSError as exc:
        _raise_for_segment(exc, parent_fd, name, key, create=create)


def _raise_for_segment(exc: OSError, parent_fd: int, name: str, key: str, *, create: bool) -> NoReturn:
    try:
        mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        raise InvalidObjectKey("The object key leads through a link outside the store.", key=key) from None
    if exc.errno in _LINK_ERRNOS or exc.errno == errno.EISDIR:
        if create:
            raise Conflict("The object key collides with an existing object.", key=key) from None
        raise NotFound("Object not found.", key=key) from None
    raise exc


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """``os.write`` until every byte is written (it may write less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class ThreadFile:
    """An owned file descriptor whose operations may run in worker threads (see module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._closed = False

    def open(self, opener: Callable[[], int]) -> bool:
        """Run ``opener`` (returns the descriptor) unless the file was closed meanwhile."""
        with self._lock:
            if self._closed:
                return False
            self._fd = opener()
            return True

    def _require(self) -> int:
        if self._fd is None or self._closed:
            raise ValueError("I/O on a closed file")
        return self._fd

    def write_all(self, data: bytes | bytearray | memoryview) -> None:
        with self._lock:
            write_all(self._require(), data)

    def read(self, size: int) -> bytes:
        with self._lock:
            return os.read(self._require(), size)

    def pread(self, size: int, offset: int) -> bytes:
        with self._lock:
            return os.pread(self._require(), size, offset)

    def fsync(self) -> None:
        with self._lock:
            os.fsync(self._require())

    def close(self) -> None:
        """Close the descriptor once, after the operation in flight (safe to call from the loop)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
