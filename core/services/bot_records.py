"""The Telegram bot's bookkeeping: updates already taken on, and group chat settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.db.base import utcnow
from core.db.bot_tables import BotChat, ProcessedUpdate
from core.db.database import Database

KEEP_UPDATES = timedelta(days=7)


async def claim_update(db: Database, update_id: int, kind: str) -> bool:
    """True the first time ``update_id`` is seen; False for a repeat (already handled)."""
    try:
        async with db.write() as session:
            session.add(ProcessedUpdate(update_id=update_id, kind=kind))
    except IntegrityError:
        return False
    return True


async def forget_old_updates(db: Database) -> int:
    """Drop update ids older than a week (Telegram never repeats those); returns how many."""
    async with db.write() as session:
        result = await session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.created_at < utcnow() - KEEP_UPDATES)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ChatSettings:
    """A group chat's settings: automatic transcription, billed to the admin who turned it on."""

    auto_transcribe: bool = False
    payer_user_id: str | None = None


async def chat_settings(db: Database, chat_id: int) -> ChatSettings:
    async with db.read() as session:
        row = await session.scalar(select(BotChat).where(BotChat.chat_id == chat_id))
    if row is None:
        return ChatSettings()
    return ChatSettings(row.auto_transcribe, row.payer_user_id)


async def set_auto_transcribe(
    db: Database, chat_id: int, *, enabled: bool, payer_user_id: str | None
) -> None:
    async with db.write() as session:
        row = await session.get(BotChat, chat_id)
        if row is None:
            row = BotChat(chat_id=chat_id)
            session.add(row)
        row.auto_transcribe = enabled
        row.payer_user_id = payer_user_id if enabled else None
        row.updated_at = utcnow()
