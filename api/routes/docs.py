"""``GET /openapi.json`` and the offline reference page at ``/docs`` (its assets are served from
``api/static``; nothing is loaded from elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

routes = web.RouteTableDef()

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
OPENAPI_CACHE = web.AppKey("openapi_cache", dict)
TITLE = "Nagovori API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Speech-to-text and text-to-speech over one minute balance. Authenticate every `/v1/*` request "
    'with `Authorization: Bearer nag_…` (or `X-API-Key: nag_…`). Errors are `{"error": {"code", "message", …}}`; the '
    "OpenAI-compatible `/v1/audio/*` routes answer in OpenAI's error shape."
)


def openapi_document(app: web.Application) -> dict[str, Any]:
    """Built once per app, on first request (the router is frozen by then)."""
    from api.openapi import build_openapi

    cache: dict[str, Any] = app[OPENAPI_CACHE]
    if "doc" not in cache:
        cache["doc"] = build_openapi(app, title=TITLE, version=VERSION, description=DESCRIPTION)
    document: dict[str, Any] = cache["doc"]
    return document


@routes.get("/openapi.json")
async def openapi_handler(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(request.app))


@routes.get("/docs")
async def docs_handler(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "docs.html", headers={"Cache-Control": "no-cache"})


routes.static("/docs/assets", STATIC_DIR)
