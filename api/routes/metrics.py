"""``GET /metrics``: Prometheus text format, for a scraper with the token or on an allowed network.

A scraper is let in by ``Authorization: Bearer <NAGOVORI_METRICS_TOKEN>``, or by its address being
inside ``NAGOVORI_METRICS_ALLOW`` (default: this machine only). A request that came through a
reverse proxy (it carries ``Forwarded``/``X-Forwarded-For``/``X-Real-IP``) is judged by the token
alone: behind a proxy on the same machine every client would otherwise look local. A wrong token
is 401 whatever the address; no token from elsewhere is 401 when a token would do, else 403.

``metrics_app(platform)`` serves the same route alone (``nagovori worker`` on ``METRICS_PORT``).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress

from aiohttp import web

from api.errors import error_middleware
from api.openapi import Body, operation
from api.state import PLATFORM
from core.errors import AuthenticationFailed, Forbidden
from core.observability import exposition
from core.platform import Platform
from core.settings import Settings

routes = web.RouteTableDef()

PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@routes.get("/metrics")
@operation(
    "Prometheus metrics",
    tags=("Service",),
    description="For a scraper with `Authorization: Bearer <NAGOVORI_METRICS_TOKEN>` or on a network in "
    "`NAGOVORI_METRICS_ALLOW` (default: this machine). See docs/operations.md for the families.",
    responses={200: Body(exposition.CONTENT_TYPE, description="Prometheus text format 0.0.4")},
    errors=(401, 403),
    auth=False,
)
async def metrics_handler(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    check_scraper(
        platform.settings,
        remote=request.remote,
        authorization=request.headers.get("Authorization"),
        proxied=any(name in request.headers for name in PROXY_HEADERS),
    )
    body = await exposition.render(platform)
    return web.Response(body=body, headers={"Content-Type": exposition.CONTENT_TYPE})


def check_scraper(
    settings: Settings, *, remote: str | None, authorization: str | None, proxied: bool
) -> None:
    """Raise ``AuthenticationFailed`` (401) or ``Forbidden`` (403) unless the scraper may read."""
    token = settings.metrics_token.get_secret_value()
    if authorization is not None:
        scheme, _, given = authorization.partition(" ")
        if (
            token
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode("utf-8", "replace"), token.encode())
        ):
            return
        raise AuthenticationFailed("The metrics token is not valid.")
    if not proxied and _inside(remote, allowed_networks(settings.metrics_allow)):
        return
    if token:
        raise AuthenticationFailed("Metrics need 'Authorization: Bearer <NAGOVORI_METRICS_TOKEN>'.")
    raise Forbidden("Metrics are served only to the networks in NAGOVORI_METRICS_ALLOW.")


@functools.cache
def allowed_networks(spec: str) -> tuple[Network, ...]:
    """The CIDRs of ``NAGOVORI_METRICS_ALLOW`` (validated when the settings load)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _inside(remote: str | None, networks: tuple[Network, ...]) -> bool:
    if not remote or not networks:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:  # a Unix socket, or no peer address
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def metrics_app(platform: Platform) -> web.Application:
    """An app that serves ``/metrics`` only (a worker process's own endpoint)."""
    app = web.Application(middlewares=[error_middleware])
    app[PLATFORM] = platform
    app.add_routes(routes)
    return app
