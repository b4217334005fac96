"""What every page handler shares: the viewer, CSRF on every POST, sign-in where needed, errors
rendered as pages in words, and ``render``/``redirect`` that carry the viewer's cookies.

A handler is ``async def handler(request, viewer) -> web.StreamResponse`` under ``@page()``
(``@page(signed_in=True)`` sends strangers to the sign-in page first).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from core.errors import DomainError
from web import errors, i18n, nav
from web.state import STATIC_ROUTE, WEB_PLATFORM
from web.viewer import PRESESSION_COOKIE, VIEWER, Viewer, csrf_ok, identify, set_cookie

log = logging.getLogger(__name__)

PageHandler = Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CsrfRefused(Exception):
    """A state-changing request without this browser's CSRF token."""


def page(*, signed_in: bool = False) -> Callable[[PageHandler], Handler]:
    def decorate(handler: PageHandler) -> Handler:
        @functools.wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            viewer = await identify(request)
            request[VIEWER] = viewer
            try:
                if request.method == "POST":
                    form = await form_of(request)
                    if not csrf_ok(request, viewer, form):
                        raise CsrfRefused()
                if signed_in and not viewer.signed_in:
                    response: web.StreamResponse = redirect(f"/signin?next={quote(request.path_qs)}")
                else:
                    response = await handler(request, viewer)
            except CsrfRefused:
                response = error_page(request, viewer, i18n.say(viewer.lang, "error_csrf"), 403)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                text = i18n.say(viewer.lang, "error_not_found") if exc.status == 404 else exc.reason
                response = error_page(request, viewer, text, exc.status)
            except Exception as exc:
                if not isinstance(exc, DomainError):
                    log.exception("web page %s failed", request.path, exc_info=exc)
                    response = error_page(request, viewer, errors.internal_message(viewer.lang), 500)
                else:
                    response = error_page(
                        request, viewer, errors.message_of(viewer.lang, exc), errors.status_of(exc)
                    )
            return finish(request, viewer, response)

        return wrapped

    return decorate


async def form_of(request: web.Request) -> dict[str, str]:
    """The POSTed form's text fields (read once; later calls get the same parsed form)."""
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


def finish(request: web.Request, viewer: Viewer, response: web.StreamResponse) -> web.StreamResponse:
    if viewer.new_presession:
        set_cookie(
            response, request.app[WEB_PLATFORM].settings, PRESESSION_COOKIE, viewer.binding, max_age=None
        )
    # Pages show balances, keys and tokens: never kept by a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def render(
    request: web.Request, viewer: Viewer, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    settings = request.app[WEB_PLATFORM].settings
    base: dict[str, Any] = {
        "t": functools.partial(i18n.say, viewer.lang),
        "lang": viewer.lang,
        "languages": i18n.LANGUAGE_NAMES,
        "viewer": viewer,
        "csrf": viewer.csrf,
        "path": request.path,
        "here": request.path_qs,
        "signup_open": settings.signup == "open",
        "static": lambda name: static_url(request, name),
        "duration": functools.partial(i18n.duration, viewer.lang),
        "nav": nav.items_for(viewer),
        "error": None,  # messages.html: a page's error or notice, when it has one
        "notice": None,
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    response.content_type = "text/html"
    response.charset = "utf-8"
    return response


def error_page(request: web.Request, viewer: Viewer, message: str, status: int) -> web.Response:
    return render(request, viewer, "error.html", {"message": message}, status=status)


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST the browser GETs the new page (a reload does not re-submit)."""
    return web.Response(status=303, headers={"Location": location})


def local_path(candidate: str | None, default: str = "/") -> str:
    """``candidate`` if it is a path on this site, else ``default`` (no open redirects)."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")):
        return candidate
    return default


def static_url(request: web.Request, name: str) -> str:
    """The asset's URL with a content hash, so a new release is never served from a stale cache."""
    return str(request.app.router[STATIC_ROUTE].url_for(filename=name))
