"""``create_app(platform)``: the aiohttp application (routes, middlewares, resources)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from api.auth import auth_cache_ctx, auth_middleware
from api.errors import error_middleware
from api.observability import echo_request_id, observe_middleware
from api.ratelimit import add_rate_headers, rate_limit_middleware
from api.routes import (
    admin,
    api_keys,
    auth_token,
    catalog,
    docs,
    health,
    me,
    metrics,
    objects,
    openai_audio,
    realtime,
    transcription_status,
    transcription_stream,
    transcriptions,
    tts,
    uploads,
    webhooks,
)
from api.state import CATALOG, PLATFORM, RATE_LIMITER
from core.platform import Platform
from core.ratelimit import RateLimiter, build_rate_limiter
from core.redaction import protect_logs
from core.services.catalog import Catalog, EngineCatalog
from web import site as web_site

ROUTE_MODULES = (
    health,
    metrics,
    me,
    objects,
    uploads,
    transcriptions,
    transcription_stream,
    transcription_status,
    tts,
    api_keys,
    auth_token,
    catalog,
    admin,
    openai_audio,
    webhooks,
    realtime,
    docs,
)


def create_app(
    platform: Platform,
    *,
    engines: EngineCatalog | None = None,
    engine_status: Callable[[], list[dict[str, Any]]] | None = None,
    rate_limiter: RateLimiter | None = None,
    close_platform: bool = True,
) -> web.Application:
    """The API over ``platform``.

    ``engines`` (the process's engine registries) serve the model listings, request-time model
    checks and live speech; without them those routes answer 503. ``rate_limiter`` defaults to
    ``RATE_LIMIT_PER_MINUTE`` per user, in Redis when configured. ``close_platform`` disposes of the
    platform's resources on shutdown.
    """
    protect_logs()
    # The body limit is enforced per upload by the store; aiohttp's own limit guards JSON routes.
    app = web.Application(
        # Outermost: the request id, metrics and access line see the status the client gets.
        middlewares=[observe_middleware, error_middleware, auth_middleware, rate_limit_middleware],
        client_max_size=1024 * 1024,
    )
    app[PLATFORM] = platform
    app[docs.OPENAPI_CACHE] = {}
    if engines is not None:
        app[CATALOG] = Catalog(engines, platform.settings)
    if engine_status is not None:
        app[health.ENGINE_STATUS] = engine_status
    limiter = rate_limiter or build_rate_limiter(
        platform.settings.redis_url, platform.settings.rate_limit_per_minute
    )
    app[RATE_LIMITER] = limiter
    for module in ROUTE_MODULES:
        app.add_routes(module.routes)
    web_site.mount(app, platform, app.get(CATALOG))  # the dashboard for people at /, on the same app and port
    app.on_response_prepare.append(add_rate_headers)
    app.on_response_prepare.append(_server_header)
    app.on_response_prepare.append(echo_request_id)

    async def platform_ctx(_app: web.Application) -> AsyncIterator[None]:
        yield
        await limiter.close()
        if close_platform:
            await platform.close()

    app.cleanup_ctx.append(platform_ctx)
    app.cleanup_ctx.append(auth_cache_ctx)  # after platform_ctx: stops listening before it closes
    return app


async def _server_header(_request: web.Request, response: web.StreamResponse) -> None:
    """Name the server without versions (aiohttp's default tells the Python and aiohttp versions)."""
    response.headers["Server"] = "Nagovori"
