"""The guarded client against real servers on loopback: what it refuses and what it follows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.errors import InvalidInput
from core.net import AddressNotAllowed, NetworkPolicy, guarded_session, send_following_redirects

LOOPBACK = NetworkPolicy.parse("127.0.0.0/8")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async def hello(_: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/hop", hop)
    app.router.add_get("/loop", loop)
    async with TestServer(app, host="127.0.0.1") as test_server:
        yield test_server


async def _get(policy: NetworkPolicy, url: str, max_redirects: int = 5) -> tuple[int, str]:
    async with (
        guarded_session(policy, connect_timeout=2, read_timeout=2) as session,
        send_following_redirects(session, "GET", url, policy=policy, max_redirects=max_redirects) as response,
    ):
        return response.status, await response.text()


async def test_loopback_is_refused_without_the_allow_list(server: TestServer) -> None:
    with pytest.raises(AddressNotAllowed):
        await _get(NetworkPolicy(), f"http://127.0.0.1:{server.port}/hello")


async def test_a_name_resolving_to_loopback_is_refused(server: TestServer) -> None:
    # the name passes the shape check; the resolver refuses what it resolves to
    with pytest.raises(AddressNotAllowed):
        await _get(NetworkPolicy(), f"http://localhost:{server.port}/hello")


async def test_allow_listed_server_answers(server: TestServer) -> None:
    assert await _get(LOOPBACK, f"http://127.0.0.1:{server.port}/hello") == (200, "hello")
    assert await _get(LOOPBACK, f"http://localhost:{server.port}/hello") == (200, "hello")


async def test_redirect_to_a_blocked_address_is_refused(server: TestServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    assert await _get(LOOPBACK, f"{base}/hop?to=/hello") == (200, "hello")
    for target in ("http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://10.0.0.1/"):
        with pytest.raises(AddressNotAllowed):
            await _get(LOOPBACK, f"{base}/hop?to={target}")


async def test_redirect_to_another_scheme_is_refused(server: TestServer) -> None:
    with pytest.raises(InvalidInput, match="http"):
        await _get(LOOPBACK, f"http://127.0.0.1:{server.port}/hop?to=file:///etc/passwd")


async def test_redirect_loops_and_disabled_redirects(server: TestServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    with pytest.raises(InvalidInput, match="redirects more than 3"):
        await _get(LOOPBACK, f"{base}/loop", max_redirects=3)
    status, _ = await _get(LOOPBACK, f"{base}/hop?to=/hello", max_redirects=0)
    assert status == 302
