"""The per-user request limit on ``/v1/*`` (after authentication): headers on every answer, 429 beyond."""

from __future__ import annotations

from aiohttp import web

from api.errors import Handler
from api.state import RATE_KEY, RATE_LIMITER, USER_KEY
from core.errors import RateLimited


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    user = request.get(USER_KEY)
    if user is not None:
        await count_request(request, user.id)
    return await handler(request)


async def count_request(request: web.Request, user_id: str) -> None:
    """Count one request of the user; RateLimited past the limit. Also called by handlers that
    authenticate themselves (the realtime WebSocket), before they upgrade."""
    limiter = request.app.get(RATE_LIMITER)
    if limiter is None:
        return
    decision = await limiter.hit(f"user:{user_id}")
    request[RATE_KEY] = decision
    if not decision.allowed:
        raise RateLimited(
            f"More than {decision.limit} requests a minute; try again in {decision.reset_seconds} s.",
            retry_after=decision.reset_seconds,
            limit=decision.limit,
        )


async def add_rate_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the X-RateLimit-* headers also reach errors and streams."""
    decision = request.get(RATE_KEY)
    if decision is not None:
        response.headers.update(decision.headers())
