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
    parser.set_defaults(func=run, database=True, needs_schema=True)


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
        return _run_children(args, queues, settings.metrics_port)
    asyncio.run(work(settings, queues, args.threads))
    return 0


async def work(settings: Settings, queues: tuple[str, ...], threads: int | None) -> None:
    from cli.bootstrap import build_platform
    from cli.metrics_endpoint import metrics_endpoint
    from cli.wiring import Engines, running_workers

    platform = build_platform(settings)
    engines = Engines.from_settings(settings)
    async with (
        running_workers(platform, engines, queues=queues, threads=threads),
        metrics_endpoint(platform) as metrics_port,
    ):
        serving = f"; /metrics on port {metrics_port}" if metrics_port else ""
        print(f"worker {os.getpid()} consuming {', '.join(queues)}{serving}", flush=True)
        await _until_signalled()
    await platform.close()


def _run_children(args: argparse.Namespace, queues: tuple[str, ...], metrics_port: int) -> int:
    """One process per engine instance: separate processes sidestep the GIL for decoding."""
    command = [sys.executable, "-m", "cli", "worker", "--queues", ",".join(queues), "--processes", "1"]
    if args.threads:
        command += ["--threads", str(args.threads)]
    children = [  # each serves its own /metrics (when set): METRICS_PORT + i
        subprocess.Popen(command, env=_child_env(metrics_port and metrics_port + index))
        for index in range(args.processes)
    ]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)


def _child_env(metrics_port: int) -> dict[str, str]:
    env = dict(os.environ)
    if metrics_port:
        env["NAGOVORI_METRICS_PORT"] = str(metrics_port)
    return env
