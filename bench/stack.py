"""What the platform benchmarks share: services of their own (a private Redis, a scratch PostgreSQL
database), ``nagovori serve`` / ``nagovori worker`` as real processes with an account and a key,
a job through the REST flow (upload, create, the SSE stream's ``done``), and small statistics
helpers.

Nothing here touches the machine's own Redis databases or the developer's ``./var``: every run
works in a temporary folder and drops what it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SHARED_AUDIO = Path(os.environ.get("NAGOVORI_SHARED_AUDIO", ROOT.parent / "shared" / "audio"))
POSTGRES_URL = os.environ.get(
    "NAGOVORI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) by nearest rank; ``values`` need not be sorted."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"nagovori-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[str | None]:
    """A redis-server of our own on a free loopback port (no persistence); None without the binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str | None]:
    """A database of its own on the PostgreSQL server the tests use; None when it is unreachable."""
    import asyncpg

    from tests.conftest import postgres_admin

    name = f"nagovori_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(postgres_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError):
        yield None
        return
    try:
        yield f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(postgres_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Deployment:
    """Running ``nagovori`` processes, the account the benchmark uses and its key."""

    base: str
    key: str
    user_id: str
    env: dict[str, str]
    directory: Path
    server: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def start_worker(self, threads: int = 1, processes: int = 1) -> subprocess.Popen[bytes]:
        """One more ``nagovori worker`` (``--processes N``: a parent and N children); returns once
        every process consumes."""
        log = self.directory / f"worker-{len(self.workers) + 1}.log"
        command = [sys.executable, "-m", "cli", "worker", "--threads", str(threads)]
        if processes != 1:
            command += ["--processes", str(processes)]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                env=self.env,
                cwd=self.directory,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(process)
        deadline = time.monotonic() + 60
        while log.read_text(errors="replace").count("consuming") < processes:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        return process

    def pids(self) -> list[int]:
        """Every running process of the deployment: the server, the workers and their children."""
        roots = [p.pid for p in [*([self.server] if self.server else []), *self.workers] if p.poll() is None]
        return [pid for root in roots for pid in process_tree(root)]

    def stop(self) -> None:
        for process in [*self.workers, *([self.server] if self.server else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, *([self.server] if self.server else [])]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


@contextlib.contextmanager
def deployment(
    directory: Path,
    *,
    database_url: str = "",
    redis_url: str = "",
    workers: int = 0,
    worker_threads: int = 1,
    minutes: float = 10_000,
    serve: bool = True,
    serve_args: tuple[str, ...] = (),
    python_args: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[Deployment]:
    """Migrate, create an account and key, start ``nagovori serve *serve_args`` (embedded when no
    Redis; ``python *python_args -m cli serve``: e.g. under a profiler) and ``workers`` worker
    processes; stop them all (SIGTERM) at the end."""
    from core.db.migrate import upgrade
    from tests.api_harness import new_account, server_env

    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database_url = database_url or f"sqlite+aiosqlite:///{directory / 'nagovori.db'}"
    defaults = {
        "worker_threads": str(worker_threads),
        "rate_limit_per_minute": str(10**9),
        "max_queued_jobs": str(10**6),
        # One account presigns thousands of uploads an hour here; a real one would meet the quota.
        "storage_quota_objects": str(10**8),
        "log_level": "WARNING",
    }
    env = {
        **server_env(
            directory,
            database_url,
            redis_url,
            port,
            "bench-" + os.urandom(16).hex(),
            {**defaults, **settings},
        ),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    upgrade(database_url)
    user_id, key = asyncio.run(new_account(database_url, minutes, key_name="bench"))
    running = Deployment(base, key, user_id, env, directory)
    try:
        if serve:
            log = directory / "serve.log"
            with log.open("wb") as sink:
                running.server = subprocess.Popen(
                    [sys.executable, *python_args, "-m", "cli", "serve", *serve_args],
                    env=env,
                    cwd=directory,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            _wait_healthy(running, log)
        for _ in range(workers):
            running.start_worker(worker_threads)
        yield running
    finally:
        running.stop()


@contextlib.contextmanager
def distributed(directory: Path, **settings: str) -> Iterator[tuple[Deployment, str] | None]:
    """``nagovori serve`` + one ``nagovori worker`` over a private Redis and a scratch PostgreSQL
    database (SQLite when the server is unreachable), with the database's name; None without Redis."""
    options: dict[str, Any] = dict(settings)  # only NAGOVORI_* strings, never deployment's own keywords
    with private_redis(directory) as redis_url:
        if redis_url is None:
            yield None
            return
        with (
            scratch_postgres() as postgres_url,
            deployment(
                directory / "distributed",
                database_url=postgres_url or "",
                redis_url=redis_url,
                workers=1,
                **options,
            ) as platform,
        ):
            yield platform, "PostgreSQL" if postgres_url else "SQLite"


def _wait_healthy(running: Deployment, log: Path, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if running.server is not None and running.server.poll() is not None:
            raise RuntimeError(f"nagovori serve exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{running.base}/healthz", timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nagovori serve did not become healthy:\n{log.read_text(errors='replace')[-3000:]}")


async def upload(http: aiohttp.ClientSession, platform: Deployment, clip: Path, data: bytes) -> str:
    """Presign and PUT ``data``; the object key."""
    async with http.post(
        f"{platform.base}/v1/uploads/presign",
        json={"filename": clip.name, "size_bytes": len(data)},
        headers=platform.auth,
    ) as response:
        presigned = await response.json()
        assert response.status == 200, presigned
    async with http.put(presigned["upload_url"], data=data) as response:
        assert response.status == 200, await response.text()
    return str(presigned["object_key"])


async def create_job(
    http: aiohttp.ClientSession, platform: Deployment, object_key: str, **fields: str
) -> str:
    """``POST /v1/transcriptions`` of an uploaded object (with ``fields``, e.g. ``language``); the id."""
    async with http.post(
        f"{platform.base}/v1/transcriptions",
        json={"object_key": object_key, **fields},
        headers=platform.auth,
    ) as response:
        job = await response.json()
        assert response.status == 201, job
    return str(job["id"])


async def until_done(http: aiohttp.ClientSession, platform: Deployment, job_id: str) -> dict[str, Any]:
    """Follow the job's SSE stream; the final job of its ``done`` event."""
    async with http.get(
        f"{platform.base}/v1/transcriptions/{job_id}/stream", headers=platform.auth
    ) as response:
        event = None
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "done":
                final: dict[str, Any] = json.loads(line[5:])
                return final
    raise RuntimeError(f"the stream of job {job_id} ended without `done`")


def rss_kib(pid: int) -> int:
    """Resident memory of a process (Linux ``/proc``), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def peak_rss_kib(pid: int) -> int:
    """Peak resident memory of a process so far (Linux ``VmHWM``), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def child_pids(pid: int) -> list[int]:
    """The direct children of a running process (Linux ``/proc``)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants that are still running."""
    found = [pid]
    with contextlib.suppress(OSError):
        for child in child_pids(pid):
            found += process_tree(child)
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds the processes have used so far, all their threads (Linux ``/proc``)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
