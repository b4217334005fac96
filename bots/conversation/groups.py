"""Groups: the bot speaks only when mentioned, asked with /transcribe, or when an admin has turned
automatic transcription on (``/auto``; its minutes come from that admin's balance)."""

from __future__ import annotations

from bots.conversation.context import Turn
from bots.messenger import TelegramError
from bots.model import Message
from core.services import bot_records

ADMIN_STATUSES = ("creator", "administrator")


async def is_admin(turn: Turn, chat_id: int) -> bool:
    try:
        status = await turn.deps.messenger.member_status(chat_id, turn.sender.id)
    except TelegramError:
        return False
    return status in ADMIN_STATUSES


async def auto(turn: Turn, message: Message, args: str) -> None:
    """Toggle automatic transcription of every voice note in this group (admins only)."""
    if message.is_private:
        await turn.say("group_hint")
        return
    if not await is_admin(turn, message.chat_id):
        await turn.say("admins_only")
        return
    db = turn.deps.platform.db
    current = await bot_records.chat_settings(db, message.chat_id)
    wanted = {"on": True, "off": False}.get(args.lower(), not current.auto_transcribe)
    await bot_records.set_auto_transcribe(db, message.chat_id, enabled=wanted, payer_user_id=turn.user.id)
    if wanted:
        await turn.say("auto_on", name=turn.sender.name or turn.sender.username or str(turn.sender.id))
    else:
        await turn.say("auto_off")
