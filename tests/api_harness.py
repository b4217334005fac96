"""A live API for tests: the real app on a loopback port, real engines (PocketSphinx, espeak-ng),
in-process workers, a user with minutes and a key, and small HTTP helpers; and, for end-to-end
tests, ``nagovori serve`` / ``nagovori worker`` as real processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import requests
from aiohttp import ClientResponse, ClientSession, web
from aiohttp.test_utils import TestServer
from aiohttp.web_runner import BaseRunner
from dramatiq import Worker

from api.app import create_app
from api.protocol import ConnectionLimits
from api.server import ApiRunner
from cli.bootstrap import build_platform
from cli.wiring import Engines, running_workers
from core.db.database import Database
from core.db.migrate import upgrade
from core.platform import Platform
from core.services import api_keys
from core.services.users import create_user
from core.settings import Settings
from tests.conftest import flushed_redis, postgres_admin, require

TERMINAL = ("completed", "failed", "cancelled")


@dataclass
class ApiEnv:
    platform: Platform
    engines: Engines
    base: str
    http: ClientSession
    user_id: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def call(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        """(status, JSON body or text) of one request with the user's key."""
        headers = {"Authorization": f"Bearer {key or self.key}", **kwargs.pop("headers", {})}
        async with self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()

    async def upload(self, path: Path, *, key: str | None = None) -> str:
        """Presign and PUT a file the way clients do; returns its object key."""
        status, presigned = await self.call(
            "POST",
            "/v1/uploads/presign",
            key=key,
            json={"filename": path.name, "size_bytes": path.stat().st_size},
        )
        assert status == 200, presigned
        async with self.http.put(presigned["upload_url"], data=path.read_bytes()) as response:
            assert response.status == 200, await response.text()
        return str(presigned["object_key"])

    async def transcribe(self, path: Path, **fields: Any) -> dict[str, Any]:
        """Upload and create a transcription job; returns the job."""
        object_key = await self.upload(path)
        status, job = await self.call("POST", "/v1/transcriptions", json={"object_key": object_key, **fields})
        assert status == 201, job
        return dict(job)

    async def wait(
        self, job_id: str, *, kind: str = "transcriptions", within: float = 60, key: str | None = None
    ) -> dict[str, Any]:
        """Poll the job until it finishes."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            status, body = await self.call("GET", f"/v1/{kind}/{job_id}", key=key)
            assert status == 200, body
            job = body["job"] if kind == "tts" else body
            if job["status"] in TERMINAL:
                return dict(job)
            await asyncio.sleep(0.1)
        raise AssertionError(f"job {job_id} did not finish within {within} s")

    async def new_user(self, minutes: float = 5, *, is_admin: bool = False) -> tuple[str, str]:
        """Another account and its key."""
        user = await create_user(self.platform.db, starting_minutes=minutes, is_admin=is_admin)
        return user.id, (await api_keys.create_key(self.platform.db, user.id)).secret


async def usage(env: ApiEnv, key: str | None = None) -> tuple[int, int]:
    """(seconds left to spend, seconds held) of the account of ``key`` (the env's own by default)."""
    status, body = await env.call("GET", "/v1/profile/usage", key=key)
    assert status == 200, body
    return int(body["remaining"]["seconds"]), int(body["held_seconds"])


async def sse_events(response: ClientResponse) -> AsyncIterator[tuple[str | None, Any]]:
    """(event name, parsed JSON data) for each Server-Sent Event of a streaming response."""
    name: str | None = None
    data: list[str] = []
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = None, []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())


@contextlib.asynccontextmanager
async def consuming(env: ApiEnv) -> AsyncIterator[None]:
    """Start worker threads on an app made with ``workers=False`` (its actors are declared)."""
    worker = Worker(env.platform.broker, worker_threads=2)
    worker.start()
    try:
        yield
    finally:
        await asyncio.to_thread(worker.stop, 10_000)


def sqlite_copy(template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database of its own for one test."""
    path = tmp_path / "api.db"
    shutil.copy(template, path)
    return f"sqlite+aiosqlite:///{path}"


def api_settings(tmp_path: Path, database_url: str, redis_url: str = "", **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "redis_url": redis_url,
        "asr_engine": "pocketsphinx",
        "tts_engine": "espeak",
        "worker_threads": 2,
        "rate_limit_per_minute": 10_000,
        "reconcile_interval_seconds": 3600,
        **overrides,
    }
    return Settings.load(**values)


class ApiTestServer(TestServer):
    """aiohttp's test server on the runner ``nagovori serve`` uses: the connection limits hold."""

    def __init__(self, app: web.Application, limits: ConnectionLimits) -> None:
        super().__init__(app, host="127.0.0.1")
        self.limits = limits

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return ApiRunner(self.app, self.limits, **kwargs)


@contextlib.asynccontextmanager
async def live_api(
    settings: Settings, *, minutes: float = 10, workers: bool = True, is_admin: bool = False
) -> AsyncIterator[ApiEnv]:
    """The app on 127.0.0.1 with in-process workers (unless ``workers`` is False)."""
    platform = build_platform(settings)
    engines = Engines.from_settings(settings)
    app = create_app(platform, engines=engines, engine_status=engines.status, close_platform=False)
    server = ApiTestServer(app, ConnectionLimits.from_settings(settings))
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    platform.settings.public_url = base  # signed URLs must point at this server
    user = await create_user(platform.db, starting_minutes=minutes, is_admin=is_admin)
    key = (await api_keys.create_key(platform.db, user.id, name="tests")).secret
    try:
        async with contextlib.AsyncExitStack() as stack:
            # The actors are declared; without workers jobs are queued (and wait).
            await stack.enter_async_context(
                running_workers(platform, engines, consume=False, reconcile=False)
            )
            http = await stack.enter_async_context(ClientSession())
            env = ApiEnv(platform, engines, base, http, user.id, key)
            if workers:
                # Plain worker threads: they stop in about a second (running_workers' graceful
                # drain takes several, which adds up over a suite).
                await stack.enter_async_context(consuming(env))
            yield env
    finally:
        await server.close()
        # A Redis event bus may hold connections of the workers' (closed) loop; they are gone anyway.
        with contextlib.suppress(RuntimeError):
            await platform.events.close()
        await platform.close()


@dataclass
class ServerProcess:
    """``nagovori serve`` (and, distributed, ``nagovori worker``) as real processes."""

    base: str
    key: str
    user_id: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def output(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-4000:] for path in self.logs)


