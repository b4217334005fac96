"""``nagovori serve``: the API, plus in embedded mode the workers (and the bot when configured).

``--workers N`` (distributed mode only) runs N API processes, each with its own event loop, that
share the port through ``SO_REUSEPORT`` (the kernel spreads connections over them): one Python
process tops out at one core, and the API holds no state of its own between requests (the
database, Redis and the object store do). This process then only supervises them: it forwards
SIGTERM/SIGINT, and when one of them exits it stops the others. The first of them runs the
reconciler and a long-polling bot (Telegram allows one poller per token); a webhook bot runs in
every one of them, since any of them may receive an update. Embedded mode refuses more than one
process: its broker, workers and event bus live in the one process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from core.errors import InvalidInput
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="run the API (and, in embedded mode, the workers)")
    parser.add_argument("--host", help="bind address (default: NAGOVORI_HOST)")
    parser.add_argument("--port", type=int, help="port (default: NAGOVORI_PORT)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes sharing the port (distributed mode only; default: 1)",
    )
    # Set by a supervising ``serve --workers N`` on the processes it starts: which one this is.
    parser.add_argument("--api-process", type=int, help=argparse.SUPPRESS)
    parser.set_defaults(func=run, precheck=check_arguments, database=True, needs_schema=True)


def check_arguments(args: argparse.Namespace, settings: Settings) -> None:
    """Refuse a ``--workers`` count the mode cannot run (before the database is opened)."""
    if args.workers < 1:
        raise InvalidInput("--workers must be at least 1")
    if args.workers > 1 and settings.embedded:
        raise InvalidInput(
            "`serve --workers` above 1 needs NAGOVORI_REDIS_URL: in embedded mode the "
            "in-process broker and workers cannot be shared between processes."
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    check_arguments(args, settings)
    if args.workers > 1:
        return _supervise(args, host, port)
    asyncio.run(serve(settings, host, port, process=args.api_process))
    return 0


async def serve(settings: Settings, host: str, port: int, *, process: int | None = None) -> None:
    """Serve until SIGINT/SIGTERM. ``process`` is this one's index among several API processes
    sharing the port (None: the only one)."""
    # Imported here: engines and the web stack load only for the commands that use them.
    from aiohttp import web

    from api.app import create_app
    from api.protocol import ConnectionLimits
    from api.server import ApiRunner
    from cli.bootstrap import build_platform
    from cli.wiring import Engines, running_workers

    first = not process  # the only process, or the first of several
    platform = build_platform(settings)
    engines = Engines.from_settings(settings)
    app = create_app(platform, engines=engines, engine_status=engines.status, close_platform=False)
    bot = None
    if settings.telegram_token.get_secret_value():
        from bots.wiring import build_bot, mount_webhook

        bot = build_bot(platform)
        if bot.webhook_mode:
            mount_webhook(app, bot)  # the webhook shares the API's port
        elif not first:
            bot = None  # one long poller per token
    async with running_workers(platform, engines, consume=settings.embedded, reconcile=first):
        runner = ApiRunner(app, ConnectionLimits.from_settings(settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_port=process is not None)
        await site.start()
        mode = "embedded (in-process workers)" if settings.embedded else "distributed (workers via Redis)"
        which = "" if process is None else f" [process {process}, pid {os.getpid()}]"
        print(f"Nagovori API on http://{host}:{port} — {mode}{which}; Ctrl+C to stop", flush=True)
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


def _supervise(args: argparse.Namespace, host: str, port: int) -> int:
    """Run ``args.workers`` API processes on one port until signalled or until one of them exits;
    returns the worst exit code."""
    command = [sys.executable, "-m", "cli", *(["--debug"] if args.debug else [])]
    command += ["serve", "--host", host, "--port", str(port), "--workers", "1"]
    children: list[subprocess.Popen[bytes]] = []
    stopping: list[int] = []
    env, metrics_dir = _shared_metrics_env()

    def forward(signum: int, _frame: object) -> None:
        stopping.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)  # before the children start: none may be left behind
    signal.signal(signal.SIGINT, forward)
    for index in range(args.workers):
        if not stopping:
            children.append(subprocess.Popen([*command, "--api-process", str(index)], env=env))
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    died = [child.returncode for child in children if child.returncode is not None]
    if not stopping:  # one of them exited: the port is short of a process, stop the rest
        forward(signal.SIGTERM, None)
    codes = []
    for child in children:
        try:
            codes.append(child.wait(30))
        except subprocess.TimeoutExpired:
            child.kill()
            codes.append(child.wait())
    # The code of the one that exited first, else the worst; -N (killed by signal N) as a shell says it.
    code = died[0] if died else max(codes, key=abs, default=0)
    if metrics_dir is not None:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return code if code >= 0 else 128 - code


def _shared_metrics_env() -> tuple[dict[str, str], str | None]:
    """The processes share one port, so a scrape reaches any one of them: they keep their metrics
    in one folder (prometheus-client's multiprocess mode) and each answers for all. A folder the
    operator set (``PROMETHEUS_MULTIPROC_DIR``) is used as is; else a fresh one, removed at the end."""
    env = dict(os.environ)
    if env.get("PROMETHEUS_MULTIPROC_DIR"):
        return env, None
    env["PROMETHEUS_MULTIPROC_DIR"] = folder = tempfile.mkdtemp(prefix="nagovori-metrics-")
    return env, folder


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
