"""``GET /v1/me``: who the key belongs to and the balance."""

from __future__ import annotations

from aiohttp import web

from api.state import PLATFORM, current_user
from billing import ledger

routes = web.RouteTableDef()


@routes.get("/v1/me")
async def me_handler(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    user = current_user(request)
    async with platform.db.read() as session:
        seconds = await ledger.balance(session, user.id)
    return web.json_response(
        {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "telegram_id": user.telegram_id,
            "is_admin": user.is_admin,
            "created_at": user.created_at.isoformat(),
            "balance": {"seconds": seconds, "minutes": round(seconds / 60, 2)},
            "preferences": {
                "language": user.asr_language,
                "voice": user.voice,
                "reply_mode": user.reply_mode,
            },
        }
    )
