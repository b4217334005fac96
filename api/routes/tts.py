"""``/v1/tts``: voices, queued synthesis jobs, downloads, and live streaming."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from aiohttp import web

from api.audio_response import audio_body, send_audio
from api.openapi import operation
from api.schemas.common import dump
from api.schemas.tts import (
    CreateSpeech,
    DownloadLink,
    ListSpeech,
    SpeechJobEnvelope,
    SpeechJobList,
    VoiceList,
    speech_view,
)
from api.state import PLATFORM, caller, catalog, current_user
from api.validation import json_body, query_params
from core.audio.encode import CONTENT_TYPES
from core.errors import AudioExpired, Conflict
from core.jobs.states import JobStatus
from core.services import webhooks
from core.services.catalog import DEFAULT_VOICE, voices
from core.services.speech import SpeechRequest, get_speech, list_speech, request_speech
from core.services.speech_stream import start_stream

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
TAGS = ("TTS",)
DOWNLOAD_TTL_SECONDS = 3600


@routes.get("/v1/tts/voices")
@operation("List available TTS voices", tags=TAGS, responses={200: VoiceList})
async def voices_handler(request: web.Request) -> web.Response:
    listed = await asyncio.to_thread(voices, catalog(request).engines.tts)
    return web.json_response({"voices": listed, "default": DEFAULT_VOICE})


def _speech_request(body: CreateSpeech) -> SpeechRequest:
    return SpeechRequest(
        text=body.text, voice=body.voice, audio_format=body.format, speed=body.speed, language=body.language
    )


@routes.post("/v1/tts")
@operation(
    "Create a TTS job",
    tags=TAGS,
    description="Queues a synthesis job; poll `GET /v1/tts/{id}`, then fetch `GET /v1/tts/{id}/download`.",
    body=CreateSpeech,
    responses={201: SpeechJobEnvelope},
    errors=(400, 402),
)
async def create_speech_handler(request: web.Request) -> web.Response:
    body = await json_body(request, CreateSpeech)
    platform, user_id = caller(request)
    callback = body.callback_url and await webhooks.check_callback_url(platform, user_id, body.callback_url)
    job = await request_speech(platform, user_id, _speech_request(body))
    if callback:
        await webhooks.attach_callback(platform, user_id, job.id, callback)
    return web.json_response(dump(SpeechJobEnvelope(job=speech_view(job))), status=201)


@routes.get("/v1/tts")
@operation(
    "List TTS jobs (newest first)", tags=TAGS, query=ListSpeech, responses={200: SpeechJobList}, errors=(400,)
)
async def list_speech_handler(request: web.Request) -> web.Response:
    params = query_params(request, ListSpeech)
    jobs, count = await list_speech(
        request.app[PLATFORM], current_user(request).id, limit=params.limit, offset=params.offset
    )
    page = SpeechJobList(
        items=[speech_view(j) for j in jobs], count=count, limit=params.limit, offset=params.offset
    )
    return web.json_response(dump(page))


@routes.get("/v1/tts/{id}")
@operation("Get a TTS job by ID", tags=TAGS, responses={200: SpeechJobEnvelope}, errors=(404,))
async def get_speech_handler(request: web.Request) -> web.Response:
    job = await get_speech(request.app[PLATFORM], current_user(request).id, request.match_info["id"])
    return web.json_response(dump(SpeechJobEnvelope(job=speech_view(job))))


@routes.get("/v1/tts/{id}/download")
@operation(
    "Get download URL for completed TTS audio",
    tags=TAGS,
    description="A signed URL valid for an hour; GET it without an API key. 409 until the job is completed; "
    "410 `audio_expired` once the audio was deleted after the retention period.",
    responses={200: DownloadLink},
    errors=(404, 409, 410),
)
async def download_speech_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    job = await get_speech(platform, user_id, request.match_info["id"])
    if job.audio_expired_at is not None:
        raise AudioExpired(
            f"The audio of this job was deleted after {platform.settings.retention_days:g} days; "
            "its text is kept. Synthesize it again for new audio.",
            expired_at=job.audio_expired_at.isoformat(),
        )
    if job.status != JobStatus.COMPLETED or not job.result_key:
        raise Conflict(
            f"The job is {job.status}; its audio can be downloaded once it is completed.", status=job.status
        )
    expires = int(time.time()) + DOWNLOAD_TTL_SECONDS
    url = platform.signer.url(
        platform.settings.effective_public_url, "GET", job.result_key, expires_at=expires
    )
    link = DownloadLink(
        url=url,
        expires_at=datetime.fromtimestamp(expires, UTC),
        content_type=CONTENT_TYPES.get(job.audio_format or "mp3", "application/octet-stream"),
    )
    return web.json_response(dump(link))


@routes.post("/v1/tts/stream")
@operation(
    "Stream TTS audio",
    tags=TAGS,
    description="Streams synthesized audio as it is made (chunked; MP3 unless `format` says otherwise): the "
    "first bytes come after the first sentence. Billed ceil(seconds of audio sent); when the balance runs "
    "out the stream ends there and the job says `truncated`. A stream is one of your `MAX_ACTIVE_JOBS` "
    "running jobs: with all of them busy it is a 429 `too_many_active_jobs`. The job appears in "
    "`GET /v1/tts` and stays downloadable.",
    body=CreateSpeech,
    responses={200: audio_body("Streaming audio (the `format` asked for; MP3 by default)")},
    errors=(400, 402, 429, 503),
)
async def stream_speech_handler(request: web.Request) -> web.StreamResponse:
    body = await json_body(request, CreateSpeech)
    platform, user_id = caller(request)
    callback = body.callback_url and await webhooks.check_callback_url(platform, user_id, body.callback_url)
    live = await start_stream(platform, catalog(request).engines.tts, user_id, _speech_request(body))
    if callback:
        await webhooks.attach_callback(platform, user_id, live.job.id, callback)
    return await send_audio(request, live)
