"""Authentication answered from each process's cache, and never a moment longer than it is true:
a revoked key, a deleted user and a demoted administrator are refused at once in the process that
made the change and within a second in every other API process (Redis pub/sub)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from aiohttp import ClientSession
from sqlalchemy import delete

from cli.bootstrap import build_platform
from core.db.migrate import upgrade
from core.db.models import User
from core.platform import Platform
from core.services import api_keys, auth_cache
from core.services.users import create_user, set_admin
from core.settings import Settings
from tests.api_harness import (
    ServerProcess,
    _wait_healthy,
    api_settings,
    free_port,
    live_api,
    new_account,
    scratch_postgres,
    scratch_redis,
    server_env,
)

ADMIN_ROUTE = "/v1/admin/ledger/check"
PROPAGATION_SECONDS = 1.0


async def status(http: ClientSession, base: str, key: str, path: str = "/v1/me") -> int:
    async with http.get(f"{base}{path}", headers={"Authorization": f"Bearer {key}"}) as response:
        await response.read()
        return response.status


async def becomes(http: ClientSession, base: str, key: str, expected: int, *, path: str = "/v1/me") -> float:
    """Seconds until ``path`` answers ``expected`` (polled; fails after a few seconds)."""
    started = time.monotonic()
    while (got := await status(http, base, key, path)) != expected:
        assert time.monotonic() - started < 5, f"still {got} after 5 s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def listening(platform: Platform) -> None:
    """Wait (briefly) until the app's cache follows the event bus: until then it caches nothing."""
    for _ in range(100):
        if platform.auth_cache.listening:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the authentication cache never started listening")


async def delete_user(platform: Platform, user_id: str) -> None:
    """Delete the account row (its keys go with it) and announce it, as account deletion must."""
    async with platform.db.write() as session:
        await session.execute(delete(User).where(User.id == user_id))
    await auth_cache.announce_user_changed(platform, user_id)


# --- one process (embedded: the in-process event bus) ---------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_revoked_key_is_refused_at_once_and_a_new_key_works_at_once(
    tmp_path: Path, database_url: str
) -> None:
    async with live_api(api_settings(tmp_path, database_url), workers=False) as api:
        # Given a key that has been used (and so is cached) and a second key just created with it
        await listening(api.platform)
        assert await status(api.http, api.base, api.key) == 200
        assert api.platform.auth_cache.key(api_keys.hash_key(api.key)) is not None
        code, created = await api.call("POST", "/v1/api-keys", json={"name": "second"})
        assert code == 201
        assert await status(api.http, api.base, created["key"]) == 200  # a new key is just a miss
        assert await status(api.http, api.base, created["key"]) == 200  # ... then a hit
        # When the second key is revoked
        code, _ = await api.call("DELETE", f"/v1/api-keys/{created['id']}")
        assert code == 204
        # Then the very next request with it is refused, and the first key still works
        assert await status(api.http, api.base, created["key"]) == 401
        assert await status(api.http, api.base, api.key) == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_demoted_admin_loses_admin_routes_and_a_deleted_user_every_route_at_once(
    tmp_path: Path, database_url: str
) -> None:
    settings = api_settings(tmp_path, database_url)
    async with live_api(settings, workers=False, is_admin=True) as api:
        secret = settings.secret_key.get_secret_value()
        token = jwt.encode({"sub": api.user_id, "exp": int(time.time()) + 60}, secret, algorithm="HS256")
        await listening(api.platform)
        for credential in (api.key, token, api.key, token):  # the second round is answered from the cache
            assert await status(api.http, api.base, credential, ADMIN_ROUTE) == 200
        await set_admin(api.platform, api.user_id, False)
        for credential in (api.key, token):
            assert await status(api.http, api.base, credential, ADMIN_ROUTE) == 403
            assert await status(api.http, api.base, credential) == 200
        await delete_user(api.platform, api.user_id)
        for credential in (api.key, token):
            assert await status(api.http, api.base, credential) == 401


