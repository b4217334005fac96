"""``GET /v1/transcriptions/{id}/stream``: Server-Sent Events of one job.

Events (each an ``event:`` line and one JSON ``data:`` line):

* ``update`` — the full job (as ``GET /v1/transcriptions/{id}``): first, at once, read from the
  database *after* subscribing, so a late subscriber misses no state; then on every status or
  progress change;
* ``token`` — one recognized word (``text``) as the worker produces it, with the time span of its
  segment (``segment_start``, ``segment_end``) and, for two-channel calls, the ``speaker``;
* ``error`` — the job failed (``code``, ``message``);
* ``done`` — the job finished (completed, failed or cancelled): the final job with the whole
  transcript. The stream ends after it.

The events come from the job's feed (``core.services.job_feed``), which re-reads the job whenever
its live events (best effort, not stored) have been quiet for a while; a re-read that shows no
change goes out as a comment line, which keeps proxies from closing the stream.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web

from api.openapi import Body, operation
from api.schemas.common import dump
from api.schemas.transcriptions import transcription_view
from api.sse import EventStream
from api.state import PLATFORM, current_user
from core.services import job_feed
from core.services.transcriptions import TranscriptionJob

routes = web.RouteTableDef()

QUIET_SECONDS = 10.0


@routes.get("/v1/transcriptions/{id}/stream")
@operation(
    "Stream transcription progress (SSE)",
    tags=("Transcription",),
    description="Server-Sent Events: `update` (full snapshot, first and on every change), `token` "
    "(recognized text as it comes), `error` (the job failed), `done` (final state; the stream ends).",
    responses={200: Body("text/event-stream", schema={"type": "string"}, description="SSE event stream")},
    errors=(404,),
)
async def transcription_stream_handler(request: web.Request) -> web.StreamResponse:
    job_id = request.match_info["id"]
    feed = job_feed.follow(
        request.app[PLATFORM], current_user(request).id, job_id, quiet_seconds=QUIET_SECONDS
    )
    stream = EventStream(request)
    async with contextlib.aclosing(feed):
        first = await anext(feed)  # 404 before the stream opens
        try:
            await stream.open()
            shown = await _send(stream, job_id, first, {})
            async for item in feed:
                shown = await _send(stream, job_id, item, shown)
        except ConnectionResetError:
            pass  # the client left
    with contextlib.suppress(ConnectionResetError):
        await stream.close()
    return stream.response


async def _send(
    stream: EventStream, job_id: str, item: job_feed.FeedItem, shown: dict[str, Any]
) -> dict[str, Any]:
    """One item of the feed as SSE events; returns the job as the client now knows it. A quiet
    re-read that shows no change becomes a keep-alive comment."""
    if isinstance(item, job_feed.End):
        await _finish(stream, item.job)
    elif isinstance(item, job_feed.Tokens):
        for token in _tokens(job_id, item):
            await stream.send("token", token)
    elif isinstance(item, job_feed.Progress):
        if item.progress != shown.get("progress"):
            shown = {**shown, "progress": item.progress}
            await stream.send("update", shown)
    else:
        fresh = dump(transcription_view(item.job))
        if item.quiet and fresh == shown:
            await stream.comment("keep-alive")
        else:
            shown = fresh
            await stream.send("update", shown)
    return shown


async def _finish(stream: EventStream, job: TranscriptionJob) -> None:
    final = dump(transcription_view(job))
    if job.status == "failed":
        await stream.send("error", {"job_id": job.id, "code": job.error_code, "message": job.error_message})
    await stream.send("done", final)


def _tokens(job_id: str, segment: job_feed.Tokens) -> list[dict[str, Any]]:
    """One ``token`` per word of a recognized segment, with the segment's time span (and speaker)."""
    common: dict[str, Any] = {"job_id": job_id}
    if segment.start is not None:
        common["segment_start"] = segment.start
    if segment.end is not None:
        common["segment_end"] = segment.end
    if segment.speaker:
        common["speaker"] = segment.speaker
    return [{**common, "text": word} for word in segment.text.split()]
