"""The aiogram 3 adapter (primary): a Messenger over ``aiogram.Bot``, a router that hands updates
to the conversation, long polling, and the webhook route for the API's aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

from aiogram import Bot, Dispatcher, Router, types
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    ReplyParameters,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bots import messenger as m
from bots.adapters import convert
from bots.adapters.errors import classify_refusal
from bots.model import Keyboard, Update
from core.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query"]
DOWNLOAD_TIMEOUT = 600

UpdateHandler = Callable[[Update], Awaitable[None]]


def make_bot(settings: Settings) -> Bot:
    """A Bot talking to ``NAGOVORI_TELEGRAM_API_URL`` (Telegram's cloud or a self-hosted server)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(settings.telegram_token.get_secret_value(), session=session)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """aiogram's exceptions → the Messenger's."""
    try:
        yield
    except TelegramRetryAfter as exc:
        raise m.RetryAfter(float(exc.retry_after)) from exc
    except TelegramForbiddenError as exc:
        raise m.ChatUnavailable(exc.message) from exc
    except (TelegramBadRequest, TelegramNotFound) as exc:
        raise classify_refusal(exc.message) from exc
    except (TelegramNetworkError, TelegramServerError) as exc:
        raise m.TelegramNetworkError(str(exc)) from exc
    except TelegramAPIError as exc:
        raise m.TelegramError(str(exc)) from exc


def _markup(buttons: Keyboard | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b.text, callback_data=b.data) for b in row] for row in buttons
        ]
    )


def _reply(message_id: int | None) -> ReplyParameters | None:
    # The user may have deleted their message meanwhile; the answer still goes out.
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


class AiogramMessenger:
    """``bots.messenger.Messenger`` over an aiogram Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def get_username(self) -> str:
        with translated():
            me = await self.bot.me()
        return me.username or ""

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        buttons: Keyboard | None = None,
        html: bool = False,
    ) -> int:
        with translated():
            sent = await self.bot.send_message(
                chat_id,
                text,
                reply_parameters=_reply(reply_to),
                reply_markup=_markup(buttons),
                parse_mode="HTML" if html else None,
            )
        return sent.message_id

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, *, buttons: Keyboard | None = None, html: bool = False
    ) -> None:
        with translated():
            await self.bot.edit_message_text(
                text=text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=_markup(buttons),
                parse_mode="HTML" if html else None,
            )

    async def delete_message(self, chat_id: int, message_id: int) -> None:
        with translated():
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
        with translated():
            sent = await self.bot.send_voice(
                chat_id,
                BufferedInputFile(audio, filename="voice.ogg"),
                duration=duration,
                caption=caption,
                reply_parameters=_reply(reply_to),
            )
        return sent.message_id

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
        with translated():
            sent = await self.bot.send_document(
                chat_id,
                BufferedInputFile(data, filename=filename),
                caption=caption,
                reply_parameters=_reply(reply_to),
                reply_markup=_markup(buttons),
            )
        return sent.message_id

    async def send_invoice(
        self, chat_id: int, *, title: str, description: str, payload: str, label: str, stars: int
    ) -> int:
        with translated():
            sent = await self.bot.send_invoice(
                chat_id,
                title=title,
                description=description,
                payload=payload,
                currency="XTR",
                prices=[LabeledPrice(label=label, amount=stars)],
            )
        return sent.message_id

    async def answer_pre_checkout(self, query_id: str, *, ok: bool, error: str | None = None) -> None:
        with translated():
            await self.bot.answer_pre_checkout_query(query_id, ok=ok, error_message=error)

    async def answer_callback(self, callback_id: str, text: str | None = None) -> None:
        with translated():
            await self.bot.answer_callback_query(callback_id, text=text)

    async def send_action(self, chat_id: int, action: str) -> None:
        with translated():
            await self.bot.send_chat_action(chat_id, action)

    async def member_status(self, chat_id: int, user_id: int) -> str:
        with translated():
            member = await self.bot.get_chat_member(chat_id, user_id)
        status = member.status
        return str(getattr(status, "value", status))

    async def download(self, file_id: str, destination: Path) -> Path:
        with translated():
            file = await self.bot.get_file(file_id)
            if not file.file_path:
                raise m.BadRequest("Telegram gave no file path")
            await self.bot.download_file(file.file_path, destination, timeout=DOWNLOAD_TIMEOUT)
        return destination


@contextlib.asynccontextmanager
async def open_messenger(settings: Settings) -> AsyncIterator[AiogramMessenger]:
    """A messenger with its own HTTP session, closed when the block ends (used by the workers)."""
    bot = make_bot(settings)
    try:
        yield AiogramMessenger(bot)
    finally:
        await bot.session.close()


def build_router(on_update: UpdateHandler) -> Router:
    """Messages, button presses and pre-checkout queries go to the conversation, translated."""
    router = Router(name="nagovori")

    @router.message()
    async def message_handler(message: types.Message, event_update: types.Update) -> None:
        await on_update(convert.message(message, event_update.update_id))

    @router.callback_query()
    async def callback_query_handler(query: types.CallbackQuery, event_update: types.Update) -> None:
        await on_update(convert.callback(query, event_update.update_id))

    @router.pre_checkout_query()
    async def pre_checkout_query_handler(query: types.PreCheckoutQuery, event_update: types.Update) -> None:
        await on_update(convert.pre_checkout(query, event_update.update_id))

    return router


class AiogramAdapter:
    """Runs the bot with aiogram: long polling, or a webhook route in an aiohttp app."""

    def __init__(self, settings: Settings, on_update: UpdateHandler, *, polling_timeout: int = 30) -> None:
        self.bot = make_bot(settings)
        self.messenger = AiogramMessenger(self.bot)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(build_router(on_update))
        self._polling_timeout = polling_timeout
        self._polling: asyncio.Task[None] | None = None

    async def initialize(self) -> None:
        """Nothing to prepare: aiogram opens its HTTP session on the first request."""

    async def start_polling(self) -> None:
        # getUpdates is refused while a webhook is set (say, by an earlier webhook-mode run).
        with translated():
            await self.bot.delete_webhook(drop_pending_updates=False)
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=ALLOWED_UPDATES,
                polling_timeout=self._polling_timeout,
            )
        )

    def mount_webhook(self, app: web.Application, path: str, secret: str) -> None:
        SimpleRequestHandler(self.dispatcher, self.bot, secret_token=secret).register(app, path=path)

    async def start_webhook(self, url: str, secret: str) -> None:
        with translated():
            await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        if self._polling is not None:
            with contextlib.suppress(RuntimeError):  # polling ended already
                await self.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
        await self.bot.session.close()
