"""The bot end to end: the Bot API emulator, a migrated SQLite platform, embedded workers with the
real PocketSphinx and espeak-ng engines, and the bot under test (aiogram or python-telegram-bot)."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from billing import ledger
from bots.service import TelegramBot
from bots.wiring import build_bot, mount_webhook
from cli.bootstrap import build_platform
from cli.wiring import Engines, running_workers
from core.audio.decode import read_pcm
from core.audio.encode import encode
from core.db.migrate import upgrade_async
from core.db.models import User
from core.platform import Platform
from core.settings import Settings
from tests.e2e.telegram_emulator import SentMessage, TelegramEmulator

TOKEN = "123456:TEST-nagovori-bot-token"
WEBHOOK_SECRET = "webhook-secret-123"
FRAMEWORKS = ("aiogram", "ptb")


def tg_user(user_id: int, first_name: str = "Anna", language_code: str = "en") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}


def voice_note(path: Path) -> tuple[bytes, int]:
    """A shared clip re-encoded as a Telegram voice note (OGG/Opus) and its whole-second duration."""
    pcm = read_pcm(path)
    return encode(pcm, 16000, "opus"), max(1, math.ceil(len(pcm) / 16000))


async def migrated_template(directory: Path) -> Path:
    """A SQLite database with every migration applied (Alembic runs its own loop, in a thread)."""
    path = directory / "template.db"
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotStack:
    emulator: TelegramEmulator
    platform: Platform
    bot: TelegramBot
    webhook_url: str | None = None

    async def send(self, update: dict[str, Any]) -> None:
        """Deliver an update the way this bot takes them (getUpdates, or a webhook POST)."""
        if self.webhook_url is None:
            await self.emulator.push(update)
            return
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, json=update, headers=headers) as response,
        ):
            assert response.status == 200, await response.text()

    async def account(self, telegram_id: int) -> User | None:
        async with self.platform.db.read() as session:
            return await session.scalar(select(User).where(User.telegram_id == telegram_id))

    async def balance(self, telegram_id: int) -> int:
        user = await self.account(telegram_id)
        assert user is not None
        async with self.platform.db.read() as session:
            return await ledger.balance(session, user.id)

    async def reply_to(
        self, chat_id: int, message_id: int, *, kind: str | None = None, within: float = 60
    ) -> SentMessage:
        """The first live message the bot sent in reply to ``message_id`` (of ``kind``)."""

        def found() -> SentMessage | None:
            return next((m for m in self.emulator.sent(chat_id, kind=kind) if m.reply_to == message_id), None)

        result: SentMessage = await self.emulator.wait_for(
            found, within=within, what=f"a reply to {message_id}"
        )
        return result

    async def text_containing(self, chat_id: int, fragment: str, *, within: float = 30) -> SentMessage:
        def found() -> SentMessage | None:
            return next((m for m in self.emulator.sent(chat_id) if m.text and fragment in m.text), None)

        result: SentMessage = await self.emulator.wait_for(found, within=within, what=repr(fragment))
        return result


@contextlib.asynccontextmanager
async def module_stack(
    factory: pytest.TempPathFactory, framework: str, **overrides: Any
) -> AsyncIterator[BotStack]:
    """A stack in a fresh temporary folder with a freshly migrated database."""
    folder = factory.mktemp(f"bot-{framework}")
    async with bot_stack(folder, await migrated_template(folder), framework=framework, **overrides) as stack:
        yield stack


@contextlib.asynccontextmanager
async def bot_stack(
    tmp_path: Path, template: Path, *, framework: str, webhook: bool = False, **overrides: Any
) -> AsyncIterator[BotStack]:
    """Start everything; stop it all when the block ends."""
    # python-telegram-bot's httpx honours proxy variables; the emulator is local.
    with mock.patch.dict(os.environ, {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}):
        async with _bot_stack(tmp_path, template, framework=framework, webhook=webhook, **overrides) as stack:
            yield stack


@contextlib.asynccontextmanager
async def _bot_stack(
    tmp_path: Path, template: Path, *, framework: str, webhook: bool = False, **overrides: Any
) -> AsyncIterator[BotStack]:
    database = tmp_path / f"nagovori-{framework}.db"
    shutil.copy(template, database)
    emulator = TelegramEmulator(TOKEN)
    await emulator.start()
    port = free_port()
    options: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite+aiosqlite:///{database}",
        "redis_url": "",
        "asr_engine": "pocketsphinx",
        "tts_engine": "espeak",
        "telegram_token": TOKEN,
        "telegram_api_url": emulator.url,
        "bot_framework": framework,
        "free_minutes": 10,
        "worker_threads": 2,
        "reconcile_interval_seconds": 3600,
        "host": "127.0.0.1",
        "port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }
    if webhook:
        options["telegram_webhook_secret"] = WEBHOOK_SECRET
    options.update(overrides)
    settings = Settings.load(**options)
    platform = build_platform(settings)
    runner: web.AppRunner | None = None
    try:
        async with running_workers(platform, Engines.from_settings(settings), reconcile=False):
            # Short polls stop quickly; frequent edits let the tests see progress of short clips.
            bot = build_bot(platform, polling_timeout=1, progress_interval=0.2)
            webhook_url = None
            if webhook:
                app = web.Application()
                mount_webhook(app, bot)
                runner = web.AppRunner(app, access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", port).start()
                webhook_url = settings.effective_public_url + bot.webhook_path
            await bot.start()
            try:
                yield BotStack(emulator, platform, bot, webhook_url)
            finally:
                await bot.stop()
                if runner is not None:
                    await runner.cleanup()
    finally:
        await platform.events.close()
        await platform.close()
        await emulator.stop()
