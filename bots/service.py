"""``TelegramBot``: one running bot — an adapter (aiogram or PTB), the conversation, the progress
watcher — in long polling or webhook mode."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Protocol

from aiohttp import web

from bots.adapters.bot_api import UpdateHandler
from bots.conversation.context import BotDeps
from bots.conversation.dispatch import Conversation
from bots.messenger import Messenger
from bots.model import Update
from bots.progress import ProgressWatcher
from core.observability import metrics, request_context
from core.platform import Platform
from core.services import bot_records

log = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/telegram/webhook/"


class Adapter(Protocol):
    @property
    def messenger(self) -> Messenger: ...

    async def initialize(self) -> None: ...

    async def start_polling(self) -> None: ...

    def mount_webhook(self, app: web.Application, path: str, secret: str) -> None: ...

    async def start_webhook(self, url: str, secret: str) -> None: ...

    async def stop(self) -> None: ...


def webhook_path(token: str) -> str:
    """A path nobody can guess without the token; the secret header is checked as well."""
    return WEBHOOK_PREFIX + hashlib.sha256(f"nagovori-webhook:{token}".encode()).hexdigest()[:32]


class TelegramBot:
    """The bot of one process. ``start()`` begins long polling, or (when a webhook secret is set)
    registers the webhook whose route ``mount_webhook`` added to an aiohttp app."""

    def __init__(
        self,
        platform: Platform,
        *,
        framework: str | None = None,
        polling_timeout: int = 30,
        progress_interval: float = 2.0,
    ) -> None:
        settings = platform.settings
        self.platform = platform
        self.framework = framework or settings.bot_framework
        self.adapter = _make_adapter(self.framework, platform, self._on_update, polling_timeout)
        self.watcher = ProgressWatcher(platform, self.adapter.messenger, min_interval=progress_interval)
        self.conversation: Conversation | None = None
        self._ready = asyncio.Event()

    @property
    def webhook_mode(self) -> bool:
        return bool(self.platform.settings.telegram_webhook_secret.get_secret_value())

    @property
    def webhook_path(self) -> str:
        return webhook_path(self.platform.settings.telegram_token.get_secret_value())

    def mount_webhook(self, app: web.Application) -> None:
        """Add the webhook route to ``app`` (before the app starts)."""
        secret = self.platform.settings.telegram_webhook_secret.get_secret_value()
        self.adapter.mount_webhook(app, self.webhook_path, secret)

    async def _on_update(self, update: Update) -> None:
        metrics.BOT_UPDATES.labels(type(update).__name__.lower()).inc()
        # The update's own id names the request: its job and delivery log lines carry it too.
        token = request_context.request_id.set(f"tg-{update.update_id}")
        try:
            await self._ready.wait()
            assert self.conversation is not None
            await self.conversation.handle(update)
        finally:
            request_context.request_id.reset(token)

    async def start(self) -> None:
        """Learn the bot's username, then take updates (polling, or register the webhook)."""
        await self.adapter.initialize()
        username = await self.adapter.messenger.get_username()
        self.conversation = Conversation(
            BotDeps(self.platform, self.adapter.messenger, username, self.watcher)
        )
        self._ready.set()
        await bot_records.forget_old_updates(self.platform.db)
        settings = self.platform.settings
        if self.webhook_mode:
            url = settings.effective_public_url + self.webhook_path
            await self.adapter.start_webhook(url, settings.telegram_webhook_secret.get_secret_value())
            log.info("bot @%s (%s) takes updates by webhook at %s", username, self.framework, url)
        else:
            await self.adapter.start_polling()
            log.info("bot @%s (%s) is long polling", username, self.framework)

    async def stop(self) -> None:
        await self.watcher.close()
        await self.adapter.stop()


def _make_adapter(
    framework: str, platform: Platform, on_update: UpdateHandler, polling_timeout: int
) -> Adapter:
    settings = platform.settings
    if framework == "ptb":
        from bots.adapters.ptb_bot import PtbAdapter

        return PtbAdapter(settings, on_update, polling_timeout=polling_timeout)
    if framework == "aiogram":
        from bots.adapters.aiogram_bot import AiogramAdapter

        return AiogramAdapter(settings, on_update, polling_timeout=polling_timeout)
    raise ValueError(f"unknown bot framework {framework!r}; use aiogram or ptb")
