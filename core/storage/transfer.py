"""Moving bytes between a store and the local file system or memory, for any ``ObjectStore``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace
from pathlib import Path

from core.errors import PayloadTooLarge
from core.storage._fileio import FILE_MODE, O_CLOEXEC, O_NOFOLLOW, ThreadFile
from core.storage.base import DEFAULT_CHUNK_SIZE, ObjectStore, StoredObject


async def fetch_to_file(store: ObjectStore, key: str, path: Path) -> StoredObject:
    """Download ``key`` to ``path`` (whose folder must exist), replacing it atomically.

    For engines that need a real file when ``store.local_path(key)`` is None (remote stores). The
    answer's ``size`` and ``sha256`` are those of the bytes actually written (hashed on the way),
    so a caller that pins a checksum can compare without reading the file again.
    """
    async with await store.open_read(key) as reader:
        size, sha256 = await write_stream_to_file(reader, path)
        return replace(reader.info, size=size, sha256=sha256)


async def write_stream_to_file(chunks: AsyncIterable[bytes], path: Path) -> tuple[int, str]:
    """Write ``chunks`` to ``path`` atomically (temp file, fsync, rename); their size and SHA-256."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    target = ThreadFile()
    hasher = hashlib.sha256()
    size = 0
    done = False
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC
        await asyncio.to_thread(target.open, lambda: os.open(tmp, flags, FILE_MODE))
        async for chunk in chunks:
            hasher.update(chunk)
            size += len(chunk)
            await asyncio.to_thread(target.write_all, chunk)
        await asyncio.to_thread(target.fsync)
        target.close()
        await asyncio.to_thread(os.replace, tmp, path)
        done = True
        return size, hasher.hexdigest()
    finally:
        target.close()
        if not done:
            with contextlib.suppress(OSError):
                tmp.unlink()


async def file_chunks(path: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
    """A local file as an async stream of chunks, e.g. ``store.put(key, file_chunks(p), …)``."""
    source = ThreadFile()
    try:
        await asyncio.to_thread(source.open, lambda: os.open(path, os.O_RDONLY | O_CLOEXEC))
        while chunk := await asyncio.to_thread(source.read, chunk_size):
            yield chunk
    finally:
        source.close()


async def read_bytes(store: ObjectStore, key: str, *, max_bytes: int) -> bytes:
    """A small object's whole content; ``PayloadTooLarge`` rather than loading more than ``max_bytes``."""
    async with await store.open_read(key) as reader:
        if reader.info.size > max_bytes:
            raise PayloadTooLarge(f"The object is larger than {max_bytes} bytes.", max_bytes=max_bytes)
        parts = [chunk async for chunk in reader]
    return b"".join(parts)
