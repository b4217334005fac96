"""What the conversation sees of Telegram: small frozen records, free of any framework.

Adapters build these from aiogram or python-telegram-bot objects; the conversation answers through
a ``Messenger``. Field names follow the Bot API so the translation stays obvious.
"""

from __future__ import annotations

from dataclasses import dataclass

PRIVATE = "private"

# Media kinds the bot transcribes, in the order Telegram's message fields are checked.
MEDIA_KINDS = ("voice", "audio", "video_note", "video", "document")


@dataclass(frozen=True)
class Sender:
    """The person (or bot) behind a message or button press."""

    id: int
    name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Media:
    """A file attached to a message."""

    kind: str  # one of MEDIA_KINDS
    file_id: str
    file_unique_id: str = ""
    duration: float | None = None  # Telegram's metadata; documents have none
    file_size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None

    @property
    def is_audio_or_video(self) -> bool:
        if self.kind != "document":
            return True
        mime = (self.mime_type or "").lower()
        return mime.startswith(("audio/", "video/")) or mime in ("application/ogg", "application/x-ogg")


@dataclass(frozen=True)
class Payment:
    """A ``successful_payment`` service message."""

    charge_id: str
    payload: str
    currency: str
    total_amount: int


@dataclass(frozen=True)
class Message:
    """A message in a chat (text or caption, perhaps media, perhaps a payment)."""

    update_id: int
    chat_id: int
    message_id: int
    chat_type: str = PRIVATE
    sender: Sender | None = None
    text: str | None = None  # the text, or the caption of media
    media: Media | None = None
    reply_to: Message | None = None
    payment: Payment | None = None

    @property
    def is_private(self) -> bool:
        return self.chat_type == PRIVATE


@dataclass(frozen=True)
class Callback:
    """A press on an inline keyboard button."""

    update_id: int
    id: str
    sender: Sender
    data: str
    chat_id: int | None = None
    message_id: int | None = None
    chat_type: str = PRIVATE


@dataclass(frozen=True)
class PreCheckout:
    """Telegram asking whether a payment may go ahead (must be answered within 10 s)."""

    update_id: int
    id: str
    sender: Sender
    currency: str
    total_amount: int
    payload: str


Update = Message | Callback | PreCheckout


@dataclass(frozen=True)
class Button:
    """An inline keyboard button that sends ``data`` back as a callback."""

    text: str
    data: str


Keyboard = list[list[Button]]
