"""Per request: an id, two metrics and one access log line (``observe_middleware``, outermost).

The id is the client's ``X-Request-ID`` when it looks sane (64 characters at most, letters, digits
and ``._:-``), else a fresh one; it is echoed in the answer's ``X-Request-ID`` and set in
``core.observability.request_context`` for the request's duration, so every line the request
logs — and the job it creates, through its ``options`` — carries it. The access line names the
method, the route's pattern, the path without its query string (signed URLs keep their
signatures there), the status, the duration, the user when known and the peer address; never a
header value or a body.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from api.errors import Handler
from api.state import USER_KEY
from core.observability import metrics, request_context

REQUEST_ID = web.RequestKey("request_id", str)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_LOGGED_PATH = 200
UNMATCHED = "unmatched"  # no route: one series for every path that 404s or 405s
# The Telegram webhook's path is derived from the bot token and is meant to be unguessable: it is
# named, never shown (bots/service.py, which the API may not import, builds it).
WEBHOOK_PREFIX = "/telegram/webhook/"
WEBHOOK_ROUTE = WEBHOOK_PREFIX + "{secret}"

access_log = logging.getLogger("nagovori.access")


@web.middleware
async def observe_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = (
        request_context.sane_request_id(request.headers.get(request_context.REQUEST_ID_HEADER))
        or request_context.new_request_id()
    )
    request[REQUEST_ID] = request_id
    token = request_context.request_id.set(request_id)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects and the like (the error middleware answers the rest)
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away first (nginx's code for it)
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = route_pattern(request)
        method = request.method if request.method in METHODS else "other"
        metrics.record_request(method, route, status, elapsed)
        if access_log.isEnabledFor(logging.INFO):
            _log_access(request, method, route, status, elapsed)
        request_context.request_id.reset(token)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the id goes back to the client, streamed answers included."""
    request_id = request.get(REQUEST_ID)
    if request_id is not None:
        response.headers[request_context.REQUEST_ID_HEADER] = request_id


def route_pattern(request: web.Request) -> str:
    """``/v1/transcriptions/{id}``, not the path asked for: bounded label values."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED
    return WEBHOOK_ROUTE if resource.canonical.startswith(WEBHOOK_PREFIX) else resource.canonical


def _log_access(request: web.Request, method: str, route: str, status: int, elapsed: float) -> None:
    # The raw path is still percent-encoded: a %0A cannot start a forged line in a text log.
    path = request.raw_path.split("?", 1)[0][:MAX_LOGGED_PATH]
    if path.startswith(WEBHOOK_PREFIX):
        path = WEBHOOK_ROUTE
    user = request.get(USER_KEY)
    user_id = user.id if user is not None else None
    duration_ms = round(elapsed * 1000, 1)
    access_log.info(
        "%s %s %d %.1f ms route=%s user=%s remote=%s",
        method,
        path,
        status,
        duration_ms,
        route,
        user_id or "-",
        request.remote or "-",
        extra={
            "request_id": request[REQUEST_ID],
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "user_id": user_id,
            "remote": request.remote,
        },
    )
