"""Where a transcription's audio comes from: exactly one of an uploaded ``object_key``, base64
``audio_data`` in the request, an ``audio_url`` the worker fetches, or a multipart ``file``.

Audio that comes with the request (base64, multipart) is stored as the user's upload through
``uploads.store_stream`` — the same head check, size limit, storage quota and SHA-256
de-duplication as a presigned PUT — and the job is then created for that object like any other.
An ``audio_url`` is only checked for its shape when the job is created
(``transcriptions.request_transcription``); the worker fetches it (``core.jobs.fetch_input``), so no
request handler ever waits on someone else's server.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator, Mapping

from core.errors import InvalidInput, PayloadTooLarge
from core.platform import Platform
from core.services import uploads
from core.services.transcriptions import require_some_minutes
from core.settings import Settings

INPUTS = ("object_key", "audio_data", "audio_url", "file")
JSON_FIELDS_ALLOWANCE = 64 * 1024
"""Room in a JSON body for the fields beside ``audio_data`` (prompt, terms, ...)."""
DECODE_CHARS = 256 * 1024  # base64 characters decoded at a time (a multiple of 4)
_DATA_URL = re.compile(r"data:[\w.+/-]*(;[\w=.+-]+)*;base64,", re.ASCII)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}", re.ASCII)
_WHITESPACE = re.compile(r"\s")


def chosen_input(given: Mapping[str, object], *, wait: bool = False) -> str:
    """The one input among ``given`` (name → value; empty values count as absent), else a 400 that
    names the fields. ``wait`` cannot be combined with ``audio_url`` (its download has no bound)."""
    present = [name for name in INPUTS if given.get(name)]
    if len(present) != 1:
        found = f"got {' and '.join(present)}" if present else "got none"
        raise InvalidInput(
            "Send exactly one audio input: object_key, audio_data, audio_url or a multipart 'file' "
            f"({found}).",
            field=present[1] if len(present) > 1 else "object_key",
            inputs=present,
        )
    if wait and present[0] == "audio_url":
        raise InvalidInput(
            "wait is not available with audio_url: poll the job, or send the audio itself.", field="wait"
        )
    return present[0]


def max_json_body_bytes(settings: Settings) -> int:
    """The largest JSON body a transcription request may have: base64 of the largest ``audio_data``
    plus the other fields (a longer declared body is refused before it is read)."""
    return _encoded_length(settings.max_audio_data_bytes) + JSON_FIELDS_ALLOWANCE


async def store_audio_data(
    platform: Platform, user_id: str, text: str, *, filename: str | None
) -> uploads.StoredAudio:
    """Store base64 ``audio_data`` as the user's upload (or find the same bytes stored before).

    Refused before anything is decoded or stored: a size over ``MAX_AUDIO_DATA_MB`` (from the
    text's length), text that is not base64, a balance that cannot pay for the shortest audio.
    Then decoded a slice at a time into the store: the decoded file is never in memory whole.
    """
    limit = platform.settings.max_audio_data_bytes
    if prefix := _DATA_URL.match(text):
        text = text[prefix.end() :]  # a data: URL, as browsers' FileReader gives it
    if _WHITESPACE.search(text):
        text = _WHITESPACE.sub("", text)  # line-wrapped output of `base64` and MIME encoders
    size = _decoded_length(text)
    if size > limit:
        raise PayloadTooLarge(
            f"audio_data decodes to {size} bytes; the limit is {limit} bytes "
            f"({platform.settings.max_audio_data_mb} MB). Upload larger files through "
            "POST /v1/uploads/presign or send them as a multipart 'file'.",
            field="audio_data",
            limit_bytes=limit,
        )
    if len(text) % 4 or not _BASE64.fullmatch(text):
        raise InvalidInput(
            "audio_data is not valid base64 (the standard alphabet, padded with '=').", field="audio_data"
        )
    await require_some_minutes(platform, user_id)
    return await uploads.store_stream(
        platform, user_id, _decoded(text), filename=filename or "audio", max_bytes=limit
    )


def _encoded_length(size: int) -> int:
    return 4 * -(-size // 3)


def _decoded_length(text: str) -> int:
    return len(text) * 3 // 4 - len(text[-2:]) + len(text[-2:].rstrip("="))


async def _decoded(text: str) -> AsyncIterator[bytes]:
    for start in range(0, len(text), DECODE_CHARS):
        try:
            yield base64.b64decode(text[start : start + DECODE_CHARS], validate=True)
        except binascii.Error as exc:  # '=' inside the text: the regex allows it only at the end
            raise InvalidInput("audio_data is not valid base64.", field="audio_data") from exc
