"""``nagovori worker``: consume the job queues from Redis (distributed mode)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys

from cli.serve_cmd import _until_signalled
from core.errors import InvalidInput
from core.jobs.states import QUEUES
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("worker", help="run job workers (needs NAGOVORI_REDIS_URL)")
    parser.add_argument(
        "--queues", default=",".join(QUEUES), help=f"comma-separated queues (default: {','.join(QUEUES)})"
    )
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument("--threads", type=int, help="threads per process (default: NAGOVORI_WORKER_THREADS)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.embedded:
        raise InvalidInput(
            "`nagovori worker` needs NAGOVORI_REDIS_URL; in embedded mode `nagovori serve` "
            "runs the workers itself."
        )
    queues = tuple(q.strip() for q in args.queues.split(",") if q.strip())
    unknown = set(queues) - set(QUEUES)
    if unknown or not queues:
        raise InvalidInput(
            f"unknown queue(s): {', '.join(sorted(unknown)) or '(none)'}; use {', '.join(QUEUES)}"
        )
    if args.processes < 1:
        raise InvalidInput("--processes must be at least 1")
    if args.processes > 1:
        return _run_children(args, queues)
    asyncio.run(work(settings, queues, args.threads))
    return 0


async def work(settings: Settings, queues: tuple[str, ...], threads: int | None) -> None:
    from cli.bootstrap import build_platform
    from cli.wiring import Engines, running_workers

    platform = build_platform(settings)
    engines = Engines.from_settings(settings)
    async with running_workers(platform, engines, queues=queues, threads=threads):
        print(f"worker {os.getpid()} consuming {', '.join(queues)}", flush=True)
        await _until_signalled()
    await platform.close()


def _run_children(args: argparse.Namespace, queues: tuple[str, ...]) -> int:
    """One process per engine instance: separate processes sidestep the GIL for decoding."""
    command = [sys.executable, "-m", "cli", "worker", "--queues", ",".join(queues), "--processes", "1"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    children = [subprocess.Popen(command) for _ in range(args.processes)]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)
