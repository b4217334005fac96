"""Live audio answers (``POST /v1/tts/stream``, ``POST /v1/audio/speech``): chunked, and documented."""

from __future__ import annotations

import logging

from aiohttp import web

from api.openapi import Body
from core.audio.encode import CONTENT_TYPES
from core.services.speech_stream import LiveSpeech

log = logging.getLogger(__name__)


def audio_body(description: str) -> Body:
    """An audio answer: MP3 unless another format was asked for."""
    binary = {"type": "string", "format": "binary"}
    others = {kind: binary for kind in CONTENT_TYPES.values() if kind != "audio/mpeg"}
    return Body("audio/mpeg", schema=binary, description=description, alternatives=others)


async def send_audio(request: web.Request, live: LiveSpeech) -> web.StreamResponse:
    """Write a live synthesis as a chunked response; closing the generator settles the bill."""
    response = web.StreamResponse(
        headers={
            "Content-Type": live.content_type,
            "X-Nagovori-Job-Id": live.job.id,
            "Cache-Control": "no-cache",
        }
    )
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        async for chunk in live.chunks:
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client left; what was synthesized is charged
    except Exception:
        # Headers are gone already: cut the stream so the client sees it incomplete (the job failed
        # and its hold was released).
        log.exception("speech stream %s failed", live.job.id)
        response.force_close()
    finally:
        await live.chunks.aclose()
    return response
