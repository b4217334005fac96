"""A worker process's own ``/metrics`` on ``NAGOVORI_METRICS_PORT`` (the API processes serve theirs
on the API's port). Same guard as the API's route: the token, or an allowed network."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from core.platform import Platform


@contextlib.asynccontextmanager
async def metrics_endpoint(platform: Platform) -> AsyncIterator[int | None]:
    """Serve ``/metrics`` on ``NAGOVORI_HOST:NAGOVORI_METRICS_PORT`` while the block runs; yields
    the port (None when the setting is 0)."""
    settings = platform.settings
    if not settings.metrics_port:
        yield None
        return
    from aiohttp import web

    from api.protocol import ConnectionLimits
    from api.routes.metrics import metrics_app
    from api.server import ApiRunner

    runner = ApiRunner(metrics_app(platform), ConnectionLimits.from_settings(settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.metrics_port).start()
        yield settings.metrics_port
    finally:
        await runner.cleanup()
