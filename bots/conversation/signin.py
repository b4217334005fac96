"""/login: a one-time link into the web dashboard, on the same account and balance."""

from __future__ import annotations

import math

from bots.conversation.context import Turn
from bots.model import Message
from core.services import signin_links


async def login(turn: Turn, message: Message, args: str) -> None:
    """A link that signs this account in once, within ``LINK_TTL``; only in private, since anyone
    in a group could open it first."""
    if not message.is_private:
        await turn.say("private_only")
        return
    try:
        link = await signin_links.issue(turn.deps.platform, turn.user.id)
    except signin_links.TooManyLinks as exc:
        minutes = max(1, math.ceil(int(exc.details.get("retry_after") or 60) / 60))
        await turn.say("login_limited", limit=signin_links.ISSUE_LIMIT, minutes=minutes)
        return
    minutes = int(signin_links.LINK_TTL.total_seconds() // 60)
    await turn.say("login_link", url=link.url, minutes=minutes)
