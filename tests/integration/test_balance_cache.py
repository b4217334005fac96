"""``GET /v1/me`` answers the balance from each process's cache, without a database trip when warm,
and never a moment longer than it is true: every ledger change (a grant, a job's hold and its
settlement) shows at once in the process that made it, on the embedded worker's thread too, and
within a second in every other API process (Redis pub/sub)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import event

from billing import ledger
from cli.bootstrap import build_platform
from core.db.database import Database
from core.platform import Platform
from core.services import accounts
from core.services.users import grant_minutes
from core.settings import Settings
from tests.api_harness import ApiEnv, ServerProcess, api_settings, live_api
from tests.integration.test_auth_cache import distributed  # noqa: F401 (a fixture)

PROPAGATION_SECONDS = 1.0
TEXT = "Open the door. Turn on the light."


def statements(db: Database) -> list[str]:
    """Every statement the engine sends from now on."""
    sent: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.strip().split()[0].upper())

    return sent


async def balance_on(http: ClientSession, base: str, key: str) -> int:
    async with http.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {key}"}) as response:
        assert response.status == 200
        return int((await response.json())["balance"]["seconds"])


async def shows(http: ClientSession, base: str, key: str, expected: int) -> float:
    """Seconds until ``/v1/me`` shows ``expected`` (polled; fails after a few seconds)."""
    started = time.monotonic()
    while (got := await balance_on(http, base, key)) != expected:
        assert time.monotonic() - started < 5, f"still {got} after 5 s, not {expected}"
        await asyncio.sleep(0.05)  # the servers allow 60 requests a minute
    return time.monotonic() - started


async def warm(platform: Platform, api: ApiEnv) -> None:
    """Wait until the app's caches follow the event bus, then fill them with this user's entries."""
    for _ in range(100):
        if platform.balance_cache.listening and platform.auth_cache.listening:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the caches never started listening")
    await balance_on(api.http, api.base, api.key)


def in_another_loop(platform: Platform, user_id: str, minutes: float) -> None:
    """Grant minutes from another thread's event loop with its own database engine, as the
    embedded worker commits ledger changes."""

    async def grant() -> None:
        there = platform.for_this_loop()
        try:
            await grant_minutes(there.db, user_id, minutes, reason="worker thread")
        finally:
            await there.close()

    thread = threading.Thread(target=asyncio.run, args=(grant(),))
    thread.start()
    thread.join()


async def test_a_warm_me_costs_no_statement_and_shows_every_change_at_once(
    tmp_path: Path, database_url: str
) -> None:
    async with live_api(api_settings(tmp_path, database_url), is_admin=True) as api:
        platform = api.platform
        await warm(platform, api)
        sent = statements(platform.db)
        assert await balance_on(api.http, api.base, api.key) == 600
        assert sent == []  # neither the key, the user nor the balance was read
        # A grant through the API shows on the very next request
        code, _ = await api.call("POST", f"/v1/admin/users/{api.user_id}/grants", json={"minutes": 1})
        assert code == 201
        assert await balance_on(api.http, api.base, api.key) == 660
        # ... and so does one committed on another thread's loop (the embedded worker's way)
        in_another_loop(platform, api.user_id, 2)
        assert await balance_on(api.http, api.base, api.key) == 780
        # A job's hold shows as soon as the request that made it returns, its settlement once done
        code, created = await api.call("POST", "/v1/tts", json={"text": TEXT})
        assert code == 201, created
        job_id = created["job"]["id"]
        assert await balance_on(api.http, api.base, api.key) == await accounts.balance_seconds(
            platform.db, api.user_id
        )
        done = await api.wait(job_id, kind="tts")
        assert done["status"] == "completed", done
        truth = await accounts.balance_seconds(platform.db, api.user_id)
        assert 0 < 780 - truth < 60  # charged a few seconds, the rest of the hold released
        assert await balance_on(api.http, api.base, api.key) == truth


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_rolled_back_change_announces_nothing_and_a_committed_one_forgets_here(
    tmp_path: Path, database_url: str
) -> None:
    async with live_api(api_settings(tmp_path, database_url), workers=False) as api:
        platform = api.platform
        await warm(platform, api)
        assert platform.balance_cache.get(api.user_id) == 600
        with pytest.raises(RuntimeError):
            async with platform.db.write() as session:
                await ledger.grant(session, api.user_id, 60, source="admin")
                raise RuntimeError("changed my mind")
        assert platform.balance_cache.get(api.user_id) == 600  # still cached, still true
        assert await accounts.balance_seconds(platform.db, api.user_id) == 600
        async with platform.db.write() as session:
            await ledger.grant(session, api.user_id, 60, source="admin")
        assert platform.balance_cache.get(api.user_id) is None
        assert await balance_on(api.http, api.base, api.key) == 660


@pytest.mark.slow
async def test_a_change_made_in_another_process_shows_on_every_server_within_a_second(
    distributed: tuple[list[ServerProcess], Settings],  # noqa: F811
) -> None:
    (a, b), settings = distributed
    platform = build_platform(settings)  # a third process (a worker, the shell) makes the change
    try:
        async with ClientSession() as http:
            for server in (a, b, a, b):  # each has the balance cached
                assert await balance_on(http, server.base, a.key) == 300
            await grant_minutes(platform.db, a.user_id, 1, reason="elsewhere")
            changed = time.monotonic()
            for server in (a, b):
                await shows(http, server.base, a.key, 360)
            assert time.monotonic() - changed <= PROPAGATION_SECONDS
            # A job submitted through A holds minutes: A shows it at once, B within a second
            async with http.post(
                f"{a.base}/v1/tts", json={"text": TEXT}, headers={"Authorization": f"Bearer {a.key}"}
            ) as response:
                assert response.status == 201, await response.text()
            answered = time.monotonic()
            truth = await accounts.balance_seconds(platform.db, a.user_id)
            assert truth < 360
            assert await balance_on(http, a.base, a.key) == truth
            await shows(http, b.base, a.key, truth)
            assert time.monotonic() - answered <= PROPAGATION_SECONDS
    finally:
        await platform.events.close()
        await platform.close()
