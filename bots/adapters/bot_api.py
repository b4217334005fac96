"""What the two adapters share: one ``Messenger`` over either framework's ``Bot``.

aiogram and python-telegram-bot both mirror the Bot API's method and parameter names
(``send_message(chat_id, text, reply_parameters=…, reply_markup=…)``), and their keyboard, reply,
price and file types take the same keyword arguments. So the Bot API calls are written once here;
an adapter subclasses ``BotApiMessenger`` with its framework's ``BotApiTypes`` and exception
translation, and writes only what really differs (``getMe``, downloads).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bots.model import Keyboard, Update

ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
CURRENCY = "XTR"  # invoices are in Telegram Stars

UpdateHandler = Callable[[Update], Awaitable[None]]


@dataclass(frozen=True)
class BotApiTypes:
    """A framework's classes for the Bot API objects the messenger builds."""

    keyboard: Any  # InlineKeyboardMarkup(inline_keyboard=…)
    button: Any  # InlineKeyboardButton(text=…, callback_data=…)
    reply: Any  # ReplyParameters(message_id=…, allow_sending_without_reply=…)
    price: Any  # LabeledPrice(label=…, amount=…)
    file: Any  # an in-memory upload: (data, filename=…)


class BotApiMessenger(ABC):
    """``bots.messenger.Messenger`` over a framework's Bot (set up and closed by the caller)."""

    types: ClassVar[BotApiTypes]

    def __init__(self, bot: Any) -> None:
        self.bot = bot

    @abstractmethod
    def translated(self) -> AbstractContextManager[None]:
        """A block in which the framework's exceptions become the Messenger's."""

    @abstractmethod
    async def get_username(self) -> str: ...

    @abstractmethod
    async def download(self, file_id: str, destination: Path) -> Path: ...

    def _markup(self, buttons: Keyboard | None) -> Any:
        if not buttons:
            return None
        rows = [[self.types.button(text=b.text, callback_data=b.data) for b in row] for row in buttons]
        return self.types.keyboard(inline_keyboard=rows)

    def _reply(self, message_id: int | None) -> Any:
        # The user may have deleted their message meanwhile; the answer still goes out.
        if message_id is None:
            return None
        return self.types.reply(message_id=message_id, allow_sending_without_reply=True)

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        buttons: Keyboard | None = None,
        html: bool = False,
    ) -> int:
        with self.translated():
            sent = await self.bot.send_message(
                chat_id,
                text,
                reply_parameters=self._reply(reply_to),
                reply_markup=self._markup(buttons),
                parse_mode="HTML" if html else None,
            )
        return int(sent.message_id)

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard | None = None, html: bool = False
    ) -> None:
        with self.translated():
            await self.bot.edit_message_text(
                text=text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=self._markup(buttons),
                parse_mode="HTML" if html else None,
            )

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        with self.translated():
            await self.bot.delete_message(chat_id, message_id)

    async def send_voice(
        self,
        chat_id: int,
        audio: bytes,
        *,
        duration: int | None = None,
        reply_to: int | None = None,
        caption: str | None = None,
    ) -> int:
        with self.translated():
            sent = await self.bot.send_voice(
                chat_id,
                self.types.file(audio, filename="voice.ogg"),
                duration=duration,
                caption=caption,
                reply_parameters=self._reply(reply_to),
            )
        return int(sent.message_id)

    async def send_document(
        self,
        chat_id: int,
        filename: str,
        data: bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
        buttons: Keyboard | None = None,
    ) -> int:
        with self.translated():
            sent = await self.bot.send_document(
                chat_id,
                self.types.file(data, filename=filename),
                caption=caption,
                reply_parameters=self._reply(reply_to),
                reply_markup=self._markup(buttons),
            )
        return int(sent.message_id)

    async def send_invoice(
        self, chat_id: int, *, title: str, description: str, payload: str, label: str, stars: int
    ) -> int:
        with self.translated():
            sent = await self.bot.send_invoice(
                chat_id,
                title=title,
                description=description,
                payload=payload,
                currency=CURRENCY,
                prices=[self.types.price(label=label, amount=stars)],
            )
        return int(sent.message_id)

    async def answer_pre_checkout(self, query_id: str, *, ok: bool, error: str | None = None) -> None:
        with self.translated():
            await self.bot.answer_pre_checkout_query(query_id, ok=ok, error_message=error)

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        with self.translated():
            await self.bot.answer_callback_query(callback_id, text=text)

    async def send_action(self, chat_id: int, action: str) -> None:
        with self.translated():
            await self.bot.send_chat_action(chat_id, action)

    async def member_status(self, chat_id: int, user_id: int) -> str:
        with self.translated():
            member = await self.bot.get_chat_member(chat_id, user_id)
        status = member.status  # an enum member in both frameworks; its value is the Bot API's
        return str(getattr(status, "value", status))