@dataclass(frozen=True)
class Served:
    """A live API served from a thread of its own, for synchronous clients (requests, schemathesis)."""

    base: str
    key: str
    user_id: str


@contextlib.contextmanager
def served_in_thread(settings: Settings, **options: Any) -> Iterator[Served]:
    """``live_api(settings, **options)`` on an event loop in a thread of its own, until the block ends."""
    ready: list[Served] = []
    started = threading.Event()
    stop = threading.Event()

    async def serve() -> None:
        async with live_api(settings, **options) as env:
            ready.append(Served(env.base, env.key, env.user_id))
            started.set()
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(60), "the server did not start"
    try:
        yield ready[0]
    finally:
        stop.set()
        thread.join(30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(
    directory: Path, database_url: str, redis_url: str, port: int, secret: str, settings: Mapping[str, str]
) -> dict[str, str]:
    """The environment of ``nagovori`` processes on 127.0.0.1:``port`` with their data under
    ``directory``, PocketSphinx and espeak-ng, and ``settings`` (``{"worker_threads": "2"}``) on top."""
    return {
        **os.environ,
        "NAGOVORI_DATA_DIR": str(directory / "data"),
        "NAGOVORI_DATABASE_URL": database_url,
        "NAGOVORI_REDIS_URL": redis_url,
        "NAGOVORI_SECRET_KEY": secret,
        "NAGOVORI_HOST": "127.0.0.1",
        "NAGOVORI_PORT": str(port),
        "NAGOVORI_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "NAGOVORI_ASR_ENGINE": "pocketsphinx",
        "NAGOVORI_TTS_ENGINE": "espeak",
        **{f"NAGOVORI_{name.upper()}": value for name, value in settings.items()},
    }


@contextlib.contextmanager
def server_processes(
    tmp_path: Path,
    database_url: str,
    redis_url: str = "",
    *,
    minutes: float = 30,
    serve_args: tuple[str, ...] = (),
    separate_data_dirs: bool = False,
    **settings: str,
) -> Iterator[ServerProcess]:
    """Migrate, create a user and key, start the server (``nagovori serve *serve_args``, and a
    worker when ``redis_url`` is set), wait until /healthz answers; stop them all (SIGTERM) at the end.
    ``separate_data_dirs``: each process gets a data folder of its own (machines sharing no folder)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env(
        tmp_path,
        database_url,
        redis_url,
        port,
        "e2e-" + os.urandom(16).hex(),
        {"worker_threads": "2", **settings},
    )
    upgrade(database_url)
    user_id, key = asyncio.run(new_account(database_url, minutes))
    commands = [["serve", *serve_args]] + ([["worker", "--threads", "2"]] if redis_url else [])
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for command in commands:
            log = tmp_path / f"{command[0]}.log"
            logs.append(log)
            own = {"NAGOVORI_DATA_DIR": str(tmp_path / f"{command[0]}-data")} if separate_data_dirs else {}
            with log.open("wb") as sink:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "cli", *command],
                        env={**env, **own},
                        cwd=tmp_path,  # no stray .env from the checkout
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                )
        server = ServerProcess(base, key, user_id, env, processes, logs)
        _wait_healthy(server)
        yield server
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_healthy(server: ServerProcess, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in server.processes):
            raise AssertionError(f"a server process exited:\n{server.output()}")
        try:
            if requests.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not become healthy:\n{server.output()}")


async def new_account(database_url: str, minutes: float, *, key_name: str = "e2e") -> tuple[str, str]:
    """A user with ``minutes`` and an API key named ``key_name``, on a migrated database; (user id, key)."""
    db = Database(database_url)
    try:
        user = await create_user(db, starting_minutes=minutes)
        return user.id, (await api_keys.create_key(db, user.id, name=key_name)).secret
    finally:
        await db.dispose()


@contextlib.contextmanager
def scratch_postgres() -> Iterator[str]:
    """A database of its own on the test PostgreSQL server (skipped locally, fails in CI, if none)."""
    url = os.environ.get("NAGOVORI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    name = f"nagovori_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(postgres_admin(url, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        require(False, f"PostgreSQL not reachable at {url}: {exc}")
    try:
        yield f"{url.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def scratch_redis() -> str:
    """Database 14 of the test Redis server, emptied (skipped locally, fails in CI, if none)."""
    return flushed_redis(
        os.environ.get("NAGOVORI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")[0] + "/14"
    )
