"""Switching the language: remembered in a cookie, and on the account when signed in."""

from __future__ import annotations

from aiohttp import web

from core.services import users
from web import i18n
from web.page import form_of, local_path, page, redirect
from web.state import WEB_PLATFORM
from web.viewer import LANG_COOKIE, LANG_COOKIE_SECONDS, Viewer, set_cookie

routes = web.RouteTableDef()


@routes.post("/language")
@page()
async def switch_language(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    form = await form_of(request)
    lang = form.get("lang", "")
    if lang not in i18n.LANGUAGES:
        raise web.HTTPBadRequest(reason="Unknown language.")
    platform = request.app[WEB_PLATFORM]
    if viewer.user is not None:
        # The bot speaks the same language to this account from now on.
        await users.update_preferences(platform, viewer.user.id, ui_language=lang)
    response = redirect(local_path(form.get("next")))
    set_cookie(response, platform.settings, LANG_COOKIE, lang, max_age=LANG_COOKIE_SECONDS)
    return response
