"""The object-store protocol every store implements (local disk, S3-compatible).

Stores speak in keys (see ``keys.py``) and byte streams only; where the bytes live is the store's
business. Every stored object is described by a ``StoredObject`` whose ``sha256`` and ``size`` the
store guarantees, so callers (upload de-duplication, downloads) can trust them without re-hashing.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from core.errors import Conflict, InvalidInput, PayloadTooLarge
from core.storage.keys import validate_key

DEFAULT_CHUNK_SIZE = 256 * 1024

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_TYPE = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")


class ChecksumMismatch(InvalidInput):
    """The uploaded bytes do not hash to the SHA-256 the client announced."""

    code = "checksum_mismatch"
    default_message = "The uploaded file does not match the announced SHA-256."


class ObjectExists(Conflict):
    """A write that must not replace anything found an object under its key already."""

    code = "object_exists"
    default_message = "An object is already stored under this key; it cannot be replaced."


@dataclass(frozen=True)
class DirectUpload:
    """A URL a client PUTs a file to straight into the store, and the headers it must send with it
    (they are part of the signature: a request without them, or with other values, is refused)."""

    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class StoredObject:
    """What the store knows about one object."""

    key: str
    size: int
    sha256: str  # lower-case hex
    content_type: str | None = None


class ObjectReader(ABC):
    """An opened object: its description, then its bytes chunk by chunk.

    Use as ``async with await store.open_read(key) as reader: async for chunk in reader: …``;
    iterating to the end also closes it.
    """

    info: StoredObject

    @abstractmethod
    async def read_chunk(self) -> bytes:
        """The next chunk; ``b""`` at the end."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release the underlying file or connection (idempotent)."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self.read_chunk()
        if not chunk:
            await self.aclose()
            raise StopAsyncIteration
        return chunk

    async def __aenter__(self) -> ObjectReader:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class ObjectStore(Protocol):
    """Keyed, immutable-per-write byte objects. All keys go through ``keys.validate_key``.

    Errors: ``InvalidObjectKey`` for a bad key, ``NotFound`` for a missing object,
    ``PayloadTooLarge`` over ``max_bytes``, ``ChecksumMismatch`` when ``expected_sha256`` differs,
    ``Conflict`` when a key collides with the "folder" of other keys, ``ObjectExists`` when
    ``overwrite=False`` finds an object.
    """

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
        """Store the stream under ``key``, replacing any previous object atomically.

        The stream is consumed only until it passes ``max_bytes``; on any error nothing is stored
        and a previous object under the key stays as it was. With ``overwrite=False`` an existing
        object is never replaced: the check and the write are one atomic step, so of two racing
        writers exactly one wins and the other gets ``ObjectExists`` (uploads are written once).
        """
        ...

    async def stat(self, key: str) -> StoredObject | None:
        """The object's description, or None when there is none."""
        ...

    async def open_read(
        self, key: str, *, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> ObjectReader:
        """Open the object for streaming (``NotFound`` when missing).

        ``offset``/``length`` select a byte range (for HTTP ``Range``); a range past the end is
        clipped, so it may yield nothing. ``reader.info`` always describes the whole object.
        """
        ...

    def local_path(self, key: str) -> Path | None:
        """A file engines can decode from in place, or None for remote stores (then use
        ``transfer.fetch_to_file``). ``NotFound`` when a local object is missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        ...

    async def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> StoredObject:
        """Store a small in-memory object (results, transcripts)."""
        return await self.put(key, _single_chunk(data), max_bytes=len(data), content_type=content_type)

    def presign_put(
        self,
        key: str,
        *,
        size: int,
        expires_in: int,
        sha256: str | None = None,
        content_type: str | None = None,
    ) -> DirectUpload | None:
        """A URL to PUT exactly ``size`` bytes (and, when given, exactly the content ``sha256``) to
        ``key`` once, straight into the store; None when the store has no such URLs (then the API's
        own signed route receives the bytes). A store that cannot bind the size or the checksum
        still answers: callers check the object when it is first used (``services.uploads``)."""
        return None

    async def adopt_upload(self, key: str, path: Path, *, max_bytes: int) -> StoredObject:
        """Copy an object a client wrote through ``presign_put`` to the local file ``path``, its
        ``size``/``sha256`` those of the bytes written (hashed on the way); ``PayloadTooLarge``,
        before reading, when it is larger than ``max_bytes``. A store that records digests also
        records this one, so later reads need not hash again."""
        from core.storage.transfer import write_stream_to_file  # transfer builds on this module

        async with await self.open_read(key) as reader:
            if reader.info.size > max_bytes:
                raise PayloadTooLarge(f"The object is larger than {max_bytes} bytes.", max_bytes=max_bytes)
            size, sha256 = await write_stream_to_file(reader, path)
            return StoredObject(key=key, size=size, sha256=sha256, content_type=reader.info.content_type)

    def presign_get(self, key: str, *, expires_in: int) -> str | None:
        """A URL that downloads the object straight from the store, or None (the API serves it)."""
        return None

    async def aclose(self) -> None:
        """Release connections opened in the running event loop (nothing for the local store)."""
        return None


async def _single_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


def normalize_sha256(value: str, *, field: str = "sha256") -> str:
    """The digest in lower-case hex; ``InvalidInput`` unless it is 64 hexadecimal characters."""
    clean = value.strip().lower() if isinstance(value, str) else ""
    if not _SHA256.fullmatch(clean):
        raise InvalidInput(f"'{field}' must be a SHA-256 digest: 64 hexadecimal characters.", field=field)
    return clean


def validate_content_type(value: str | None) -> str | None:
    """The content type unchanged when it is printable ASCII of at most 255 characters."""
    if value is None:
        return None
    if not _CONTENT_TYPE.fullmatch(value):
        raise InvalidInput("The content type is not valid.", field="content_type")
    return value


@dataclass(frozen=True)
class PutRequest:
    """What every store checks before a ``put`` reads any byte."""

    key: str
    expected_sha256: str | None
    content_type: str | None


def checked_put(
    key: str, *, max_bytes: int, expected_sha256: str | None, content_type: str | None
) -> PutRequest:
    """The ``put`` arguments checked and normalized (the same rules for every store)."""
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")
    return PutRequest(
        validate_key(key),
        None if expected_sha256 is None else normalize_sha256(expected_sha256),
        validate_content_type(content_type),
    )
