"""Real databases and Redis for integration tests.

SQLite: one migrated template per session, copied per test. PostgreSQL: a scratch database created
and migrated once per session (on the server at NAGOVORI_TEST_POSTGRES_URL), emptied per test.
Redis: one of databases 1–13 of the server at NAGOVORI_TEST_REDIS_URL, picked by process id so
that test runs side by side rarely share one, flushed per test. Under CI=true a missing server
fails the test instead of skipping it. ``api``: the live API on each database (a module may define
its own).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest

from core.db.database import Database
from core.db.migrate import upgrade
from migrations.metadata import all_tables
from tests.conftest import flushed_redis, plain_dsn, postgres_admin, require

if TYPE_CHECKING:
    from tests.api_harness import ApiEnv

POSTGRES_URL = os.environ.get(
    "NAGOVORI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = (
    os.environ.get("NAGOVORI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rpartition("/")[0]
    + f"/{1 + os.getpid() % 13}"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"nagovori_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(postgres_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        require(False, f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    base, _, _ = POSTGRES_URL.rpartition("/")
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    asyncio.run(postgres_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "nagovori.db"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    return url


async def _truncate(url: str) -> None:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(f"TRUNCATE {', '.join(all_tables())} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiEnv]:
    """A live API (in-process workers, a user with 10 minutes) on each kind of database."""
    from tests.api_harness import api_settings, live_api

    async with live_api(api_settings(tmp_path, database_url), minutes=10) as env:
        yield env


@pytest.fixture
def redis_url() -> str:
    return flushed_redis(REDIS_URL)
