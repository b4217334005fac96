"""``GET /v1/transcriptions/{id}/status`` and ``GET /v1/tts/{id}/status``: the light poll.

A job's state and progress by stage (Prosa's shape), read in one small query without the
transcript: for clients that poll often, or many jobs at once. The full job is
``GET /v1/transcriptions/{id}``; following one job closely is better done with its SSE stream.
"""

from __future__ import annotations

from aiohttp import web

from api.openapi import operation
from api.schemas.common import dump
from api.schemas.job_status import (
    SpeechStatus,
    TranscriptionStatus,
    speech_status_view,
    transcription_status_view,
)
from api.state import caller
from core.services.job_status import job_status

routes = web.RouteTableDef()


@routes.get("/v1/transcriptions/{id}/status")
@operation(
    "Get a transcription's status and progress",
    tags=("Transcription",),
    description="Light: the state and the progress in percent (`total`, and `details.transfer` — the "
    "input reaching us — and `details.transcribe` — the audio recognized), without the transcript.",
    responses={200: TranscriptionStatus},
    errors=(404,),
)
async def transcription_status_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    report = await job_status(platform, user_id, request.match_info["id"], kind="asr")
    return web.json_response(dump(transcription_status_view(report)))


@routes.get("/v1/tts/{id}/status")
@operation(
    "Get a TTS job's status and progress",
    tags=("TTS",),
    description="Light: the state and the progress in percent (`details.synthesize`), without the text.",
    responses={200: SpeechStatus},
    errors=(404,),
)
async def speech_status_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    report = await job_status(platform, user_id, request.match_info["id"], kind="tts")
    return web.json_response(dump(speech_status_view(report)))
