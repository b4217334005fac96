"""``create_app(platform)``: the aiohttp application (routes, middlewares, resources)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from api.auth import auth_middleware
from api.errors import error_middleware
from api.routes import health, me, objects
from api.state import PLATFORM
from core.platform import Platform


def create_app(
    platform: Platform,
    *,
    engine_status: Callable[[], list[dict[str, Any]]] | None = None,
    close_platform: bool = True,
) -> web.Application:
    """The API over ``platform``; ``close_platform`` disposes of its resources on shutdown."""
    # The body limit is enforced per upload by the store; aiohttp's own limit guards JSON routes.
    app = web.Application(middlewares=[error_middleware, auth_middleware], client_max_size=1024 * 1024)
    app[PLATFORM] = platform
    if engine_status is not None:
        app[health.ENGINE_STATUS] = engine_status
    for module in (health, me, objects):
        app.add_routes(module.routes)

    async def platform_ctx(_app: web.Application) -> AsyncIterator[None]:
        yield
        if close_platform:
            await platform.close()

    app.cleanup_ctx.append(platform_ctx)
    return app
