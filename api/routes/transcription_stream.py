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

Live events are best effort (they are not stored), so the stream also re-reads the job whenever it
has been quiet for a while, and sends a comment line to keep proxies from closing it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from api.openapi import Body, operation
from api.schemas.common import dump
from api.schemas.transcriptions import transcription_view
from api.sse import EventStream
from api.state import PLATFORM, current_user
from core.db.models import TranscriptionJob
from core.events import Event, job_channel
from core.jobs.states import is_terminal
from core.platform import Platform
from core.services.transcriptions import get_transcription

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
    platform = request.app[PLATFORM]
    user_id = current_user(request).id
    job_id = request.match_info["id"]
    await get_transcription(platform, user_id, job_id)  # 404 before the stream opens
    stream = EventStream(request)
    async with platform.events.subscribe(job_channel(job_id)) as events:
        inbox: asyncio.Queue[Event] = asyncio.Queue()
        pump = asyncio.create_task(_pump(events, inbox))
        try:
            await stream.open()
            await _follow(platform, user_id, job_id, stream, inbox)
        except ConnectionResetError:
            pass  # the client left
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
    with contextlib.suppress(ConnectionResetError):
        await stream.close()
    return stream.response


async def _pump(events: AsyncIterator[Event], inbox: asyncio.Queue[Event]) -> None:
    """Move live events into a queue: waiting on the queue can time out without closing the source."""
    async for event in events:
        inbox.put_nowait(event)


async def _follow(
    platform: Platform, user_id: str, job_id: str, stream: EventStream, inbox: asyncio.Queue[Event]
) -> None:
    job = await get_transcription(platform, user_id, job_id)
    snapshot = dump(transcription_view(job))
    await stream.send("update", snapshot)
    if is_terminal(job.status):
        await _finish(stream, job)
        return
    while True:
        try:
            event = await asyncio.wait_for(inbox.get(), timeout=QUIET_SECONDS)
        except TimeoutError:
            job = await get_transcription(platform, user_id, job_id)
            fresh = dump(transcription_view(job))
            if is_terminal(job.status):
                await _finish(stream, job)
                return
            if fresh != snapshot:
                snapshot = fresh
                await stream.send("update", snapshot)
            else:
                await stream.comment("keep-alive")
            continue
        kind = event.get("type")
        if kind == "token":
            for token in _tokens(event):
                await stream.send("token", token)
        elif kind == "progress":
            progress = float(event.get("progress", snapshot["progress"]))
            if progress != snapshot["progress"]:
                snapshot = {**snapshot, "progress": progress}
                await stream.send("update", snapshot)
        elif kind in ("status", "done", "error"):
            job = await get_transcription(platform, user_id, job_id)
            if is_terminal(job.status):
                await _finish(stream, job)
                return
            snapshot = dump(transcription_view(job))
            await stream.send("update", snapshot)


async def _finish(stream: EventStream, job: TranscriptionJob) -> None:
    final = dump(transcription_view(job))
    if job.status == "failed":
        await stream.send("error", {"job_id": job.id, "code": job.error_code, "message": job.error_message})
    await stream.send("done", final)


def _tokens(event: Event) -> list[dict[str, Any]]:
    """One ``token`` per word of a recognized segment, with the segment's time span (and speaker)."""
    common: dict[str, Any] = {"job_id": event.get("job_id")}
    if "start" in event:
        common["segment_start"] = event["start"]
    if "end" in event:
        common["segment_end"] = event["end"]
    if event.get("speaker"):
        common["speaker"] = event["speaker"]
    return [{**common, "text": word} for word in str(event.get("text", "")).split()]
