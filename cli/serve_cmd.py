"""``nagovori serve``: the API, plus in embedded mode the workers (and the bot when configured)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="run the API (and, in embedded mode, the workers)")
    parser.add_argument("--host", help="bind address (default: NAGOVORI_HOST)")
    parser.add_argument("--port", type=int, help="port (default: NAGOVORI_PORT)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    asyncio.run(serve(settings, host, port))
    return 0


async def serve(settings: Settings, host: str, port: int) -> None:
    # Imported here: engines and the web stack load only for the commands that use them.
    from aiohttp import web

    from api.app import create_app
    from api.protocol import ConnectionLimits
    from api.server import ApiRunner
    from cli.bootstrap import build_platform
    from cli.wiring import Engines, running_workers

    platform = build_platform(settings)
    engines = Engines.from_settings(settings)
    app = create_app(platform, engines=engines, engine_status=engines.status, close_platform=False)
    bot = None
    if settings.telegram_token.get_secret_value():
        from bots.wiring import build_bot, mount_webhook

        bot = build_bot(platform)
        if bot.webhook_mode:
            mount_webhook(app, bot)  # the webhook shares the API's port
    async with running_workers(platform, engines, consume=settings.embedded):
        runner = ApiRunner(app, ConnectionLimits.from_settings(settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        mode = "embedded (in-process workers)" if settings.embedded else "distributed (workers via Redis)"
        print(f"Nagovori API on http://{host}:{port} — {mode}; Ctrl+C to stop", flush=True)
        try:
            if bot is not None:
                await bot.start()
                how = "webhook" if bot.webhook_mode else "long polling"
                print(f"Telegram bot running ({bot.framework}, {how})", flush=True)
            await _until_signalled()
        finally:
            if bot is not None:
                await bot.stop()
            await runner.cleanup()
    await platform.close()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
