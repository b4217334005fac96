"""Serving the app: ``ApiRunner``, an ``AppRunner`` whose connections are ``GuardedRequestHandler``s.

Every place that serves HTTP (``nagovori serve``, ``nagovori bot`` in webhook mode, the tests'
live server) uses it, so the deadlines and the per-IP cap of ``api.protocol`` hold everywhere::

    runner = ApiRunner(app, ConnectionLimits.from_settings(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.protocol import GRACE_SECONDS, ConnectionLimits, GuardedRequestHandler, PendingConnections


class GuardedServer(web.Server):
    """aiohttp's low-level server (the protocol factory a site listens with), making
    ``GuardedRequestHandler``s that share one count of pending connections."""

    def __init__(self, server: web.Server, limits: ConnectionLimits) -> None:
        # The app's request handler and factory, and the runner's handler options, as built for it.
        super().__init__(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **{k: v for k, v in server._kwargs.items() if k != "keepalive_timeout"},
        )
        self.limits = limits
        self.pending = PendingConnections(
            limits.max_pending_per_ip, grace=min(GRACE_SECONDS, limits.header_timeout / 2)
        )

    def __call__(self) -> GuardedRequestHandler:
        return GuardedRequestHandler(
            self, loop=self._loop, limits=self.limits, pending=self.pending, **self._kwargs
        )


class ApiRunner(web.AppRunner):
    """``web.AppRunner`` with the connection limits of ``api.protocol``."""

    def __init__(self, app: web.Application, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._limits = limits

    async def _make_server(self) -> web.Server:
        return GuardedServer(await super()._make_server(), self._limits)
