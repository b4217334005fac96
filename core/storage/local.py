"""The local-disk object store: one file per key under a root directory, written atomically.

An upload streams into a dot-named temp file in the object's own directory (same file system, so
the final ``rename`` is atomic: a reader sees the old object or the new one, never half a file),
counting and hashing as it goes; it is fsynced before the rename so an acknowledged upload survives
a crash. Blocking calls run in worker threads; memory stays at one write block per upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import stat
import threading
import uuid
from collections.abc import AsyncIterable
from pathlib import Path

from core.errors import Conflict, InvalidObjectKey, NotFound, PayloadTooLarge
from core.storage._fileio import (
    FILE_MODE,
    O_CLOEXEC,
    O_NOFOLLOW,
    ThreadFile,
    open_object,
    open_parent,
    write_all,
)
from core.storage._sidecar import describe, sidecar_name, write_sidecar
from core.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ChecksumMismatch,
    ObjectExists,
    ObjectReader,
    ObjectStore,
    StoredObject,
    checked_put,
)
from core.storage.keys import validate_key

WRITE_BLOCK = 256 * 1024  # small network chunks are gathered so each thread hop writes a useful amount


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root`` (``Settings.objects_dir``); see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int,
        expected_sha256: str | None = None,
        content_type: str | None = None,
        overwrite: bool = True,
    ) -> StoredObject:
        request = checked_put(
            key, max_bytes=max_bytes, expected_sha256=expected_sha256, content_type=content_type
        )
        key, expected, content_type = request.key, request.expected_sha256, request.content_type
        upload = _Upload(self.root, key)
        try:
            await asyncio.to_thread(upload.open)
            size, block = 0, bytearray()
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:  # stop reading at once: the rest of the body is never consumed
                    raise PayloadTooLarge(
                        f"The file is larger than the limit of {_describe_size(max_bytes)}.",
                        max_bytes=max_bytes,
                    )
                block += chunk
                if len(block) >= WRITE_BLOCK:
                    full, block = block, bytearray()
                    await asyncio.to_thread(upload.write, full)
            if block:
                await asyncio.to_thread(upload.write, block)
            if expected is not None and upload.sha256 != expected:
                raise ChecksumMismatch(expected_sha256=expected, actual_sha256=upload.sha256)
            return await asyncio.to_thread(upload.commit, content_type, overwrite)
        finally:
            if not upload.discard(wait=False):
                # Cancelled while a thread still writes or commits: clean up once it is done, in a
                # thread, so the event loop never waits on an fsync.
                asyncio.get_running_loop().run_in_executor(None, upload.discard)

    async def stat(self, key: str) -> StoredObject | None:
        key = validate_key(key)
        return await asyncio.to_thread(self._stat, key)

    def _stat(self, key: str) -> StoredObject | None:
        try:
            parent, name = open_parent(self.root, key, create=False)
        except NotFound:
            return None
        try:
            try:
                fd = open_object(parent, name, key)
            except NotFound:
                return None
            try:
                return describe(key, parent, name, fd)
            finally:
                os.close(fd)
        finally:
            os.close(parent)

    async def open_read(
        self, key: str, *, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> ObjectReader:
        key = validate_key(key)
        if offset < 0 or (length is not None and length < 0) or chunk_size <= 0:
            raise ValueError("offset and length must not be negative, chunk_size must be positive")
        reader = _LocalReader(chunk_size)
        try:
            await asyncio.to_thread(reader.open, self.root, key, offset, length)
        except BaseException:
            await reader.aclose()
            raise
        return reader

    def local_path(self, key: str) -> Path:
        key = validate_key(key)
        path = self.root
        segments = key.split("/")
        for index, segment in enumerate(segments):
            path = path / segment
            try:
                mode = path.lstat().st_mode
            except FileNotFoundError:
                raise NotFound("Object not found.", key=key) from None
            except NotADirectoryError:
                raise NotFound("Object not found.", key=key) from None
            if stat.S_ISLNK(mode):
                raise InvalidObjectKey("The object key leads through a link outside the store.", key=key)
            is_last = index == len(segments) - 1
            if (is_last and not stat.S_ISREG(mode)) or (not is_last and not stat.S_ISDIR(mode)):
                raise NotFound("Object not found.", key=key)
        return path

    async def delete(self, key: str) -> None:
        key = validate_key(key)
        await asyncio.to_thread(self._delete, key)

    def _delete(self, key: str) -> None:
        try:
            parent, name = open_parent(self.root, key, create=False)
        except NotFound:
            return
        try:
            for entry in (name, sidecar_name(name)):
                try:
                    os.unlink(entry, dir_fd=parent)
                except FileNotFoundError:
                    pass
                except OSError as exc:  # a directory where the object would be: there is no object
                    if exc.errno not in {errno.EISDIR, errno.EPERM}:
                        raise
        finally:
            os.close(parent)


class _Upload:
    """One upload's temp file; every method runs in a worker thread except ``discard``."""

    def __init__(self, root: Path, key: str) -> None:
        self._root, self._key = root, key
        self._name = key.rsplit("/", 1)[-1]
        self._tmp = f".{uuid.uuid4().hex}.part"
        self._lock = threading.Lock()
        self._parent: int | None = None
        self._fd: int | None = None
        self._hasher = hashlib.sha256()
        self._committed = self._released = False
        self.size = 0

    @property
    def sha256(self) -> str:
        with self._lock:
            return self._hasher.hexdigest()

    def open(self) -> None:
        with self._lock:
            if self._released:
                return
            self._parent, _ = open_parent(self._root, self._key, create=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC
            self._fd = os.open(self._tmp, flags, FILE_MODE, dir_fd=self._parent)

    def write(self, data: bytearray) -> None:
        with self._lock:
            if self._fd is None or self._released:
                raise ValueError("the upload is closed")
            self._hasher.update(data)
            write_all(self._fd, data)
            self.size += len(data)

    def commit(self, content_type: str | None, overwrite: bool = True) -> StoredObject:
        with self._lock:
            if self._fd is None or self._parent is None or self._released:
                raise ValueError("the upload is closed")
            os.fsync(self._fd)
            st = os.fstat(self._fd)
            sha = self._hasher.hexdigest()
            if overwrite:
                self._replace()
            else:
                self._link()
            self._committed = True
            # The object is already in place; a sidecar that fails to land is rebuilt by the next stat.
            with contextlib.suppress(OSError):
                write_sidecar(self._parent, self._name, st, sha, content_type)
            with contextlib.suppress(OSError):
                os.fsync(self._parent)  # make the rename itself durable
            self._release()
        return StoredObject(key=self._key, size=self.size, sha256=sha, content_type=content_type)

    def _replace(self) -> None:
        assert self._parent is not None
        try:
            os.replace(self._tmp, self._name, src_dir_fd=self._parent, dst_dir_fd=self._parent)
        except OSError as exc:
            if exc.errno in {errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST}:
                raise Conflict("The object key collides with existing objects.", key=self._key) from None
            raise

    def _link(self) -> None:
        """Publish the temp file only if the name is free: ``link`` fails atomically with EEXIST
        where ``rename`` would replace, so of two racing writers one wins."""
        assert self._parent is not None
        try:
            os.link(self._tmp, self._name, src_dir_fd=self._parent, dst_dir_fd=self._parent)
        except FileExistsError:
            try:
                is_dir = stat.S_ISDIR(os.stat(self._name, dir_fd=self._parent, follow_symlinks=False).st_mode)
            except OSError:
                is_dir = False
            if is_dir:
                raise Conflict("The object key collides with existing objects.", key=self._key) from None
            raise ObjectExists(key=self._key) from None
        # The object is in place under its name; the temp name goes (a crash here leaves only a
        # dot-named leftover, never a second object).
        with contextlib.suppress(OSError):
            os.unlink(self._tmp, dir_fd=self._parent)

    def discard(self, *, wait: bool = True) -> bool:
        """Close and remove the temp file unless committed; False when busy and not ``wait``."""
        if not self._lock.acquire(blocking=wait):
            return False
        try:
            self._release()
        finally:
            self._lock.release()
        return True

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._fd is not None:
            os.close(self._fd)
        if self._parent is not None:
            if not self._committed:
                with contextlib.suppress(OSError):
                    os.unlink(self._tmp, dir_fd=self._parent)
            os.close(self._parent)


class _LocalReader(ObjectReader):
    """Streams one opened file with ``pread``; the descriptor pins this version of the object."""

    def __init__(self, chunk_size: int) -> None:
        self._file = ThreadFile()
        self._chunk_size = chunk_size
        self._position = self._end = 0

    def open(self, root: Path, key: str, offset: int, length: int | None) -> None:
        def opener() -> int:
            parent, name = open_parent(root, key, create=False)
            try:
                fd = open_object(parent, name, key)
                try:
                    self.info = describe(key, parent, name, fd)
                except BaseException:
                    os.close(fd)
                    raise
                return fd
            finally:
                os.close(parent)

        if not self._file.open(opener):
            return  # closed before it opened (the caller was cancelled)
        end = self.info.size if length is None else min(self.info.size, offset + length)
        self._position, self._end = min(offset, end), end

    async def read_chunk(self) -> bytes:
        if self._position >= self._end:
            return b""
        size = min(self._chunk_size, self._end - self._position)
        data = await asyncio.to_thread(self._file.pread, size, self._position)
        if not data:  # cannot happen for our own immutable files; guards against outside truncation
            self._end = self._position
        self._position += len(data)
        return data

    async def aclose(self) -> None:
        self._file.close()


def _describe_size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit} bytes"
