"""API keys: create (the secret shown once, with a copy button), list, revoke.

Revoking goes through ``core.services.api_keys.revoke_key``, which tells every API process's
authentication cache at once.
"""

from __future__ import annotations

from aiohttp import web

from core.errors import DomainError
from core.services import api_keys
from web import errors
from web.page import form_of, page, redirect, render
from web.state import WEB_PLATFORM
from web.viewer import Viewer

routes = web.RouteTableDef()


@routes.get("/keys")
@page(signed_in=True)
async def keys_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    notice = "key_revoked_done" if request.query.get("revoked") == "1" else None
    return await _keys_page(request, viewer, notice=notice)


@routes.post("/keys")
@page(signed_in=True)
async def create_key(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    form = await form_of(request)
    name = form.get("name", "")[:200]
    try:
        new = await api_keys.create_key(request.app[WEB_PLATFORM].db, viewer.user.id, name=name)
    except Exception as exc:
        if not isinstance(exc, DomainError):
            raise
        return await _keys_page(
            request,
            viewer,
            error=errors.message_of(viewer.lang, exc),
            name=name,
            status=errors.status_of(exc),
        )
    # Rendered in the POST's answer, not redirected to: the secret never enters a URL or history.
    return await _keys_page(request, viewer, created=(new.key.name, new.secret), status=201)


@routes.post("/keys/{key_id}/revoke")
@page(signed_in=True)
async def revoke_key(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    await api_keys.revoke_key(request.app[WEB_PLATFORM], viewer.user.id, request.match_info["key_id"])
    return redirect("/keys?revoked=1")


async def _keys_page(
    request: web.Request,
    viewer: Viewer,
    *,
    created: tuple[str, str] | None = None,
    notice: str | None = None,
    error: str | None = None,
    name: str = "",
    status: int = 200,
) -> web.Response:
    assert viewer.user is not None
    keys = await api_keys.list_keys(request.app[WEB_PLATFORM].db, viewer.user.id)
    context = {
        "keys": keys,
        "created": created,
        "notice": notice,
        "error": error,
        "name": name,
    }
    return render(request, viewer, "keys.html", context, status=status)
