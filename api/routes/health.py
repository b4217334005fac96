"""``GET /healthz``: is the database reachable, the queue alive, which engines are ready."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from api.openapi import Body, operation
from api.state import PLATFORM

routes = web.RouteTableDef()

ENGINE_STATUS = web.AppKey("engine_status", object)  # optional callable → list of dicts


@routes.get("/healthz")
@operation(
    "Health of the database, the queue and the engines",
    tags=("Service",),
    responses={200: Body("application/json", schema={"type": "object"}, description="All is well")},
    errors=(503,),
    auth=False,
)
async def healthz_handler(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    checks: dict[str, Any] = {}
    try:
        await asyncio.wait_for(platform.db.ping(), timeout=5)
        checks["database"] = {"ok": True}
    except Exception as exc:  # a health check reports, it does not raise
        checks["database"] = {"ok": False, "error": str(exc) or type(exc).__name__}
    checks["queue"] = await _queue_status(platform.broker)
    status_fn = request.app.get(ENGINE_STATUS)
    if callable(status_fn):
        checks["engines"] = await asyncio.to_thread(status_fn)
    ok = checks["database"]["ok"] and checks["queue"]["ok"]
    body = {
        "status": "ok" if ok else "degraded",
        "mode": "embedded" if platform.settings.embedded else "distributed",
        "checks": checks,
    }
    return web.json_response(body, status=200 if ok else 503)


async def _queue_status(broker: object) -> dict[str, Any]:
    client = getattr(broker, "client", None)
    if client is None:
        return {"ok": True, "broker": "in-process"}
    try:
        await asyncio.wait_for(asyncio.to_thread(client.ping), timeout=5)
        return {"ok": True, "broker": "redis"}
    except Exception as exc:
        return {"ok": False, "broker": "redis", "error": str(exc) or type(exc).__name__}
