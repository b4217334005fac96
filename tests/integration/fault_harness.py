"""Tools for the fault-tolerance tests: a Redis server of our own (to restart), ``nagovori worker``
as a real process (to SIGKILL), long speech clips (so a job is still running when we strike),
and readers for the job rows and ledger entries that prove nothing was lost or charged twice.

Everything runs on 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import redis
from sqlalchemy import select

from billing.tables import LedgerEntry
from core.audio.decode import decode_pcm, read_pcm
from core.audio.encode import encode_to_file
from core.db.database import Database
from core.db.models import TranscriptionJob
from core.settings import Settings
from tests.conftest import REPO_ROOT, require

T = TypeVar("T")

SPEECH = [f"en/LJ001-{n:04d}.wav" for n in range(1, 17)]  # 16 sentences, about 106 s in all


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(
    probe: Callable[[], Awaitable[T | None]], *, within: float, what: str, every: float = 0.1
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(every)


def long_speech(shared_audio: Path, target: Path, *, seconds: float) -> float:
    """Real English speech of about ``seconds`` (shared sentences with a pause after each) as a
    WAV; returns its exact length. The pauses let the engine finish sentences as it goes, so a
    job's progress moves long before its end."""
    pause = np.zeros(12000, dtype=np.float32)
    parts: list[np.ndarray] = []
    total = 0
    index = 0
    while total < seconds * 16000:
        pcm = read_pcm(shared_audio / SPEECH[index % len(SPEECH)])
        parts += [pcm, pause]
        total += pcm.size + pause.size
        index += 1
    encode_to_file(np.concatenate(parts), 16000, "wav", target)
    return total / 16000


def continuous_speech(paths: Sequence[Path], target: Path, seconds: float, *, exact: bool = False) -> Path:
    """The clips back to back (no pauses added), in turn until there are ``seconds`` of audio (cut
    there when ``exact``), as a 16 kHz 16-bit mono WAV."""
    parts: list[np.ndarray] = []
    total = 0
    while total < seconds * 16000:
        for path in paths:
            parts.append(np.concatenate(list(decode_pcm(path))))
            total += parts[-1].size
            if total >= seconds * 16000:
                break
    pcm = np.concatenate(parts)
    if exact:
        pcm = pcm[: int(seconds * 16000)]
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(pcm, -1, 1) * 32767).astype("<i2").tobytes())
    return target


@dataclass
class RedisServer:
    """A redis-server of our own on a loopback port, without persistence: a restart loses all."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        require(binary is not None, "redis-server is not installed")
        assert binary is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"redis-server exited:\n{self.log()}")
            with contextlib.suppress(redis.RedisError), self.client() as client:
                if client.ping():
                    return
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not answer:\n{self.log()}")

    def crash(self) -> None:
        """SIGKILL: whatever it held (queued messages) is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        self.crash()
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5)

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.crash()


def platform_env(settings: Settings) -> dict[str, str]:
    """The environment a ``nagovori`` process needs to share ``settings`` with the test."""
    return {
        **os.environ,
        "NAGOVORI_DATA_DIR": str(settings.data_dir.resolve()),
        "NAGOVORI_DATABASE_URL": settings.effective_database_url,
        "NAGOVORI_REDIS_URL": settings.redis_url,
        "NAGOVORI_SECRET_KEY": settings.secret_key.get_secret_value(),
        "NAGOVORI_ASR_ENGINE": settings.asr_engine,
        "NAGOVORI_TTS_ENGINE": settings.tts_engine,
        "NAGOVORI_JOB_STALE_SECONDS": str(settings.job_stale_seconds),
        "NAGOVORI_JOB_MAX_ATTEMPTS": str(settings.job_max_attempts),
        "NAGOVORI_RECONCILE_INTERVAL_SECONDS": str(settings.reconcile_interval_seconds),
        "NAGOVORI_MAX_ACTIVE_JOBS": str(settings.max_active_jobs),
        "NAGOVORI_TELEGRAM_TOKEN": settings.telegram_token.get_secret_value(),
        "NAGOVORI_TELEGRAM_API_URL": settings.telegram_api_url,
        "NAGOVORI_BOT_FRAMEWORK": settings.bot_framework,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


class WorkerProcess:
    """``nagovori worker`` as a child process, with its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path, *, threads: int = 1) -> None:
        self.log_path = log
        with log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cli", "worker", "--threads", str(threads)],
                env={**env, "PYTHONPATH": str(REPO_ROOT)},
                cwd=log.parent,  # no stray .env from the checkout
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, within: float = 60) -> None:
        """Until it prints that it consumes (engines load lazily, on the first job)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if "consuming" in self.output():
                return
            if not self.alive():
                raise AssertionError(f"the worker exited:\n{self.output()}")
            time.sleep(0.1)
        raise AssertionError(f"the worker did not start:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no ack, no last heartbeat."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""


@contextlib.contextmanager
def worker_process(env: dict[str, str], log: Path, *, threads: int = 1) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(env, log, threads=threads)
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


async def job_row(db: Database, job_id: str) -> TranscriptionJob:
    """The transcription job as the database has it now (every column loaded)."""
    async with db.read() as session:
        job = await session.get(TranscriptionJob, job_id)
    assert job is not None
    return job


async def ledger_kinds(db: Database, job_id: str) -> list[str]:
    """The kinds of the job's ledger entries, oldest first (hold, then capture + release)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(LedgerEntry.kind).where(LedgerEntry.job_id == job_id).order_by(LedgerEntry.id)
        )
        return list(rows)


async def captured(db: Database, job_id: str) -> list[int]:
    """Every capture the ledger holds for the job (exactly one once it completed)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(LedgerEntry.amount_seconds).where(
                LedgerEntry.job_id == job_id, LedgerEntry.kind == "capture"
            )
        )
        return list(rows)


def describe(job: Any) -> str:
    return f"{job.id}: {job.status} attempts={job.attempts} error={job.error_code} {job.error_message}"


class TcpProxy:
    """A loopback TCP relay to ``target`` that can be cut (every connection dropped, new ones
    refused) and restored on the same port: a database that goes away and comes back."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        """Refuse new connections and reset the open ones, as a crashed server would."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
