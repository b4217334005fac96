"""The Telegram bot's one-time sign-in link (``/login`` in the bot): ``/signin/telegram?token=…``.

Opening the link only asks; the button (a POST with the CSRF token) signs in. Link previews,
messenger prefetchers and mail scanners GET every URL they see, and a GET that used the link up
would sign nobody in when the person clicks. The POST redeems the token once
(``core.services.signin_links``) and starts an ordinary web session for that account, which may
have no e-mail or password at all.
"""

from __future__ import annotations

from aiohttp import web

from core.services import signin_links, web_sessions
from core.services.signin_links import LinkState
from web.page import form_of, page, redirect, render
from web.state import WEB_PLATFORM
from web.viewer import SESSION_COOKIE, Viewer, set_cookie

routes = web.RouteTableDef()

# Why a link does not work, in words, and the status the page is sent with.
REFUSALS: dict[LinkState, tuple[str, int]] = {
    LinkState.UNKNOWN: ("tg_signin_unknown", 404),
    LinkState.USED: ("tg_signin_used", 410),
    LinkState.EXPIRED: ("tg_signin_expired", 410),
}


@routes.get(signin_links.ROUTE)
@page()
async def confirm(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    token = request.query.get("token", "")
    state = await signin_links.inspect(request.app[WEB_PLATFORM], token)
    return _page(request, viewer, state, token)


@routes.post(signin_links.ROUTE)
@page()
async def redeem(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    platform = request.app[WEB_PLATFORM]
    redemption = await signin_links.redeem(platform, (await form_of(request)).get("token", ""))
    if redemption.user is None:
        return _page(request, viewer, redemption.state, "")
    if viewer.session_token:  # someone else was signed in on this browser: that session ends
        await web_sessions.end(platform.db, viewer.session_token)
    token = await web_sessions.start(
        platform, redemption.user.id, user_agent=request.headers.get("User-Agent")
    )
    response = redirect("/")
    max_age = int(platform.settings.web_session_days * 86400)
    set_cookie(response, platform.settings, SESSION_COOKIE, token, max_age=max_age)
    return response


def _page(request: web.Request, viewer: Viewer, state: LinkState, token: str) -> web.Response:
    bot = request.app[WEB_PLATFORM].settings.bot_username.strip().lstrip("@")
    refusal, status = REFUSALS.get(state, ("", 200))
    context = {
        "token": token if state is LinkState.VALID else "",
        "refusal": refusal or None,
        "bot": bot,
        "bot_url": f"https://t.me/{bot}" if bot else None,
        "minutes": int(signin_links.LINK_TTL.total_seconds() // 60),
    }
    return render(request, viewer, "telegram_signin.html", context, status=status)
