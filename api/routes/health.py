"""``GET /healthz``: is the database reachable, the queue alive, can the default engines serve.

A database or queue outage answers 503 (this process cannot work). A default engine that cannot
serve (its model missing or damaged) answers 200 with ``"status": "degraded"`` and names the
engine, the model and why: the API still serves accounts, history and the other engines, and a
restart would not help, so a load balancer should keep the process while an operator is told.
The answer names the process (``pid``): behind ``serve --workers N`` it says which one answered.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from aiohttp import web

from api.openapi import Body, operation
from api.state import CATALOG, PLATFORM
from core.services.catalog import Catalog

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
    catalog = request.app.get(CATALOG)
    if catalog is not None:
        checks["defaults"] = await asyncio.to_thread(_default_engines, catalog)
    ok = checks["database"]["ok"] and checks["queue"]["ok"]
    serving = checks.get("defaults", {"ok": True})["ok"]
    body = {
        "status": "ok" if ok and serving else "degraded",
        "mode": "embedded" if platform.settings.embedded else "distributed",
        "pid": os.getpid(),
        "checks": checks,
    }
    return web.json_response(body, status=200 if ok else 503)


def _default_engines(catalog: Catalog) -> dict[str, Any]:
    """The default model of each kind (and language): ready, or what is wrong and how to fix it."""
    defaults = [m for m in catalog.models() if m.default]
    problems: list[dict[str, str | None]] = [
        {"kind": m.kind, "engine": m.engine, "model": m.id, "why": m.detail} for m in defaults if not m.ready
    ]
    kinds = {m.kind for m in defaults}
    problems += [
        {"kind": kind, "engine": None, "model": None, "why": f"no {kind} engine is configured"}
        for kind in ("asr", "tts")
        if kind not in kinds
    ]
    return {"ok": not problems, "models": [m.id for m in defaults], "problems": problems}


async def _queue_status(broker: object) -> dict[str, Any]:
    client = getattr(broker, "client", None)
    if client is None:
        return {"ok": True, "broker": "in-process"}
    try:
        await asyncio.wait_for(asyncio.to_thread(client.ping), timeout=5)
        return {"ok": True, "broker": "redis"}
    except Exception as exc:
        return {"ok": False, "broker": "redis", "error": str(exc) or type(exc).__name__}
