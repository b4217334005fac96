"""``/v1/transcriptions``: create, read, list, ETA, subtitles, cancel, archive (the SSE stream is in
``transcription_stream``)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api.openapi import Body, operation
from api.schemas.common import dump
from api.schemas.transcriptions import (
    CreateTranscription,
    ListTranscriptions,
    SubtitlesQuery,
    Transcription,
    TranscriptionEta,
    TranscriptionList,
    transcription_view,
)
from api.state import PLATFORM, caller, catalog, current_user
from api.validation import as_utc, json_body, query_params
from core.services import eta, subtitles
from core.services.transcriptions import (
    TranscriptionRequest,
    archive_job,
    cancel_job,
    get_transcription,
    list_transcriptions,
    request_transcription,
)

routes = web.RouteTableDef()
TAGS = ("Transcription",)


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
    description="Starts transcribing a file uploaded through `POST /v1/uploads/presign`. The file is "
    "measured and its length held from the balance; the job's real length is charged when it completes. "
    'With `task: "translate"` the transcript is in English (billed the same way).',
    body=CreateTranscription,
    responses={201: Transcription},
    errors=(400, 402, 404, 413, 503),
)
async def create_transcription_handler(request: web.Request) -> web.Response:
    body = await json_body(request, CreateTranscription)
    platform = request.app[PLATFORM]
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
        current_user(request).id,
        TranscriptionRequest(
            object_key=body.object_key,
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
    return web.json_response(dump(transcription_view(job)), status=201)


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
