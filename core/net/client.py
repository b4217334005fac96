"""An aiohttp client whose connections go only to addresses the policy permits."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from core.errors import InvalidInput
from core.net.addresses import AddressNotAllowed, NetworkPolicy, check_public_url

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _Refused(OSError):
    """Raised inside the connector (which wraps OSErrors) and unwrapped by ``send_following_redirects``."""


class _CheckingResolver(ThreadedResolver):
    """Resolves a name and refuses it when ANY of its addresses is not permitted: a name with one
    public and one private record must not let the connector fall back to the private one."""

    def __init__(self, policy: NetworkPolicy) -> None:
        super().__init__()
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await super().resolve(host, port, family)
        for result in results:
            try:
                self._policy.check(result["host"])
            except AddressNotAllowed:
                raise _Refused(f"{host} resolves to an address that is not allowed") from None
        return results


@asynccontextmanager
async def guarded_session(
    policy: NetworkPolicy, *, connect_timeout: float, read_timeout: float
) -> AsyncIterator[aiohttp.ClientSession]:
    """A session that connects only to checked addresses. The connector connects to exactly the
    addresses the resolver returned (no DNS cache, so no stale answer is reused); environment
    proxies are ignored, since a proxy would make the connection — and the lookup — elsewhere."""
    connector = aiohttp.TCPConnector(
        resolver=_CheckingResolver(policy), use_dns_cache=False, limit=0, force_close=True
    )
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, trust_env=False, auto_decompress=False
    ) as session:
        yield session


@asynccontextmanager
async def send_following_redirects(
    session: aiohttp.ClientSession,
    method: str,
    url: str | URL,
    *,
    policy: NetworkPolicy,
    max_redirects: int = 5,
    **kwargs: Any,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """Send a request, following up to ``max_redirects`` redirects (0: none), each target checked
    like the first URL. Yields the final response (a redirect too, when ``max_redirects`` is 0).

    Raises ``AddressNotAllowed`` for a forbidden address at any hop and ``InvalidInput`` for a bad
    redirect target or too many hops; aiohttp's own errors (timeouts, refused connections) pass.
    """
    target = check_public_url(url, policy)
    for hop in range(max_redirects + 1):
        try:
            response = await session.request(method, target, allow_redirects=False, **kwargs)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, _Refused):
                raise AddressNotAllowed() from None
            raise
        location = response.headers.get("Location")
        if response.status not in REDIRECTS or not location or max_redirects == 0:
            try:
                yield response
            finally:
                response.release()
            return
        response.release()
        if hop == max_redirects:
            break
        target = check_public_url(target.join(URL(location)), policy)
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method = "GET"  # what browsers do; the body does not follow
            kwargs.pop("data", None)
            kwargs.pop("json", None)
    raise InvalidInput(f"The URL redirects more than {max_redirects} times.")
