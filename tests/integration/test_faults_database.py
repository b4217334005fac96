"""The database goes away and comes back: the API answers 503 ``service_unavailable`` with a clear
message (never a 500, never a hang), charges nothing, and recovers by itself once the database
returns — no restart.

PostgreSQL is reached through a TCP relay on loopback that the test cuts (every connection reset,
new ones refused) and restores on the same port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api_harness import ApiEnv, api_settings, live_api
from tests.integration.fault_harness import TcpProxy, wait_until
from tests.integration.ledger_invariant import assert_ledger_consistent

pytestmark = [pytest.mark.postgres]

SHORT = "en/LJ001-0002.wav"


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(database_url)
    relay = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
async def api(tmp_path: Path, database_url: str, proxy: TcpProxy) -> AsyncIterator[ApiEnv]:
    target = urlsplit(database_url)
    relayed = database_url.replace(f"@{target.hostname}:{target.port}", f"@127.0.0.1:{proxy.port}", 1)
    async with live_api(api_settings(tmp_path, relayed), minutes=10) as env:
        yield env


async def call(api: ApiEnv, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    """(status, body, headers) of one request, bounded in time: an outage must not hang a client."""
    async with asyncio.timeout(30):
        headers = {**api.auth, **kwargs.pop("headers", {})}
        async with api.http.request(method, f"{api.base}{path}", headers=headers, **kwargs) as response:
            body = (
                await response.json()
                if response.content_type == "application/json"
                else await response.text()
            )
            return response.status, body, dict(response.headers)


def assert_unavailable(status: int, body: Any, headers: dict[str, str]) -> None:
    assert status == 503, body
    assert body["error"]["code"] == "service_unavailable"
    assert "database" in body["error"]["message"].lower()
    assert int(headers["Retry-After"]) >= 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_api_answers_503_while_the_database_is_down_and_recovers_alone(
    api: ApiEnv, proxy: TcpProxy, shared_audio: Path
) -> None:
    key = await api.upload(shared_audio / SHORT)  # a file that was uploaded before the outage
    status, me, _ = await call(api, "GET", "/v1/me")
    assert status == 200
    balance = me["balance"]["seconds"]

    await proxy.stop()

    # Routes that read the database, job creation, uploads, health. (The key, the user and the
    # balance come from the process's caches, exact while nothing changes: /v1/me still answers.)
    status, cached, _ = await call(api, "GET", "/v1/me")
    assert status == 200 and cached["balance"]["seconds"] == balance
    assert_unavailable(*await call(api, "GET", "/v1/profile/usage"))
    # again: the pool does not recover by magic
    assert_unavailable(*await call(api, "GET", "/v1/profile/usage"))
    assert_unavailable(*await call(api, "POST", "/v1/transcriptions", json={"object_key": key}))
    assert_unavailable(*await call(api, "POST", "/v1/uploads/presign", json={"filename": "a.wav"}))
    status, health, _ = await call(api, "GET", "/healthz")
    assert status == 503 and health["status"] == "degraded"
    assert health["checks"]["database"]["ok"] is False
    assert health["checks"]["database"]["error"]

    await proxy.start()

    async def back() -> bool:
        return (await call(api, "GET", "/v1/me"))[0] == 200

    await wait_until(back, within=30, what="the API to recover", every=0.5)
    status, me, _ = await call(api, "GET", "/v1/me")
    assert status == 200 and me["balance"]["seconds"] == balance  # the refused job held nothing
    status, jobs, _ = await call(api, "GET", "/v1/transcriptions")
    assert status == 200 and jobs["count"] == 0
    status, health, _ = await call(api, "GET", "/healthz")
    assert status == 200 and health["checks"]["database"]["ok"] is True
    status, job, _ = await call(api, "POST", "/v1/transcriptions", json={"object_key": key})
    assert status == 201, job
    done = await api.wait(job["id"])
    assert done["status"] == "completed"
    await assert_ledger_consistent(api.platform.db)
