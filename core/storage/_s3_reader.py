"""Streaming one S3 object (or a byte range of it) to the caller, chunk by chunk."""

from __future__ import annotations

import contextlib
from typing import Any

from core.storage.base import ObjectReader, StoredObject


class S3Reader(ObjectReader):
    """Reads a ``GetObject`` body; ``body`` None is an empty range (nothing to read)."""

    def __init__(self, info: StoredObject, body: Any | None, chunk_size: int) -> None:
        self.info = info
        self._body = body
        self._chunk_size = chunk_size

    async def read_chunk(self) -> bytes:
        if self._body is None:
            return b""
        data: bytes = await self._body.read(self._chunk_size)
        if not data:
            await self.aclose()
        return data

    async def aclose(self) -> None:
        body, self._body = self._body, None
        if body is not None:
            with contextlib.suppress(Exception):  # the connection is released either way
                await body.aclose()


def parse_total_size(content_range: str | None, content_length: int) -> int:
    """The whole object's size from ``Content-Range: bytes a-b/total`` (else the body's length)."""
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return content_length
