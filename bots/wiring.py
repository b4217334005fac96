"""Composition helpers for the CLI: the bot, its webhook route, and the worker-side pieces
(the Telegram file source and deliverer) for ``WorkerRuntime``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

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


class SharedMessenger:
    """One Bot API session for a worker runtime, opened on first use and closed with the runtime.

    Opening a session per job costs a quarter of a second on every voice note (aiogram's session
    close waits 250 ms); the HTTP clients of both frameworks serve concurrent requests.
    """

    def __init__(self, factory: MessengerFactory) -> None:
        self._factory = factory
        self._stack: AsyncExitStack | None = None
        self._messenger: Messenger | None = None
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def open(self) -> AsyncIterator[Messenger]:
        """The shared messenger (a ``MessengerFactory`` whose context does not close it)."""
        async with self._lock:
            if self._messenger is None:
                stack = AsyncExitStack()
                self._messenger = await stack.enter_async_context(self._factory())
                self._stack = stack
        yield self._messenger

    async def aclose(self) -> None:
        async with self._lock:
            stack, self._stack, self._messenger = self._stack, None, None
        if stack is not None:
            await stack.aclose()


def telegram_file_source(platform: Platform, messenger: MessengerFactory | None = None) -> TelegramFileSource:
    """Downloads Telegram-hosted inputs for the ASR worker."""
    settings = platform.settings
    return TelegramFileSource(
        messenger or messenger_factory(settings), download_limit=download_limit(settings)
    )


def telegram_deliverer(platform: Platform, messenger: MessengerFactory | None = None) -> TelegramDeliverer:
    """Sends finished Telegram jobs back to their chats (the ``deliver`` queue)."""
    return TelegramDeliverer(platform, messenger or messenger_factory(platform.settings))


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
