"""Bearer authentication for ``/v1/*``: ``nag_`` API keys (hashed) or HS256 JWTs.

Both resolve through the process's authentication cache (``core.services.auth_cache``), which
``auth_cache_ctx`` keeps subscribed to the event bus's invalidations while the app runs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import jwt
from aiohttp import web

from api.errors import Handler
from api.state import PLATFORM, USER_KEY
from core.errors import AuthenticationFailed
from core.services import api_keys, auth_cache
from core.services.accounts import User

PROTECTED_PREFIX = "/v1/"


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PROTECTED_PREFIX):
        request[USER_KEY] = await _authenticate(request)
    return await handler(request)


async def auth_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """Follow the authentication cache's invalidations while the app runs (until then the cache
    answers nothing, so requests read the database)."""
    platform = app[PLATFORM]
    listener = asyncio.create_task(platform.auth_cache.listen(platform.events))
    yield
    listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await listener


async def _authenticate(request: web.Request) -> User:
    platform = request.app[PLATFORM]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed()
    token = token.strip()
    # No key or JWT has control or non-ASCII characters (a stray 0xff byte arrives as a lone
    # surrogate, which hashing the key would choke on).
    if not (token.isascii() and token.isprintable()):
        raise AuthenticationFailed()
    if token.startswith(api_keys.KEY_PREFIX):
        return await api_keys.authenticate(platform, token)
    try:
        claims = jwt.decode(
            token,
            platform.settings.secret_key.get_secret_value(),
            algorithms=["HS256"],
            options={"require": ["sub", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("The token is not valid or has expired.") from exc
    # PyJWT takes any exp that int() accepts ("9999999999" too) and sets no upper bound: a leaked
    # token must not stay valid for years.
    exp = claims["exp"]
    max_lifetime = platform.settings.jwt_max_lifetime_seconds
    if isinstance(exp, bool) or not isinstance(exp, int | float) or exp > time.time() + max_lifetime:
        raise AuthenticationFailed(
            f"The token's exp must be a number at most {max_lifetime} seconds from now."
        )
    try:
        user = await auth_cache.user_by_id(platform, str(claims["sub"]))
    except Exception as exc:
        raise AuthenticationFailed("The token's user does not exist.") from exc
    if user is None:
        raise AuthenticationFailed("The token's user does not exist.")
    return user
