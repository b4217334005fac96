"""OpenAI-compatible audio: ``POST /v1/audio/transcriptions`` and ``POST /v1/audio/speech``.

The official ``openai`` package works against these with ``base_url=".../v1"`` and a Nagovori key.
Both go through the same jobs, queue and ledger as the native API (the transcription is a normal
job that this request waits for); errors come in OpenAI's shape (``api.errors``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict

from api.audio_response import audio_body, send_audio
from api.openapi import Body, operation
from api.schemas.common import dump
from api.schemas.openai import (
    OpenAISegment,
    OpenAISpeech,
    OpenAITranscription,
    OpenAIUsage,
    OpenAIVerboseTranscription,
    OpenAIWord,
    TranscriptionForm,
    TranscriptionFormSchema,
)
from api.sse import EventStream
from api.state import PLATFORM, catalog, current_user
from api.validation import json_body, multi_to_dict, validate
from core.db.models import TranscriptionJob
from core.errors import InvalidInput, NagovoriError, ServiceUnavailable
from core.events import Event, job_channel
from core.jobs.states import is_terminal
from core.platform import Platform
from core.services import subtitles, uploads
from core.services.catalog import OPENAI_TTS_ALIASES, UnknownModel
from core.services.speech import SpeechRequest
from core.services.speech_stream import start_stream
from core.services.transcriptions import TranscriptionRequest, get_transcription, request_transcription

routes = web.RouteTableDef()
TAGS = ("OpenAI-compatible",)
CHUNK = 256 * 1024
MAX_FIELD_BYTES = 8192
POLL_SECONDS = 5.0
INPUT_ERRORS = (
    "invalid_audio",
    "audio_too_short",
    "audio_too_long",
    "unsupported_language",
    "invalid_option",
)


@routes.post("/v1/audio/transcriptions")
@operation(
    "Transcribe audio (OpenAI-compatible)",
    tags=TAGS,
    description="Multipart upload; answers when the transcript is ready (or streams it with `stream=true` "
    "as `transcript.text.delta` / `transcript.text.done` events). `whisper-1` maps to the default model.",
    body=Body("multipart/form-data", model=TranscriptionFormSchema),
    responses={
        200: Body(
            "application/json",
            variants=(OpenAITranscription, OpenAIVerboseTranscription),
            description="json / verbose_json; text, srt and vtt come as text/plain; stream=true as SSE",
            alternatives={"text/plain": {"type": "string"}, "text/event-stream": {"type": "string"}},
        ),
    },
    errors=(400, 402, 413, 503),
    openai_errors=True,
)
async def openai_transcription_handler(request: web.Request) -> web.StreamResponse:
    platform = request.app[PLATFORM]
    user_id = current_user(request).id
    fields, object_key = await _read_form(request, platform, user_id)
    form = validate(TranscriptionForm, multi_to_dict(fields, TranscriptionForm))
    if object_key is None:
        raise InvalidInput("The audio file is missing: send it as the multipart field 'file'.", field="file")
    language = form.language or "auto"
    model = await asyncio.to_thread(catalog(request).check_asr_model, form.model, language)
    options: dict[str, Any] = {"word_timestamps": "word" in form.timestamp_granularities}
    if form.prompt:
        options["prompt"] = form.prompt
    job = await request_transcription(
        platform,
        user_id,
        TranscriptionRequest(object_key=object_key, language=language, model=model, options=options),
    )
    if form.stream:
        return await _stream(request, platform, user_id, job.id)
    job = await _wait(platform, user_id, job.id)
    return _answer(job, form.response_format, word_level="word" in form.timestamp_granularities)


async def _read_form(
    request: web.Request, platform: Platform, user_id: str
) -> tuple[MultiDict[str], str | None]:
    """The text fields, and the uploaded file stored as the user's object (streamed, size-limited)."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidInput("Send multipart/form-data with the audio in the field 'file'.")
    fields: MultiDict[str] = MultiDict()
    object_key = None
    try:
        async for part in await request.multipart():
            object_key = await _read_part(part, platform, user_id, fields) or object_key
    except (HttpProcessingError, ValueError, UnicodeError) as exc:
        raise InvalidInput(f"The multipart body is malformed: {exc}") from exc
    return fields, object_key


async def _read_part(part: object, platform: Platform, user_id: str, fields: MultiDict[str]) -> str | None:
    """Store a ``file`` part (returning its object key) or add a text field to ``fields``."""
    if not isinstance(part, BodyPartReader) or not part.name:
        return None
    if part.name == "file":
        presigned = await uploads.presign(platform, user_id, filename=part.filename or "audio")
        await uploads.receive(
            platform,
            presigned.object_key,
            _chunks(part),
            max_bytes=platform.settings.max_upload_bytes,
            sha256=None,
            content_type=None,
        )
        return presigned.object_key
    raw = await part.read_chunk(MAX_FIELD_BYTES + 1)
    if len(raw) > MAX_FIELD_BYTES:
        raise InvalidInput(f"The field '{part.name}' is too long.", field=part.name)
    fields.add(part.name, raw.decode("utf-8", errors="replace"))
    return None


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def _wait(platform: Platform, user_id: str, job_id: str) -> TranscriptionJob:
    """Until the job finishes: woken by its live events, re-reading the database now and then."""
    async with platform.events.subscribe(job_channel(job_id)) as events:
        inbox: asyncio.Queue[Event] = asyncio.Queue()
        pump = asyncio.create_task(_pump(events, inbox))
        try:
            while True:
                job = await get_transcription(platform, user_id, job_id)
                if is_terminal(job.status):
                    return job
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_terminal_event(inbox), timeout=POLL_SECONDS)
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump


