"""Composition helpers for the CLI: the bot, its webhook route, and the worker-side pieces
(the Telegram file source and deliverer) for ``WorkerRuntime``."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from aiohttp import web

from bots.conversation.context import download_limit
from bots.delivery import TelegramDeliverer
from bots.files import TelegramFileSource
from bots.messenger import Messenger, MessengerFactory
from bots.service import TelegramBot
from core.platform import Platform
from core.settings import Settings


def open_messenger(settings: Settings) -> AbstractAsyncContextManager[Messenger]:
    """A short-lived messenger of the configured framework (its own HTTP session)."""
    if settings.bot_framework == "ptb":
        from bots.adapters import ptb_bot

        return ptb_bot.open_messenger(settings)
    from bots.adapters import aiogram_bot

    return aiogram_bot.open_messenger(settings)


def messenger_factory(settings: Settings) -> MessengerFactory:
    return lambda: open_messenger(settings)


def telegram_file_source(platform: Platform) -> TelegramFileSource:
    """Downloads Telegram-hosted inputs for the ASR worker."""
    settings = platform.settings
    return TelegramFileSource(messenger_factory(settings), download_limit=download_limit(settings))


def telegram_deliverer(platform: Platform) -> TelegramDeliverer:
    """Sends finished Telegram jobs back to their chats (the ``deliver`` queue)."""
    return TelegramDeliverer(platform, messenger_factory(platform.settings))


def build_bot(
    platform: Platform,
    *,
    framework: str | None = None,
    polling_timeout: int = 30,
    progress_interval: float = 2.0,
) -> TelegramBot:
    """The bot for this process (not started); ``framework`` overrides NAGOVORI_BOT_FRAMEWORK."""
    return TelegramBot(
        platform, framework=framework, polling_timeout=polling_timeout, progress_interval=progress_interval
    )


def mount_webhook(app: web.Application, bot: TelegramBot) -> None:
    """Add the bot's webhook route to the API's aiohttp app (call before the app starts)."""
    bot.mount_webhook(app)