# --- two `serve` processes on Redis + PostgreSQL ------------------------------------------------------


@contextlib.contextmanager
def two_servers(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[list[ServerProcess]]:
    """Two ``nagovori serve`` processes over one database and one Redis (the same secret key)."""
    upgrade(database_url)
    user_id, key = asyncio.run(new_account(database_url, 5))
    secret = "e2e-" + os.urandom(16).hex()
    servers: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            env = server_env(tmp_path / name, database_url, redis_url, port, secret, {"worker_threads": "1"})
            log = tmp_path / f"serve-{name}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [sys.executable, "-m", "cli", "serve"],
                    env=env,
                    cwd=tmp_path,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            servers.append(ServerProcess(f"http://127.0.0.1:{port}", key, user_id, env, [process], [log]))
        for server in servers:
            _wait_healthy(server)
        yield servers
    finally:
        for server in servers:
            server.processes[0].send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.processes[0].wait(20)
            except subprocess.TimeoutExpired:
                server.processes[0].kill()


@pytest.fixture
def distributed(tmp_path: Path) -> Iterator[tuple[list[ServerProcess], Settings]]:
    redis_url = scratch_redis()
    with scratch_postgres() as database_url, two_servers(tmp_path, database_url, redis_url) as servers:
        yield servers, Settings.load(data_dir=tmp_path / "t", database_url=database_url, redis_url=redis_url)


@pytest.mark.slow
async def test_a_key_revoked_in_one_process_is_refused_by_another_within_a_second(
    distributed: tuple[list[ServerProcess], Settings],
) -> None:
    (a, b), _ = distributed
    async with ClientSession() as http:
        # Given the key works on both (and each has it cached)
        for server in (a, b, a, b):
            assert await status(http, server.base, a.key) == 200
        # and a key created through A works on B at once
        async with http.post(
            f"{a.base}/v1/api-keys", json={"name": "second"}, headers={"Authorization": f"Bearer {a.key}"}
        ) as response:
            assert response.status == 201
            created = await response.json()
        assert await status(http, b.base, created["key"]) == 200
        assert await status(http, b.base, created["key"]) == 200
        # When it is revoked through A
        async with http.delete(
            f"{a.base}/v1/api-keys/{created['id']}", headers={"Authorization": f"Bearer {a.key}"}
        ) as response:
            assert response.status == 204
        # Then A refuses it at once and B within a second of A's answer
        answered = time.monotonic()
        assert await status(http, a.base, created["key"]) == 401
        await becomes(http, b.base, created["key"], 401)
        assert time.monotonic() - answered <= PROPAGATION_SECONDS
        assert await status(http, b.base, a.key) == 200


@pytest.mark.slow
async def test_a_user_demoted_or_deleted_elsewhere_is_refused_by_every_process_within_a_second(
    distributed: tuple[list[ServerProcess], Settings],
) -> None:
    servers, settings = distributed
    platform = build_platform(settings)  # a third process's view: the change is made here
    try:
        admin = await create_user(platform.db, is_admin=True)
        key = (await api_keys.create_key(platform.db, admin.id)).secret
        async with ClientSession() as http:
            for server in servers * 2:
                assert await status(http, server.base, key, ADMIN_ROUTE) == 200
            await set_admin(platform, admin.id, False)
            changed = time.monotonic()
            for server in servers:
                await becomes(http, server.base, key, 403, path=ADMIN_ROUTE)
            assert time.monotonic() - changed <= PROPAGATION_SECONDS
            assert await status(http, servers[1].base, key) == 200
            await delete_user(platform, admin.id)
            changed = time.monotonic()
            for server in servers:
                await becomes(http, server.base, key, 401)
            assert time.monotonic() - changed <= PROPAGATION_SECONDS
    finally:
        await platform.events.close()
        await platform.close()
