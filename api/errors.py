"""Domain errors → HTTP, in one place, as ``{"error": {"code", "message", ...details}}``.

A domain error is anything that satisfies ``core.errors.DomainError`` (the core's tree, the
ledger's and the engines' roots alike); anything else is a 500. The status comes from the core's
classes, else from the error's ``code`` (the ledger and the engines raise their own classes).

The OpenAI-compatible routes (``/v1/audio/*``) answer in OpenAI's shape instead —
``{"error": {"message", "type", "param", "code"}}`` — because their clients parse that one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from core import errors as core_errors
from core.errors import DomainError, NagovoriError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Most specific first; the first matching class decides the status.
STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (core_errors.PayloadTooLarge, 413),
    (core_errors.RequestTimeout, 408),
    (core_errors.AuthenticationFailed, 401),
    (core_errors.Forbidden, 403),
    (core_errors.NotFound, 404),
    (core_errors.Conflict, 409),
    (core_errors.Gone, 410),
    (core_errors.TooManyJobs, 429),
    (core_errors.TooManyObjects, 429),
    (core_errors.RateLimited, 429),
    (core_errors.ServiceUnavailable, 503),
    (core_errors.InvalidInput, 400),
)

# The ledger and the engine packages raise their own error roots (same shape): mapped by code,
# and any other code of theirs is a 400.
STATUS_BY_CODE = {
    "insufficient_minutes": 402,
    "unsupported_language": 400,
    "unknown_model": 400,
    "unknown_voice": 400,
    "invalid_option": 400,
    "text_empty": 400,
    "text_too_long": 400,
    "model_not_available": 503,
    "engine_failure": 500,
}


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


OPENAI_PREFIX = "/v1/audio/"
OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "invalid_request_error",
    409: "conflict_error",
    410: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def error_response(exc: Exception, *, openai: bool = False) -> web.Response:
    """The JSON response for any error the platform raises on purpose (500 otherwise)."""
    if not isinstance(exc, DomainError):
        log.exception("unhandled error", exc_info=exc)
        return _render(500, error_body("internal_error", "Something went wrong on our side."), openai)
    status = next((s for cls, s in STATUS_BY_ERROR if isinstance(exc, cls)), None)
    if status is None:
        status = STATUS_BY_CODE.get(exc.code, 400)
    headers = {}
    retry_after = exc.details.get("retry_after")
    if status in (429, 503):
        headers["Retry-After"] = str(int(retry_after or 1))
    body: dict[str, Any] = exc.to_dict()
    if status >= 500 and not isinstance(exc, NagovoriError):
        body = _for_clients(exc, body)
    return _render(status, {"error": body}, openai, headers)


def _for_clients(exc: DomainError, body: dict[str, Any]) -> dict[str, Any]:
    """An engine's server-side failure (a missing model, a broken engine) without what only the
    operator needs: its message names server paths, so clients get the error's generic message
    (the setting to fix stays) and the log gets the full one."""
    log.warning("%s: %s", body.get("code"), body.get("message"))
    public = {k: v for k, v in body.items() if not (isinstance(v, str) and ("/" in v or "\\" in v))}
    public["message"] = exc.default_message
    return public


def _render(
    status: int, body: dict[str, Any], openai: bool, headers: dict[str, str] | None = None
) -> web.Response:
    if openai:
        error = body["error"]
        body = {
            "error": {
                "message": error.get("message", ""),
                "type": OPENAI_TYPES.get(
                    status, "server_error" if status >= 500 else "invalid_request_error"
                ),
                "param": error.get("field"),
                "code": error.get("code"),
            }
        }
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    openai = request.path.startswith(OPENAI_PREFIX)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = HTTP_CODES.get(exc.status, "http_error")
        return _render(exc.status, error_body(code, exc.reason), openai, _allow(exc))
    except ConnectionResetError as exc:  # aiohttp's "Connection lost" while reading the body
        if request.transport is not None and not request.transport.is_closing():
            return error_response(exc, openai=openai)  # not the client's connection: a real error
        # The client went away (a cancelled upload): nothing to answer, one line is enough.
        log.info("client disconnected during %s %s", request.method, request.path)
        return _render(400, error_body("client_disconnected", "The connection closed early."), openai)
    except Exception as exc:
        return error_response(exc, openai=openai)


def _allow(exc: web.HTTPException) -> dict[str, str]:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else {}
