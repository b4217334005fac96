"""The Telegram channel's rows: per-chat settings for groups, and the updates already handled.

They are the platform's tables like any other (the bots reach them through
``core.services.bot_records``); they live on the core's declarative base, and migration 0002
creates them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UtcDateTime, utcnow


class BotChat(Base):
    """A group chat's settings; automatic transcription bills the admin who turned it on."""

    __tablename__ = "bot_chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    auto_transcribe: Mapped[bool] = mapped_column(Boolean, default=False)
    payer_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ProcessedUpdate(Base):
    """An update id the bot has taken on; Telegram repeats updates after restarts and webhook
    timeouts, and a repeated voice note must not be transcribed (and charged) twice."""

    __tablename__ = "bot_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
