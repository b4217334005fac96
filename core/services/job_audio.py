"""The input audio of a user's transcription, for playback in a browser: the whole file or one
byte range of it (HTTP ``Range``, which a media element needs to seek)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import NotFound
from core.platform import Platform
from core.services.transcriptions import get_transcription
from core.storage.base import ObjectReader

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    """``length`` bytes from ``start`` of an object of ``total`` bytes."""

    start: int
    length: int
    total: int

    @property
    def end(self) -> int:  # inclusive, as Content-Range counts
        return self.start + self.length - 1


class RangeNotSatisfiable(Exception):
    """The asked range lies outside the object (HTTP 416)."""

    def __init__(self, total: int) -> None:
        super().__init__(f"bytes */{total}")
        self.total = total


@dataclass(frozen=True)
class JobAudio:
    """The opened input: its reader, its media type, and the range served (None: all of it)."""

    reader: ObjectReader
    content_type: str
    size: int
    part: ByteRange | None


def parse_range(header: str | None, total: int) -> ByteRange | None:
    """One ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` range; None for no header or a form we do not
    serve (several ranges): then the whole object is sent, as HTTP allows."""
    match = _RANGE.match((header or "").strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        length = min(int(last), total)
        if length <= 0:
            raise RangeNotSatisfiable(total)
        return ByteRange(total - length, length, total)
    start = int(first)
    if start >= total:
        raise RangeNotSatisfiable(total)
    end = min(int(last), total - 1) if last else total - 1
    if end < start:
        raise RangeNotSatisfiable(total)
    return ByteRange(start, end - start + 1, total)


async def open_input(platform: Platform, user_id: str, job_id: str, range_header: str | None) -> JobAudio:
    """The job's uploaded audio (NotFound for someone else's job, or one without a stored file)."""
    job = await get_transcription(platform, user_id, job_id)
    if not job.object_key:
        raise NotFound("This transcription has no stored audio.", id=job_id)
    info = await platform.store.stat(job.object_key)
    if info is None:
        raise NotFound("The audio of this transcription is no longer stored.", id=job_id)
    part = parse_range(range_header, info.size)
    reader = await platform.store.open_read(
        job.object_key,
        offset=part.start if part else 0,
        length=part.length if part else None,
    )
    content_type = job.content_type or info.content_type or ""
    if not content_type.startswith(("audio/", "video/")):
        # Served from the site's own origin: never as a type a browser would run (text/html).
        content_type = "application/octet-stream"
    return JobAudio(reader, content_type, info.size, part)
