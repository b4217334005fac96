"""The port through which the conversation and the delivery talk to Telegram.

Each adapter implements ``Messenger`` over its framework's bot object and translates the
framework's exceptions into the small tree below, so nothing outside ``bots/adapters`` ever sees
aiogram or python-telegram-bot types.

    TelegramError
     ├── RetryAfter          429: flood control, come back after ``seconds``
     ├── MessageGone         the message to edit or delete no longer exists (or is unchanged)
     ├── ChatUnavailable     the user blocked the bot, or the chat is gone
     ├── FileTooBig          over the Bot API server's download limit (20 MB on api.telegram.org)
     ├── BadRequest          anything else Telegram refused (a wrong file id, a bad parameter)
     └── TelegramNetworkError the server could not be reached; worth retrying
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

from bots.model import Keyboard

# Telegram's own limits.
MAX_MESSAGE_CHARS = 4096
MAX_CAPTION_CHARS = 1024
CLOUD_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile on api.telegram.org
LOCAL_DOWNLOAD_LIMIT = 2000 * 1024 * 1024  # a self-hosted Bot API server


class TelegramError(Exception):
    """Root of what a Messenger raises."""


class RetryAfter(TelegramError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry in {seconds} s")
        self.seconds = seconds


class MessageGone(TelegramError):
    pass


class ChatUnavailable(TelegramError):
    pass


class FileTooBig(TelegramError):
    pass


class BadRequest(TelegramError):
    pass


class TelegramNetworkError(TelegramError):
    pass


class Messenger(Protocol):
    """The Bot API methods the bot uses; message ids are returned where Telegram gives one."""

    async def get_username(self) -> str: ...

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        buttons: Keyboard | None = None,
        html: bool = False,
    ) -> int: ...

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard | None = None, html: bool = False
    ) -> None: ...

    async def delete_message(self, chat_id: int, message_id: int) -> None: ...

    async def send_voice(
        self,
        chat_id: int,
        audio: bytes,
        *,
        duration: int | None = None,
        reply_to: int | None = None,
        caption: str | None = None,
    ) -> int: ...

    async def send_document(
        self,
        chat_id: int,
        filename: str,
        data: bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        buttons: Keyboard | None = None,
    ) -> int: ...

    async def send_invoice(
        self, chat_id: int, *, title: str, description: str, payload: str, label: str, stars: int
    ) -> int: ...

    async def answer_pre_checkout(self, query_id: str, *, ok: bool, error: str | None = None) -> None: ...

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None: ...

    async def send_action(self, chat_id: int, action: str) -> None: ...

    async def member_status(self, chat_id: int, user_id: int) -> str: ...

    async def download(self, file_id: str, destination: Path) -> Path: ...


MessengerFactory = Callable[[], AbstractAsyncContextManager[Messenger]]
"""Opens a messenger (and its HTTP session) for one unit of work; used by the workers."""
