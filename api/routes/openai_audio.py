"""OpenAI-compatible audio: ``POST /v1/audio/transcriptions``, ``/translations`` and ``/speech``.

The official ``openai`` package works against these with ``base_url=".../v1"`` and a Nagovori key.
They go through the same jobs, queue and ledger as the native API (a transcription or translation
is a normal job that the request waits for, see ``openai_jobs``); errors come in OpenAI's shape
(``api.errors``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from api.audio_response import audio_body, send_audio
from api.openapi import Body, operation
from api.routes.openai_jobs import answer, stream_transcript, uploaded_form, wait_for_job
from api.schemas.openai import (
    DEFAULT_SPEAKERS,
    OpenAIDiarizedTranscription,
    OpenAISpeech,
    OpenAITranscription,
    OpenAIVerboseTranscription,
    TranscriptionForm,
    TranscriptionFormSchema,
    TranslationForm,
    TranslationFormSchema,
)
from api.state import PLATFORM, caller, catalog, current_user
from api.validation import json_body
from core.errors import InvalidInput
from core.services.catalog import OPENAI_TTS_ALIASES, UnknownModel
from core.services.diarization import require_two_channels
from core.services.speech import SpeechRequest
from core.services.speech_stream import start_stream
from core.services.transcriptions import TranscriptionRequest, request_transcription

routes = web.RouteTableDef()
TAGS = ("OpenAI-compatible",)
H = TypeVar("H", bound=Callable[..., Any])


def _audio_operation(
    summary: str, description: str, form: type[BaseModel], *, streams: bool
) -> Callable[[H], H]:
    """What the two audio routes document alike: a multipart form in, the text in OpenAI's response
    formats out (or as SSE when it ``streams``), errors in OpenAI's shape."""
    formats = "json / verbose_json (with the billed `usage`); text, srt and vtt come as text/plain"
    variants: tuple[type[BaseModel], ...] = (OpenAITranscription, OpenAIVerboseTranscription)
    text: dict[str, Any] = {"text/plain": {"type": "string"}}
    if streams:  # the transcription route: also diarized_json and SSE
        formats += "; diarized_json; stream=true as SSE"
        variants += (OpenAIDiarizedTranscription,)
        text["text/event-stream"] = {"type": "string"}
    answer = Body(
        "application/json",
        variants=variants,
        description=formats,
        alternatives=text,
    )
    return operation(
        summary,
        tags=TAGS,
        description=description,
        body=Body("multipart/form-data", model=form),
        responses={200: answer},
        errors=(400, 402, 413, 429, 503),
        openai_errors=True,
    )


@routes.post("/v1/audio/transcriptions")
@_audio_operation(
    "Transcribe audio (OpenAI-compatible)",
    "Multipart upload; answers when the transcript is ready (or streams it with `stream=true` "
    "as `transcript.text.delta` / `transcript.text.done` events). `whisper-1` maps to the default model. "
    "`usage.seconds` is what the request was billed. `diarized_json`: two-channel audio, each channel "
    "transcribed as its own speaker (`known_speaker_names[]`: left, right; default A, B), billed once "
    "for the audio's length; mono audio is a 400 `mono_audio`.",
    TranscriptionFormSchema,
    streams=True,
)
async def openai_transcription_handler(request: web.Request) -> web.StreamResponse:
    platform, user_id = caller(request)
    async with uploaded_form(request, platform, user_id, TranscriptionForm) as (form, object_key):
        language = form.language or "auto"
        model = await asyncio.to_thread(catalog(request).check_asr_model, form.model, language)
        word_level = "word" in form.timestamp_granularities
        options: dict[str, Any] = {"word_timestamps": word_level}
        if form.prompt:
            options["prompt"] = form.prompt
        diarized = form.response_format == "diarized_json"
        if diarized:
            await require_two_channels(platform, user_id, object_key)
            options.update(channels="split", speaker_labels=speakers(form.known_speaker_names))
        job = await request_transcription(
            platform,
            user_id,
            TranscriptionRequest(object_key=object_key, language=language, model=model, options=options),
        )
    if form.stream:
        return await stream_transcript(request, platform, user_id, job.id, diarized=diarized)
    return answer(await wait_for_job(platform, user_id, job.id), form.response_format, word_level=word_level)


def speakers(names: list[str]) -> list[str]:
    """The left and the right channel's speakers: the names given, then OpenAI's "A" and "B"."""
    if len(set(names)) < len(names):
        raise InvalidInput("known_speaker_names[] must be different names.", field="known_speaker_names[]")
    return (names + [label for label in DEFAULT_SPEAKERS if label not in names])[:2]


@routes.post("/v1/audio/translations")
@_audio_operation(
    "Translate audio into English (OpenAI-compatible)",
    "Multipart upload of speech in any language Whisper knows; answers with the English text "
    "when it is ready. A transcription job with `task: translate`, billed like any transcription. "
    "`whisper-1` maps to the default model, which must be a multilingual Whisper model (others: 400 "
    "`unsupported_task`).",
    TranslationFormSchema,
    streams=False,
)
async def openai_translation_handler(request: web.Request) -> web.StreamResponse:
    platform, user_id = caller(request)
    async with uploaded_form(request, platform, user_id, TranslationForm) as (form, object_key):
        model = await asyncio.to_thread(catalog(request).check_asr_model, form.model, "auto", "translate")
        options: dict[str, Any] = {"prompt": form.prompt} if form.prompt else {}
        job = await request_transcription(
            platform,
            user_id,
            TranscriptionRequest(
                object_key=object_key, language="auto", model=model, task="translate", options=options
            ),
        )
    return answer(await wait_for_job(platform, user_id, job.id), form.response_format)


@routes.post("/v1/audio/speech")
@operation(
    "Synthesize speech (OpenAI-compatible)",
    tags=TAGS,
    description="Answers with the audio, streamed as it is synthesized. `tts-1` and `tts-1-hd` map to the "
    "default engine; the engine names (`espeak`, `silero`) choose one. Billed like `POST /v1/tts/stream`: "
    "ceil(seconds sent); the audio ends where the balance does; a 429 when `MAX_ACTIVE_JOBS` jobs run.",
    body=OpenAISpeech,
    responses={200: audio_body("The audio, in `response_format` (MP3 by default)")},
    errors=(400, 402, 429, 503),
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
