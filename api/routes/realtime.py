"""Realtime speech to text over a WebSocket: ``GET /v1/stt/realtime`` (docs/api.md).

The protocol (Speech7's): the first message is the JSON config, then binary frames of 16 kHz mono
s16le audio (or, with ``audio_format: "auto"``, WebM/OGG Opus chunks as a browser's MediaRecorder
sends them); an empty binary frame finishes. The server answers partials, finals, and
``{"finished": true, "billed_seconds": N, "job_id": ...}`` before it closes; any failure is one
``{"error": {...}}`` message and a close code (1008 for a refused session or config, 1003 for
data the protocol does not accept, 1011 for a server failure).

Authentication: the usual headers, or ``?token=`` holding a one-time token from ``POST
/v1/stt/realtime/sessions`` (browsers cannot set WebSocket headers). An API key in the query is
refused as everywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiohttp import WSMsgType, web

from api.auth import KEY_SHAPE, CredentialsInQuery, authenticate
from api.openapi import operation
from api.ratelimit import count_request
from api.schemas.realtime import RealtimeSessionToken
from api.state import PLATFORM, caller, catalog
from core.errors import AuthenticationFailed, DomainError, InvalidInput
from core.platform import Platform
from core.services import auth_cache
from core.services.realtime import (
    RealtimeSession,
    error_body,
    parse_config,
    result_message,
)
from core.services.realtime_tokens import tokens_of

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

POLICY = 1008  # a refused session or config (RFC 6455 "policy violation")
UNSUPPORTED = 1003  # data the protocol does not take (text where audio is due, odd-length PCM)
SERVER_ERROR = 1011


@routes.post("/v1/stt/realtime/sessions")
@operation(
    "Get a one-time token for a realtime session",
    tags=("Realtime",),
    description="For browsers, which cannot set headers on a WebSocket: open `/v1/stt/realtime?token=…` "
    "within 60 s. The token works once and names only you; never put an API key in a URL.",
    responses={201: RealtimeSessionToken},
)
async def create_session_token(request: web.Request) -> web.Response:
    """A one-time token (60 s) for opening ``/v1/stt/realtime?token=…`` from a browser."""
    platform, user_id = caller(request)
    issued = tokens_of(platform).issue(user_id)
    body = RealtimeSessionToken(token=issued.token, expires_at=issued.expires_at)
    return web.json_response(body.model_dump(), status=201)


@routes.get("/v1/stt/realtime")
@operation(
    "Transcribe speech as it is spoken (WebSocket)",
    tags=("Realtime",),
    description="Upgrade to a WebSocket (`Authorization`/`X-API-Key` headers, or `?token=` from `POST "
    "/v1/stt/realtime/sessions`). Send the JSON config first (`audio_format` `pcm_s16le` with "
    "`sample_rate` 16000, or `auto` for WebM/OGG Opus chunks; `language` or `language_hints`, `model`, "
    "`enable_endpoint_detection`, `save`), then binary audio frames, then an empty frame to finish. "
    "The server sends partial (`is_final: false`) and final (`is_final: true`, `start`, `end`, "
    '`words`) text and, last, `{"finished": true, "billed_seconds": N, "job_id": …}`; a '
    'failure is one `{"error": {…}}` message and close code 1008 (refused), 1003 (bad data) or '
    "1011. Billed by the seconds of audio received, rounded up as elsewhere. Protocol: docs/api.md.",
    responses={101: "Switching Protocols: the realtime WebSocket"},
)
async def realtime(request: web.Request) -> web.StreamResponse:
    platform: Platform = request.app[PLATFORM]
    user_id, source = await _caller(request, platform)  # a plain 401 before the upgrade
    await count_request(request, user_id)  # and a plain 429 (opening a session is a request)
    engines = catalog(request).engines.asr
    settings = platform.settings
    ws = web.WebSocketResponse(max_msg_size=settings.realtime_max_frame_bytes, heartbeat=20)
    await ws.prepare(request)
    try:
        message = await ws.receive(timeout=settings.realtime_config_timeout_seconds)
    except TimeoutError:
        await _refuse(ws, "config_timeout", "No config arrived in time; send it as the first message.")
        return ws
    if message.type != WSMsgType.TEXT:
        if message.type == WSMsgType.BINARY:
            await _refuse(ws, "invalid_request", "The first message must be the JSON config.", UNSUPPORTED)
        return ws
    try:
        config = parse_config(message.data)
        session = await RealtimeSession.start(platform, engines, user_id, config, source=source)
    except Exception as exc:
        await _send_error(ws, exc, POLICY)
        return ws
    await _stream(ws, session, settings.realtime_idle_timeout_seconds, settings.realtime_max_session_seconds)
    return ws


async def _stream(ws: web.WebSocketResponse, session: RealtimeSession, idle: float, longest: int) -> None:
    """Audio in, text out, until the client finishes, goes away, or the money or time runs out."""
    settled = False
    try:
        while True:
            try:
                message = await ws.receive(timeout=idle)
            except TimeoutError:
                await _finish(ws, session, error=("idle_timeout", f"No audio for {idle:g} s."))
                settled = True
                return
            if message.type != WSMsgType.BINARY:
                if message.type == WSMsgType.TEXT:
                    await session.abort()
                    settled = True
                    await _send_error(
                        ws, InvalidInput("After the config, send binary audio frames only."), UNSUPPORTED
                    )
                return  # closed or broken: the finally bills what was received
            if not message.data:
                await _finish(ws, session)
                settled = True
                return
            for result in await session.feed(message.data):
                await ws.send_json(result_message(result))
            if session.out_of_minutes:
                await _finish(ws, session, error=("insufficient_minutes", "The balance ran out."))
                settled = True
                return
            if session.too_long:
                await _finish(
                    ws, session, error=("session_too_long", f"A session lasts at most {longest} s.")
                )
                settled = True
                return
    except InvalidInput as exc:
        await session.abort()
        settled = True
        await _send_error(ws, exc, UNSUPPORTED)
    except ConnectionError:
        pass  # the client went away while we answered: the finally bills what arrived
    except Exception as exc:
        await session.abort(failed=True)
        settled = True
        await _send_error(ws, exc, SERVER_ERROR)
    finally:
        if not settled:  # the client went away (or this task was cancelled): bill what arrived
            await asyncio.shield(session.abort())


async def _finish(
    ws: web.WebSocketResponse, session: RealtimeSession, *, error: tuple[str, str] | None = None
) -> None:
    """The last finals, the error that ended the session if any, the bill, and a normal close."""
    results, billed, job_id = await session.finish()
    with contextlib.suppress(ConnectionError, RuntimeError):
        for result in results:
            await ws.send_json(result_message(result))
        if error is not None:
            await ws.send_json({"error": {"code": error[0], "message": error[1]}})
        await ws.send_json({"finished": True, "billed_seconds": billed, "job_id": job_id})
        await ws.close()


async def _send_error(ws: web.WebSocketResponse, exc: BaseException, code: int) -> None:
    if not isinstance(exc, DomainError):  # a bug or a broken engine: the client sees a generic error
        log.error("realtime session failed", exc_info=exc)
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_json(error_body(exc))
        await ws.close(code=code)


async def _refuse(ws: web.WebSocketResponse, code: str, message: str, close_code: int = POLICY) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_json({"error": {"code": code, "message": message}})
        await ws.close(code=close_code)


async def _caller(request: web.Request, platform: Platform) -> tuple[str, str]:
    """The user and channel: header credentials (the API), or a one-time session token in
    ``?token=`` (never an API key) naming the channel that issued it (the API or the dashboard)."""
    token = request.query.get("token")
    if token is None:
        user = await authenticate(request)
        return user.id, "api"
    if KEY_SHAPE.fullmatch(token.strip()) or len(request.query) > 1:
        raise CredentialsInQuery()
    if not web.WebSocketResponse().can_prepare(request).ok:  # a plain GET must not burn the token
        raise InvalidInput("Open this URL as a WebSocket (Upgrade: websocket).")
    holder = await tokens_of(platform).redeem(token, now=time.time())
    if await auth_cache.user_by_id(platform, holder.user_id) is None:
        raise AuthenticationFailed("The realtime session token's user does not exist.")
    return holder.user_id, holder.source
