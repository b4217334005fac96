"""Sign in, sign up (``SIGNUP=open``), sign out, and sign out everywhere."""

from __future__ import annotations

from aiohttp import web

from core.errors import DomainError
from core.services import web_accounts, web_sessions
from core.services.accounts import User
from web import errors
from web.page import form_of, local_path, page, redirect, render
from web.state import WEB_PLATFORM
from web.viewer import SESSION_COOKIE, Viewer, client_address, forget_cookie, set_cookie

routes = web.RouteTableDef()


@routes.get("/signin")
@page()
async def signin_form(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    if viewer.signed_in:
        return redirect("/")
    notice = {"out": "signed_out", "everywhere": "signed_out_everywhere"}.get(request.query.get("bye", ""))
    return _signin_page(request, viewer, notice=notice)


@routes.post("/signin")
@page()
async def signin(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    form = await form_of(request)
    platform = request.app[WEB_PLATFORM]
    email = form.get("email", "")[:400]
    try:
        user = await web_accounts.sign_in(
            platform, email, form.get("password", ""), address=client_address(request)
        )
    except Exception as exc:
        if not isinstance(exc, DomainError):
            raise
        error = errors.message_of(viewer.lang, exc)
        return _signin_page(
            request,
            viewer,
            error=error,
            email=email,
            next_path=form.get("next"),
            status=errors.status_of(exc),
        )
    return await _signed_in(request, user, local_path(form.get("next")))


@routes.get("/signup")
@page()
async def signup_form(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    if viewer.signed_in:
        return redirect("/")
    return _signup_page(request, viewer)


@routes.post("/signup")
@page()
async def signup(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    form = await form_of(request)
    platform = request.app[WEB_PLATFORM]
    email = form.get("email", "")[:400]
    try:
        user = await web_accounts.sign_up(
            platform, email, form.get("password", ""), address=client_address(request)
        )
    except Exception as exc:
        if not isinstance(exc, DomainError):
            raise
        return _signup_page(
            request,
            viewer,
            error=errors.message_of(viewer.lang, exc),
            email=email,
            status=errors.status_of(exc),
        )
    return await _signed_in(request, user, "/")


@routes.post("/signout")
@page()
async def signout(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    platform = request.app[WEB_PLATFORM]
    if viewer.session_token:
        await web_sessions.end(platform.db, viewer.session_token)
    response = redirect("/signin?bye=out")
    forget_cookie(response, platform.settings, SESSION_COOKIE)
    return response


@routes.post("/signout/everywhere")
@page(signed_in=True)
async def signout_everywhere(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    platform = request.app[WEB_PLATFORM]
    assert viewer.user is not None
    await web_sessions.end_all(platform.db, viewer.user.id)
    response = redirect("/signin?bye=everywhere")
    forget_cookie(response, platform.settings, SESSION_COOKIE)
    return response


async def _signed_in(request: web.Request, user: User, destination: str) -> web.StreamResponse:
    """A new session (a fresh token: a token planted before sign-in is never promoted)."""
    platform = request.app[WEB_PLATFORM]
    token = await web_sessions.start(platform, user.id, user_agent=request.headers.get("User-Agent"))
    response = redirect(destination)
    max_age = int(platform.settings.web_session_days * 86400)
    set_cookie(response, platform.settings, SESSION_COOKIE, token, max_age=max_age)
    return response


def _signin_page(
    request: web.Request,
    viewer: Viewer,
    *,
    error: str | None = None,
    notice: str | None = None,
    email: str = "",
    next_path: str | None = None,
    status: int = 200,
) -> web.Response:
    context = {
        "error": error,
        "notice": notice,
        "email": email,
        "next": local_path(next_path or request.query.get("next")),
    }
    return render(request, viewer, "signin.html", context, status=status)


def _signup_page(
    request: web.Request, viewer: Viewer, *, error: str | None = None, email: str = "", status: int = 200
) -> web.Response:
    settings = request.app[WEB_PLATFORM].settings
    if settings.signup != "open":
        raise web.HTTPNotFound()
    context = {
        "error": error,
        "email": email,
        "free_minutes": f"{settings.free_minutes:g}",
        "min_password": web_accounts.PASSWORD_MIN_CHARS,
    }
    return render(request, viewer, "signup.html", context, status=status)
