"""The aiogram 3 adapter (primary): a Messenger over ``aiogram.Bot``, a router that hands updates
to the conversation, long polling, and the webhook route for the API's aiohttp app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
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
from bots.adapters.bot_api import ALLOWED_UPDATES, BotApiMessenger, BotApiTypes, UpdateHandler
from bots.adapters.errors import classify_refusal
from core.settings import Settings

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 600


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


class AiogramMessenger(BotApiMessenger):
    """``bots.messenger.Messenger`` over an aiogram Bot."""

    bot: Bot
    types = BotApiTypes(
        InlineKeyboardMarkup, InlineKeyboardButton, ReplyParameters, LabeledPrice, BufferedInputFile
    )

    def translated(self) -> contextlib.AbstractContextManager[None]:
        return translated()

    async def get_username(self) -> str:
        with translated():
            me = await self.bot.me()
        return me.username or ""

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
