"""``/v1/transcriptions``: create, read, list, ETA, subtitles, cancel, archive (the SSE stream is in
``transcription_stream``)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import web

from api.openapi import Body, operation
from api.schemas.common import dump
from api.schemas.transcriptions import (
    TRANSCRIPTION_FORM_SCHEMA,
    CreateTranscription,
    ListTranscriptions,
    SubtitlesQuery,
    Transcription,
    TranscriptionEta,
    TranscriptionList,
    transcription_view,
)
from api.state import PLATFORM, caller, catalog, current_user
from api.transcription_input import CreateRequest, create_request
from api.validation import as_utc, query_params
from core.jobs.states import is_terminal
from core.services import eta, subtitles, sync_wait, webhooks
from core.services.transcriptions import (
    TranscriptionJob,
    TranscriptionRequest,
    archive_job,
    cancel_job,
    get_transcription,
    list_transcriptions,
    request_transcription,
)

routes = web.RouteTableDef()
TAGS = ("Transcription",)
CLIENT_CHECK_SECONDS = 1.0  # how often a `wait` looks whether its client is still connected
T = TypeVar("T")


@routes.get("/v1/transcriptions")
@operation(
    "List transcriptions",
    tags=TAGS,
    description="Newest first. Filter by `status`, creation time (`from`, `until`) and text (`q`).",
    query=ListTranscriptions,
    responses={200: TranscriptionList},
    errors=(400,),
)
async def list_transcriptions_handler(request: web.Request) -> web.Response:
    params = query_params(request, ListTranscriptions)
    jobs, count = await list_transcriptions(
        request.app[PLATFORM],
        current_user(request).id,
        limit=params.limit,
        offset=params.offset,
        status=params.status,
        query=params.q,
        since=as_utc(params.since),
        until=as_utc(params.until),
    )
    page = TranscriptionList(
        items=[transcription_view(j) for j in jobs], count=count, limit=params.limit, offset=params.offset
    )
    return web.json_response(dump(page))


@routes.post("/v1/transcriptions")
@operation(
    "Create a transcription job",
    tags=TAGS,
    description="Starts transcribing audio given as exactly one of: `object_key` (a file uploaded "
    "through `POST /v1/uploads/presign`), `audio_data` (base64), `audio_url` (downloaded by the "
    "server), or a `multipart/form-data` request whose `file` part is the audio (the other fields "
    "as form fields). The file is measured and its length held from the balance (an `audio_url`: "
    "the shortest length, extended as it decodes); the job's real length is charged when it "
    'completes. With `task: "translate"` the transcript is in English (billed the same way). '
    "With `wait: true` (not with `audio_url`) short audio is answered when the job ends: 200; "
    "202 when it did not end within `SYNC_TIMEOUT` or is longer than `SYNC_MAX_SECONDS`.",
    body=Body(
        "application/json",
        model=CreateTranscription,
        alternatives={"multipart/form-data": TRANSCRIPTION_FORM_SCHEMA},
    ),
    responses={
        200: Body("application/json", model=Transcription, description="`wait`: the job has ended"),
        201: Transcription,
        202: Body("application/json", model=Transcription, description="`wait`: still running, poll it"),
    },
    errors=(400, 402, 404, 413, 503),
)
async def create_transcription_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    async with create_request(request, platform, user_id) as parsed:
        body = parsed.body
        job = await _create_job(request, parsed)
    if not body.wait:
        return web.json_response(dump(transcription_view(job)), status=201)
    if sync_wait.may_wait(platform.settings, job):
        waiting = sync_wait.finished_within(platform, user_id, job.id, platform.settings.sync_timeout)
        job = await until_client_leaves(request, waiting) or job
    status = 200 if is_terminal(job.status) else 202
    return web.json_response(dump(transcription_view(job)), status=status)


async def until_client_leaves(request: web.Request, waiting: Coroutine[Any, Any, T]) -> T | None:
    """``waiting``'s result, or None as soon as the client has closed the connection (checked
    every second): a wait nobody reads anymore stops following the job (which runs on)."""
    task = asyncio.ensure_future(waiting)
    try:
        while not task.done():
            transport = request.transport
            if transport is None or transport.is_closing():
                return None
            await asyncio.wait({task}, timeout=CLIENT_CHECK_SECONDS)
        return task.result()
    finally:
        task.cancel()


async def _create_job(request: web.Request, parsed: CreateRequest) -> TranscriptionJob:
    body = parsed.body
    platform, user_id = caller(request)
    callback = body.callback_url and await webhooks.check_callback_url(platform, user_id, body.callback_url)
    model = await asyncio.to_thread(catalog(request).check_asr_model, body.model, body.language, body.task)
    options: dict[str, object] = {"word_timestamps": body.word_timestamps, "channels": body.channels}
    if body.prompt:
        options["prompt"] = body.prompt
    if body.terms:
        options["terms"] = body.terms
    if body.speaker_labels:
        options["speaker_labels"] = body.speaker_labels
    if body.pricing_mode:
        options["pricing_mode"] = body.pricing_mode
    job = await request_transcription(
        platform,
        user_id,
        TranscriptionRequest(
            object_key=parsed.object_key,
            audio_url=body.audio_url,
            filename=body.filename,
            content_type=body.content_type,
            size_bytes=body.size_bytes,
            language=body.language,
            model=model,
            preset=body.chunk_prompt_preset,
            source=body.source_channel,
            task=body.task,
            options=options,
        ),
    )
    if callback:
        await webhooks.attach_callback(platform, user_id, job.id, callback)
    return job


@routes.get("/v1/transcriptions/{id}")
@operation("Get a transcription by ID", tags=TAGS, responses={200: Transcription}, errors=(404,))
async def get_transcription_handler(request: web.Request) -> web.Response:
    job = await get_transcription(request.app[PLATFORM], current_user(request).id, request.match_info["id"])
    return web.json_response(dump(transcription_view(job)))


@routes.get("/v1/transcriptions/{id}/eta")
@operation(
    "Get estimated time for transcription",
    tags=TAGS,
    description="Queue position and waiting time, from measured processing times of recent jobs.",
    responses={200: TranscriptionEta},
    errors=(404,),
)
async def transcription_eta_handler(request: web.Request) -> web.Response:
    platform, user_id = caller(request)
    job = await get_transcription(platform, user_id, request.match_info["id"])
    found = await eta.estimate(platform, job)
    return web.json_response(dump(TranscriptionEta.model_validate(found, from_attributes=True)))


@routes.get("/v1/transcriptions/{id}/subtitles")
@operation(
    "Get subtitles or plain text of a completed transcription",
    tags=TAGS,
    query=SubtitlesQuery,
    responses={
        200: Body(
            "application/x-subrip",
            schema={"type": "string"},
            description="SRT, WebVTT or text",
            alternatives={"text/vtt": {"type": "string"}, "text/plain": {"type": "string"}},
        ),
    },
    errors=(400, 404, 409),
)
async def transcription_subtitles_handler(request: web.Request) -> web.Response:
    params = query_params(request, SubtitlesQuery)
    job = await get_transcription(request.app[PLATFORM], current_user(request).id, request.match_info["id"])
    text = subtitles.render(
        job, params.format, max_chars_per_line=params.max_chars_per_line, max_lines=params.max_lines
    )
    stem = (job.filename or job.id).rsplit(".", 1)[0].replace('"', "")
    return web.Response(
        text=text,
        content_type=subtitles.CONTENT_TYPES[params.format],
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{stem}.{params.format}"'},
    )


@routes.post("/v1/transcriptions/{id}/cancel")
@operation(
    "Cancel a queued or running transcription",
    tags=TAGS,
    description="The held minutes go back to the balance at once. A finished job is a 409.",
    responses={200: Transcription},
    errors=(404, 409),
)
async def cancel_transcription_handler(request: web.Request) -> web.Response:
    job = await cancel_job(request.app[PLATFORM], current_user(request).id, request.match_info["id"])
    return web.json_response(dump(transcription_view(job)))


@routes.delete("/v1/transcriptions/{id}")
@operation(
    "Delete (archive) a finished transcription",
    tags=TAGS,
    description="Hidden from lists and reads from then on. A queued or running job is a 409: cancel it first.",
    responses={204: "Deleted"},
    errors=(404, 409),
)
async def delete_transcription_handler(request: web.Request) -> web.Response:
    await archive_job(request.app[PLATFORM], current_user(request).id, request.match_info["id"])
    return web.Response(status=204)
