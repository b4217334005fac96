"""``nagovori bot``: run only the Telegram bot (long polling, or a webhook server when
``NAGOVORI_TELEGRAM_WEBHOOK_SECRET`` is set); in embedded mode it runs its own workers too."""

from __future__ import annotations

import argparse
import asyncio

from cli.database import require_schema
from cli.serve_cmd import _until_signalled
from core.errors import InvalidInput
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("bot", help="run the Telegram bot (needs NAGOVORI_TELEGRAM_TOKEN)")
    parser.add_argument(
        "--framework",
        choices=("aiogram", "ptb"),
        help="bot framework (default: NAGOVORI_BOT_FRAMEWORK, aiogram)",
    )
    parser.set_defaults(func=run, database=True)  # the schema is checked once the token is known


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.telegram_token.get_secret_value():
        raise InvalidInput("set NAGOVORI_TELEGRAM_TOKEN to the token @BotFather gave you")
    require_schema(settings)
    if args.framework:
        # The workers' deliverer opens its own messenger: keep both on the same framework.
        settings = settings.model_copy(update={"bot_framework": args.framework})
    asyncio.run(run_bot(settings))
    return 0


async def run_bot(settings: Settings) -> None:
    from aiohttp import web

    from api.protocol import ConnectionLimits
    from api.server import ApiRunner
    from bots.wiring import build_bot, mount_webhook
    from cli.bootstrap import build_platform
    from cli.wiring import Engines, running_workers

    platform = build_platform(settings)
    engines = Engines.from_settings(settings)
    bot = build_bot(platform)
    runner: web.AppRunner | None = None
    async with running_workers(platform, engines, consume=settings.embedded):
        try:
            if bot.webhook_mode:
                app = web.Application()
                mount_webhook(app, bot)
                runner = ApiRunner(app, ConnectionLimits.from_settings(settings), access_log=None)
                await runner.setup()
                await web.TCPSite(runner, settings.host, settings.port).start()
            await bot.start()
            how = f"webhook on {settings.host}:{settings.port}" if bot.webhook_mode else "long polling"
            print(f"Telegram bot running ({bot.framework}, {how}); Ctrl+C to stop", flush=True)
            await _until_signalled()
        finally:
            await bot.stop()
            if runner is not None:
                await runner.cleanup()
    await platform.close()