async def _pump(events: AsyncIterator[Event], inbox: asyncio.Queue[Event]) -> None:
    async for event in events:
        inbox.put_nowait(event)


async def _terminal_event(inbox: asyncio.Queue[Event]) -> None:
    while (await inbox.get()).get("type") not in ("done", "error", "status"):
        pass


def _failure(job: TranscriptionJob) -> NagovoriError:
    message = job.error_message or f"The transcription {job.status}."
    error: NagovoriError = (
        InvalidInput(message) if job.error_code in INPUT_ERRORS else ServiceUnavailable(message)
    )
    error.code = job.error_code or job.status
    return error


def _answer(job: TranscriptionJob, fmt: str, *, word_level: bool) -> web.Response:
    if job.status != "completed":
        raise _failure(job)
    text = job.transcript_text or ""
    if fmt == "text":
        return web.Response(text=text + "\n", content_type="text/plain", charset="utf-8")
    if fmt in ("srt", "vtt"):
        return web.Response(text=subtitles.render(job, fmt), content_type="text/plain", charset="utf-8")
    usage = OpenAIUsage(seconds=round(job.duration_seconds or 0.0, 3))
    if fmt == "json":
        return web.json_response({**dump(OpenAITranscription(text=text)), "usage": dump(usage)})
    return web.json_response(dump(_verbose(job, text, usage, word_level)))


def _verbose(
    job: TranscriptionJob, text: str, usage: OpenAIUsage, word_level: bool
) -> OpenAIVerboseTranscription:
    segments = subtitles.segments_of(job)
    words = [OpenAIWord(word=w.text, start=w.start, end=w.end) for s in segments for w in s.words]
    return OpenAIVerboseTranscription(
        language=job.detected_language or job.language or "en",
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


async def _stream(request: web.Request, platform: Platform, user_id: str, job_id: str) -> web.StreamResponse:
    """OpenAI's streaming: data-only SSE events, deltas that concatenate to the text, then done."""
    stream = EventStream(request, named=False)
    sent: list[str] = []
    async with platform.events.subscribe(job_channel(job_id)) as events:
        inbox: asyncio.Queue[Event] = asyncio.Queue()
        pump = asyncio.create_task(_pump(events, inbox))
        try:
            await stream.open()
            job = await get_transcription(platform, user_id, job_id)
            while not is_terminal(job.status):
                try:
                    event = await asyncio.wait_for(inbox.get(), timeout=POLL_SECONDS)
                except TimeoutError:
                    event = {"type": "status"}
                if event.get("type") == "token" and str(event.get("text", "")).strip():
                    delta = (" " if sent else "") + str(event["text"]).strip()
                    sent.append(delta)
                    await stream.send(None, {"type": "transcript.text.delta", "delta": delta})
                elif event.get("type") in ("status", "done", "error"):
                    job = await get_transcription(platform, user_id, job_id)
            if job.status == "completed":
                text = job.transcript_text or ""
                if not sent and text:
                    await stream.send(None, {"type": "transcript.text.delta", "delta": text})
                await stream.send(None, {"type": "transcript.text.done", "text": text})
            else:
                error = _failure(job)
                await stream.send(
                    None, {"error": {"message": error.message, "type": "server_error", "code": error.code}}
                )
        except ConnectionResetError:
            return stream.response
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
    with contextlib.suppress(ConnectionResetError):
        await stream.close()
    return stream.response


@routes.post("/v1/audio/speech")
@operation(
    "Synthesize speech (OpenAI-compatible)",
    tags=TAGS,
    description="Answers with the audio, streamed as it is synthesized. `tts-1` and `tts-1-hd` map to the "
    "default engine; the engine names (`espeak`, `silero`) choose one.",
    body=OpenAISpeech,
    responses={200: audio_body("The audio, in `response_format` (MP3 by default)")},
    errors=(400, 402, 503),
    openai_errors=True,
)
async def openai_speech_handler(request: web.Request) -> web.StreamResponse:
    body = await json_body(request, OpenAISpeech)
    cat = catalog(request)
    engine: str | None = None
    if body.model not in OPENAI_TTS_ALIASES:
        models = await asyncio.to_thread(cat.models)
        match = next((m for m in models if m.kind == "tts" and body.model in (m.id, m.engine)), None)
        if match is None:
            raise UnknownModel(
                f"Unknown model '{body.model}'; use tts-1 or one of GET /v1/models.", field="model"
            )
        engine = match.engine
    speech = SpeechRequest(
        text=body.input, voice=body.voice, audio_format=body.response_format, speed=body.speed, engine=engine
    )
    live = await start_stream(request.app[PLATFORM], cat.engines.tts, current_user(request).id, speech)
    return await send_audio(request, live)
