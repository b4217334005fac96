"""The transfer stage of ``GET /v1/transcriptions/{id}/status`` while the worker downloads an
``audio_url``, on SQLite and PostgreSQL: a loopback server sends real audio in two parts and holds
between them until the test lets it go, so the download is seen mid-way without timing anything."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from core.db.models import Upload
from tests.api_harness import ApiEnv, api_settings, consuming, live_api
from tests.integration.test_api_status import progress, status_of

SIZED = "en/LJ001-0002.wav"  # 1.9 s, 83 814 bytes
UNSIZED = "en/LJ001-0008.wav"  # 78 694 bytes
HALF = 40_000  # bytes sent before the server holds


@dataclass
class HeldServer:
    """Serves each clip in two parts, holding after the first until ``release`` is set."""

    base: str
    release: dict[str, asyncio.Event] = field(default_factory=dict)


@pytest.fixture
async def held(shared_audio: Path) -> AsyncIterator[HeldServer]:
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    served = HeldServer("")

    def handler(clip: bytes, *, sized: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        release = served.release.setdefault("sized" if sized else "unsized", asyncio.Event())

        async def send(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "audio/wav"})
            if sized:
                response.content_length = len(clip)
            else:
                response.enable_chunked_encoding()  # no Content-Length
            await response.prepare(request)
            await response.write(clip[:HALF])
            await release.wait()
            await response.write(clip[HALF:])
            await response.write_eof()
            return response

        return send

    app.router.add_get("/sized.wav", handler((shared_audio / SIZED).read_bytes(), sized=True))
    app.router.add_get("/unsized.wav", handler((shared_audio / UNSIZED).read_bytes(), sized=False))
    await server.start_server()
    served.base = str(server.make_url("")).rstrip("/")
    try:
        yield served
    finally:
        for event in served.release.values():  # a failed test must not leave a worker waiting
            event.set()
        await server.close()


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, database_url, fetch_allow="127.0.0.1/32", max_active_jobs=2)
    async with live_api(settings, workers=False) as env:
        yield env


async def until(check: Callable[[], Awaitable[Any]], *, within: float = 30) -> Any:
    """Poll ``check`` until it answers something truthy (a deadline, not a measured time)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if answer := await check():
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached within {within} s")


async def fetch(env: ApiEnv, url: str) -> dict[str, Any]:
    status, job = await env.call("POST", "/v1/transcriptions", json={"audio_url": url})
    assert status == 201, job
    return dict(job)


async def storing(env: ApiEnv) -> bool:
    """Whether a download has begun to be stored (its pending upload exists)."""
    async with env.platform.db.read() as session:
        return bool(await session.scalar(select(func.count()).select_from(Upload)))


async def test_a_downloading_url_reports_its_share_when_the_server_sends_a_length(
    api: ApiEnv, held: HeldServer, shared_audio: Path
) -> None:
    unsized = await fetch(api, f"{held.base}/unsized.wav")
    async with consuming(api):
        # The length-less download is under way: its first bytes are in.
        await until(lambda: storing(api))
        sized = await fetch(api, f"{held.base}/sized.wav")

        # Held mid-way, the sized download shows exactly the share that came: strictly in between.
        share = round(HALF / (shared_audio / SIZED).stat().st_size * 100, 1)

        async def mid_way() -> Any:
            body = await status_of(api, sized["id"])
            return body if body["progress"]["details"]["transfer"] == share else None

        body = await until(mid_way)
        assert 0 < share < 100
        assert body == {
            "id": sized["id"],
            "status": "processing",
            "progress": progress(share, 0.0, round(share / 10, 1)),
        }
        # The length-less one, held too (and downloading since before the sized one began), has
        # no share to tell: 0 until its file is stored.
        assert await status_of(api, unsized["id"]) == {
            "id": unsized["id"],
            "status": "processing",
            "progress": progress(0.0, 0.0, 0.0),
        }

        for event in held.release.values():
            event.set()
        for job in (sized, unsized):
            done = await api.wait(job["id"])
            assert done["status"] == "completed", done
            assert await status_of(api, job["id"]) == {
                "id": job["id"],
                "status": "completed",
                "progress": progress(100.0, 100.0, 100.0),
            }
