"""The python-telegram-bot 22 adapter: a Messenger over ``telegram.Bot``, an Application whose one
handler hands every update to the conversation, long polling, and a webhook route for aiohttp."""

from __future__ import annotations

import contextlib
import logging
import secrets
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import telegram
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LabeledPrice,
    ReplyParameters,
)
from telegram import error as tg_error
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bots import messenger as m
from bots.adapters import convert
from bots.adapters.bot_api import ALLOWED_UPDATES, BotApiMessenger, BotApiTypes, UpdateHandler
from bots.adapters.errors import classify_refusal
from bots.model import Update
from core.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _urls(settings: Settings) -> tuple[str, str]:
    root = settings.telegram_api_url
    return f"{root}/bot", f"{root}/file/bot"


def make_bot(settings: Settings) -> Bot:
    base_url, base_file_url = _urls(settings)
    return Bot(settings.telegram_token.get_secret_value(), base_url=base_url, base_file_url=base_file_url)


@contextlib.contextmanager
def quiet_deprecations() -> Iterator[None]:
    """PTB 22 warns on reading durations while it migrates them to timedelta; we handle both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        yield


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """python-telegram-bot's exceptions → the Messenger's (BadRequest subclasses NetworkError)."""
    try:
        yield
    except tg_error.RetryAfter as exc:
        with quiet_deprecations():
            raise m.RetryAfter(convert.seconds(exc.retry_after) or 1.0) from exc
    except tg_error.Forbidden as exc:
        raise m.ChatUnavailable(exc.message) from exc
    except tg_error.BadRequest as exc:
        raise classify_refusal(exc.message) from exc
    except tg_error.NetworkError as exc:
        raise m.TelegramNetworkError(exc.message) from exc
    except tg_error.TelegramError as exc:
        raise m.TelegramError(exc.message) from exc


class PtbMessenger(BotApiMessenger):
    """``bots.messenger.Messenger`` over a python-telegram-bot Bot (initialized by the caller)."""

    bot: Bot
    types = BotApiTypes(InlineKeyboardMarkup, InlineKeyboardButton, ReplyParameters, LabeledPrice, InputFile)

    def translated(self) -> contextlib.AbstractContextManager[None]:
        return translated()

    async def get_username(self) -> str:
        with translated():
            me = await self.bot.get_me()
        return me.username or ""

    async def download(self, file_id: str, destination: Path) -> Path:
        with translated():
            file = await self.bot.get_file(file_id)
            await file.download_to_drive(destination, read_timeout=600)
        return destination


@contextlib.asynccontextmanager
async def open_messenger(settings: Settings) -> AsyncIterator[PtbMessenger]:
    """A messenger with its own initialized Bot, shut down when the block ends (the workers')."""
    async with make_bot(settings) as bot:
        yield PtbMessenger(bot)


def translate(update: telegram.Update) -> Update | None:
    """A PTB update as a conversation update (None for kinds the bot does not handle)."""
    with quiet_deprecations():
        if update.message is not None:
            return convert.message(update.message, update.update_id)
        if update.callback_query is not None:
            return convert.callback(update.callback_query, update.update_id)
        if update.pre_checkout_query is not None:
            return convert.pre_checkout(update.pre_checkout_query, update.update_id)
    return None


class PtbAdapter:
    """Runs the bot with python-telegram-bot: long polling, or a webhook route in an aiohttp app."""

    def __init__(self, settings: Settings, on_update: UpdateHandler, *, polling_timeout: int = 30) -> None:
        base_url, base_file_url = _urls(settings)
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.telegram_token.get_secret_value())
            .base_url(base_url)
            .base_file_url(base_file_url)
            .concurrent_updates(True)  # ordering per chat is the conversation's job
            .build()
        )
        self.messenger = PtbMessenger(self.application.bot)
        self._on_update = on_update
        self._polling_timeout = polling_timeout
        self.application.add_handler(TypeHandler(telegram.Update, self._handle))

    async def _handle(self, update: telegram.Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        translated_update = translate(update)
        if translated_update is not None:
            await self._on_update(translated_update)

    async def initialize(self) -> None:
        """Initialize the bot (getMe) and start the update processing, before any update comes."""
        await self.application.initialize()
        await self.application.start()

    async def start_polling(self) -> None:
        with translated():
            await self.application.bot.delete_webhook(drop_pending_updates=False)
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            timeout=self._polling_timeout, allowed_updates=ALLOWED_UPDATES
        )

    def mount_webhook(self, app: web.Application, path: str, secret: str) -> None:
        async def telegram_webhook(request: web.Request) -> web.Response:
            if not secrets.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
                return web.Response(status=401, text="bad secret token")
            update = telegram.Update.de_json(await request.json(), self.application.bot)
            await self.application.update_queue.put(update)
            return web.Response()

        app.router.add_post(path, telegram_webhook)

    async def start_webhook(self, url: str, secret: str) -> None:
        with translated():
            await self.application.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        with contextlib.suppress(RuntimeError):  # never initialized
            await self.application.shutdown()
