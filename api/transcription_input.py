"""Reading ``POST /v1/transcriptions``: a JSON body (which may carry base64 audio, so it may be
larger than other JSON bodies) or a ``multipart/form-data`` form with the audio as its ``file``.

Only parsing happens here; which input is allowed, the checks and the storing are the core's
(``core.services.audio_input``, ``core.services.uploads``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict

from api.schemas.transcriptions import CreateTranscription
from api.validation import json_body, multi_to_dict, validate
from core.errors import InvalidInput, PayloadTooLarge
from core.platform import Platform
from core.services import audio_input, uploads
from core.services.transcriptions import require_some_minutes

CHUNK = 256 * 1024
MAX_FIELD_BYTES = 8192
MAX_FIELDS = 100


@dataclass(frozen=True)
class CreateRequest:
    """The request's fields, which input it chose, and the object key of its audio (an uploaded
    one, or audio it carried and that is now stored; None for an ``audio_url``). ``stored_here``:
    this request stored that object (it was not there before), so refusing it deletes it."""

    body: CreateTranscription
    input: str
    object_key: str | None
    stored_here: bool = False


@contextlib.asynccontextmanager
async def create_request(
    request: web.Request, platform: Platform, user_id: str
) -> AsyncIterator[CreateRequest]:
    """The parsed request, for the block that turns it into a job. Audio the request carried is
    stored first; when the request or the block refuses it (a bad field, an unknown model, too
    little balance for this audio), that stored audio is deleted again (kept if a job uses it)."""
    if request.content_type.startswith("multipart/"):
        parsed = await _form_request(request, platform, user_id)
    else:
        parsed = await _json_request(request, platform, user_id)
    try:
        yield parsed
    except BaseException:
        if parsed.stored_here and parsed.object_key is not None:
            await asyncio.shield(uploads.discard(platform, user_id, parsed.object_key))
        raise


async def _json_request(request: web.Request, platform: Platform, user_id: str) -> CreateRequest:
    limit = audio_input.max_json_body_bytes(platform.settings)
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"The body is {request.content_length} bytes; the limit is {limit} "
            f"(audio_data up to {platform.settings.max_audio_data_mb} MB as base64). Upload larger "
            "files through POST /v1/uploads/presign or send them as a multipart 'file'.",
            limit_bytes=limit,
        )
    body = await json_body(request.clone(client_max_size=limit), CreateTranscription)
    chosen = audio_input.chosen_input(body.model_dump(include=set(audio_input.INPUTS)), wait=body.wait)
    if chosen != "audio_data":
        return CreateRequest(body, chosen, body.object_key)
    assert body.audio_data is not None
    stored = await audio_input.store_audio_data(platform, user_id, body.audio_data, filename=body.filename)
    return CreateRequest(body, chosen, stored.upload.object_key, stored_here=stored.new)


async def _form_request(request: web.Request, platform: Platform, user_id: str) -> CreateRequest:
    """The form's ``file`` is stored as it streams in (before the fields after it are known);
    the fields are then checked as the JSON body's would be."""
    await require_some_minutes(platform, user_id)
    fields: MultiDict[str] = MultiDict()
    stored: uploads.StoredAudio | None = None
    try:
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or not part.name:
                continue
            if part.name != "file":
                fields.add(part.name, await _field(part, len(fields)))
            elif stored is not None:
                raise InvalidInput("Send one audio file per request.", field="file")
            else:
                stored = await uploads.store_stream(
                    platform,
                    user_id,
                    _chunks(part),
                    filename=part.filename or "audio",
                    max_bytes=platform.settings.max_upload_bytes,
                )
        body = validate(CreateTranscription, multi_to_dict(fields, CreateTranscription))
        given = {**body.model_dump(include=set(audio_input.INPUTS)), "file": stored is not None}
        if audio_input.chosen_input(given, wait=body.wait) != "file":
            raise InvalidInput("A multipart request carries its audio as the part 'file'.", field="file")
    except BaseException as exc:
        if stored is not None and stored.new:
            await asyncio.shield(uploads.discard(platform, user_id, stored.upload.object_key))
        if isinstance(exc, HttpProcessingError | ValueError | UnicodeError):
            raise InvalidInput(f"The multipart body is malformed: {exc}") from exc
        raise
    assert stored is not None
    return CreateRequest(body, "file", stored.upload.object_key, stored_here=stored.new)


async def _field(part: BodyPartReader, count: int) -> str:
    if count >= MAX_FIELDS:
        raise InvalidInput(f"The form has more than {MAX_FIELDS} fields.")
    raw = await part.read_chunk(MAX_FIELD_BYTES + 1)
    if len(raw) > MAX_FIELD_BYTES:
        raise InvalidInput(f"The field '{part.name}' is too long.", field=part.name)
    return raw.decode("utf-8")


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk
