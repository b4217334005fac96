"""What the OpenAI-compatible audio routes share: reading the multipart form (the file stored as the
user's upload), waiting for the job, and answering in OpenAI's response formats or as its SSE stream.

Transcriptions and translations are the same kind of job (``task`` differs), so both routes answer
through here; nothing in this module registers a route.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict
from pydantic import BaseModel

from api.schemas.common import dump
from api.schemas.openai import (
    OpenAIDiarizedSegment,
    OpenAIDiarizedTranscription,
    OpenAISegment,
    OpenAITranscription,
    OpenAIUsage,
    OpenAIVerboseTranscription,
    OpenAIWord,
)
from api.sse import EventStream
from api.validation import multi_to_dict, validate
from core.errors import InvalidInput, NagovoriError, ServiceUnavailable
from core.platform import Platform
from core.services import job_feed, subtitles, uploads
from core.services.transcriptions import TranscriptionJob, require_some_minutes

CHUNK = 256 * 1024
HEAD_BYTES = 16  # what core.audio needs to recognize a container
MAX_FIELD_BYTES = 8192
POLL_SECONDS = 5.0
INPUT_ERRORS = (
    "invalid_audio",
    "audio_too_short",
    "audio_too_long",
    "unsupported_language",
    "invalid_option",
)
F = TypeVar("F", bound=BaseModel)


@contextlib.asynccontextmanager
async def uploaded_form(
    request: web.Request, platform: Platform, user_id: str, model: type[F]
) -> AsyncIterator[tuple[F, str]]:
    """The form (``read_form``) validated as ``model``, for the block that turns it into a job:
    when the form or the block refuses the request (a bad field, an unknown model, too little
    balance for this audio), the stored file is deleted again."""
    fields, object_key = await read_form(request, platform, user_id)
    try:
        yield validate(model, multi_to_dict(fields, model)), object_key
    except BaseException:
        await asyncio.shield(uploads.discard(platform, user_id, object_key))  # kept if a job uses it
        raise


async def read_form(request: web.Request, platform: Platform, user_id: str) -> tuple[MultiDict[str], str]:
    """The text fields, and the key of the uploaded ``file`` (streamed to the store, size-limited).

    Refused before anything is stored: a balance that cannot pay for the shortest audio, a file
    that does not start like a format we decode, a full storage quota. After a refusal nothing
    stays stored.
    """
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("Send multipart/form-data with the audio in the field 'file'.")
    await require_some_minutes(platform, user_id)
    fields: MultiDict[str] = MultiDict()
    object_key = None
    try:
        async for part in await request.multipart():
            if object_key is not None and isinstance(part, BodyPartReader) and part.name == "file":
                raise InvalidInput("Send one audio file per request.", field="file")
            object_key = await _read_part(part, platform, user_id, fields) or object_key
    except (HttpProcessingError, ValueError, UnicodeError) as exc:
        if object_key is not None:
            await asyncio.shield(uploads.discard(platform, user_id, object_key))
        raise InvalidInput(f"The multipart body is malformed: {exc}") from exc
    except BaseException:
        if object_key is not None:
            await asyncio.shield(uploads.discard(platform, user_id, object_key))
        raise
    if object_key is None:
        raise InvalidInput("The audio file is missing: send it as the multipart field 'file'.", field="file")
    return fields, object_key


async def _read_part(part: object, platform: Platform, user_id: str, fields: MultiDict[str]) -> str | None:
    """Store a ``file`` part (returning its object key) or add a text field to ``fields``."""
    if not isinstance(part, BodyPartReader) or not part.name:
        return None
    if part.name == "file":
        head = await _head(part)
        uploads.check_audio_head(head)
        presigned = await uploads.presign(platform, user_id, filename=part.filename or "audio")
        try:
            await uploads.receive(
                platform,
                presigned.object_key,
                _chunks(part, head),
                max_bytes=platform.settings.max_upload_bytes,
                sha256=None,
                content_type=None,
            )
        except BaseException:
            await asyncio.shield(uploads.discard(platform, user_id, presigned.object_key))
            raise
        return presigned.object_key
    raw = await part.read_chunk(MAX_FIELD_BYTES + 1)
    if len(raw) > MAX_FIELD_BYTES:
        raise InvalidInput(f"The field '{part.name}' is too long.", field=part.name)
    fields.add(part.name, raw.decode("utf-8", errors="replace"))
    return None


async def _head(part: BodyPartReader) -> bytes:
    """The part's first bytes (enough to recognize a container), or all of a shorter part."""
    head = b""
    while len(head) < HEAD_BYTES and (chunk := await part.read_chunk(CHUNK)):
        head += chunk
    return head


async def _chunks(part: BodyPartReader, head: bytes = b"") -> AsyncIterator[bytes]:
    if head:
        yield head
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def wait_for_job(platform: Platform, user_id: str, job_id: str) -> TranscriptionJob:
    """Until the job finishes: woken by its live events, re-reading the database now and then."""
    return await job_feed.finished(platform, user_id, job_id, quiet_seconds=POLL_SECONDS)


def _failure(job: TranscriptionJob) -> NagovoriError:
    message = job.error_message or f"The transcription {job.status}."
    error: NagovoriError = (
        InvalidInput(message) if job.error_code in INPUT_ERRORS else ServiceUnavailable(message)
    )
    error.code = job.error_code or job.status
    return error


def answer(job: TranscriptionJob, fmt: str, *, word_level: bool = False) -> web.Response:
    """A finished job in OpenAI's ``response_format``; a failed one as the error it failed with."""
    if job.status != "completed":
        raise _failure(job)
    text = job.transcript_text or ""
    if fmt == "text":
        return web.Response(text=text + "\n", content_type="text/plain", charset="utf-8")
    if fmt in ("srt", "vtt"):
        return web.Response(text=subtitles.render(job, fmt), content_type="text/plain", charset="utf-8")
    usage = usage_of(job)
    if fmt == "json":
        return web.json_response(dump(OpenAITranscription(text=text, usage=usage)))
    if fmt == "diarized_json":
        return web.json_response(dump(_diarized(job, usage)))
    return web.json_response(dump(_verbose(job, text, usage, word_level)))


def usage_of(job: TranscriptionJob) -> OpenAIUsage:
    """The seconds the job was billed (what gateways that meter audio read), not its raw length."""
    return OpenAIUsage(seconds=job.billed_seconds or 0)


def _diarized(job: TranscriptionJob, usage: OpenAIUsage) -> OpenAIDiarizedTranscription:
    segments = sorted(subtitles.segments_of(job), key=lambda s: (s.start, s.end))
    return OpenAIDiarizedTranscription(
        duration=round(job.duration_seconds or 0.0, 3),
        text=" ".join(s.text.strip() for s in segments if s.text.strip()),
        segments=[
            OpenAIDiarizedSegment(
                id=f"seg_{i}", speaker=s.speaker or "", start=s.start, end=s.end, text=s.text.strip()
            )
            for i, s in enumerate(segments)
        ],
        usage=usage,
    )


def _verbose(
    job: TranscriptionJob, text: str, usage: OpenAIUsage, word_level: bool
) -> OpenAIVerboseTranscription:
    segments = subtitles.segments_of(job)
    words = [OpenAIWord(word=w.text, start=w.start, end=w.end) for s in segments for w in s.words]
    translated = (job.options or {}).get("task") == "translate"
    return OpenAIVerboseTranscription(
        task="translate" if translated else "transcribe",
        # A translation's language is that of its text (as OpenAI's); the spoken one stays on the job.
        language="en" if translated else job.detected_language or job.language or "en",
        duration=round(job.duration_seconds or 0.0, 3),
        text=text,
        segments=[
            OpenAISegment(
                id=i,
                seek=0,
                start=s.start,
                end=s.end,
                text=s.text,
                tokens=[],
                temperature=0.0,
                avg_logprob=0.0,
                compression_ratio=1.0,
                no_speech_prob=0.0,
            )
            for i, s in enumerate(segments)
        ],
        words=words if word_level else None,
        usage=usage,
    )


async def stream_transcript(
    request: web.Request, platform: Platform, user_id: str, job_id: str, *, diarized: bool = False
) -> web.StreamResponse:
    """OpenAI's streaming: data-only SSE events, deltas that concatenate to the text, then done
    (with the billed ``usage``). ``diarized``: each recognized segment also comes as a
    ``transcript.text.segment`` event with its speaker, channel after channel."""
    stream = EventStream(request, named=False)
    sent = False
    segments = 0
    feed = job_feed.follow(platform, user_id, job_id, quiet_seconds=POLL_SECONDS)
    async with contextlib.aclosing(feed):
        await anext(feed)  # subscribed before the stream opens: the first snapshot says nothing new
        try:
            await stream.open()
            async for item in feed:
                if isinstance(item, job_feed.Tokens) and item.text.strip():
                    delta = (" " if sent else "") + item.text.strip()
                    sent = True
                    await stream.send(None, {"type": "transcript.text.delta", "delta": delta})
                    if diarized:
                        await stream.send(None, _segment_event(item, segments))
                        segments += 1
                elif isinstance(item, job_feed.End):
                    await _send_end(stream, item.job, sent_deltas=sent, diarized=diarized)
        except ConnectionResetError:
            return stream.response
    with contextlib.suppress(ConnectionResetError):
        await stream.close()
    return stream.response


def _segment_event(item: job_feed.Tokens, index: int) -> dict[str, object]:
    segment = OpenAIDiarizedSegment(
        id=f"seg_{index}",
        speaker=item.speaker or "",
        start=item.start or 0.0,
        end=item.end or 0.0,
        text=item.text.strip(),
    )
    return dump(segment)


async def _send_end(stream: EventStream, job: TranscriptionJob, *, sent_deltas: bool, diarized: bool) -> None:
    if job.status == "completed":
        text = _diarized(job, usage_of(job)).text if diarized else job.transcript_text or ""
        if not sent_deltas and text:
            await stream.send(None, {"type": "transcript.text.delta", "delta": text})
        done = {"type": "transcript.text.done", "text": text, "usage": dump(usage_of(job))}
        await stream.send(None, done)
    else:
        error = _failure(job)
        await stream.send(
            None, {"error": {"message": error.message, "type": "server_error", "code": error.code}}
        )
