"""Buy minutes: the packages on sale and how to pay (Telegram Stars, through the bot)."""

from __future__ import annotations

from aiohttp import web

from core.services import accounts, purchases
from web.page import page, render
from web.state import WEB_PLATFORM
from web.viewer import Viewer

routes = web.RouteTableDef()


@routes.get("/buy")
@page(signed_in=True)
async def buy_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    bot = platform.settings.bot_username.strip().lstrip("@")
    context = {
        "balance_seconds": await accounts.current_balance(platform, viewer.user.id),
        "packages": [
            {"minutes": p.minutes, "stars": p.stars, "per_minute": f"{p.stars / p.minutes:.2f}".rstrip("0")}
            for p in purchases.PACKAGES
        ],
        "bot": bot,
        "bot_url": f"https://t.me/{bot}?start=buy" if bot else None,
        "linked": viewer.user.telegram_id is not None,
    }
    return render(request, viewer, "buy.html", context)
