"""Authentication for ``/v1/*``: ``nag_`` API keys (hashed) or HS256 JWTs.

The credential comes in a header: ``Authorization: Bearer <key or JWT>`` or ``X-API-Key: <key>``
(what Prosa's and Speech7's clients send). Both at once must agree, else the request is ambiguous
and refused (400 ``conflicting_credentials``, as RFC 6750 §2 has it: one method per request).
A key or token in the query string is refused with the reason (401 ``credentials_in_query``):
URLs are written to access logs, proxy logs and browser history, where a key outlives its purpose.

Keys and JWTs resolve through the process's authentication cache (``core.services.auth_cache``),
which ``auth_cache_ctx`` keeps subscribed to the event bus's invalidations while the app runs."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator

import jwt
from aiohttp import web

from api.errors import Handler
from api.state import PLATFORM, USER_KEY
from core.errors import AuthenticationFailed, InvalidInput
from core.services import api_keys, auth_cache
from core.services.accounts import User

PROTECTED_PREFIX = "/v1/"
# Where credentials are obtained: no Bearer needed (and none looked at).
PUBLIC_PATHS = frozenset({"/v1/auth/token"})
# Authenticated by its handler: header credentials as usual, or a one-time ``?token=`` for browsers
# (api/routes/realtime.py); a ``nag_`` key in its query is still refused there.
SELF_AUTHENTICATED_PATHS = frozenset({"/v1/stt/realtime"})
API_KEY_HEADER = "X-API-Key"
# Query parameters that carry credentials in other APIs (compared in lower case); a value shaped
# like one of our keys is refused under any name.
QUERY_CREDENTIALS = frozenset(
    {"api_key", "apikey", "api-key", "x-api-key", "key", "token", "access_token", "auth", "authorization"}
)
KEY_SHAPE = re.compile(r"nag_[A-Za-z0-9_\-]{16,}")
HOW_TO_SEND = "send 'Authorization: Bearer nag_…' or 'X-API-Key: nag_…'"


class CredentialsInQuery(AuthenticationFailed):
    """A key or token in the query string: URLs end up in logs and browser history."""

    code = "credentials_in_query"
    default_message = (
        "API keys and tokens are not accepted in the query string: URLs are written to access logs, "
        f"proxy logs and browser history, where a key stays readable. Remove it and {HOW_TO_SEND} "
        "instead (and revoke the key if the URL was shared or logged)."
    )


class ConflictingCredentials(InvalidInput):
    """Two different credentials in one request: which one is meant cannot be told."""

    code = "conflicting_credentials"
    default_message = (
        "The request carries two different credentials (Authorization and X-API-Key); send one of them."
    )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if (
        request.path.startswith(PROTECTED_PREFIX)
        and request.path not in PUBLIC_PATHS
        and request.path not in SELF_AUTHENTICATED_PATHS
    ):
        request[USER_KEY] = await authenticate(request)
    return await handler(request)


async def auth_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """Follow the authentication and balance caches' invalidations while the app runs (until then
    the caches answer nothing, so requests read the database)."""
    platform = app[PLATFORM]
    listeners = [
        asyncio.create_task(cache.listen(platform.events))
        for cache in (platform.auth_cache, platform.balance_cache)
    ]
    yield
    for listener in listeners:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


def credential(request: web.Request) -> str:
    """The one key or JWT the request carries in its headers (see the module docstring)."""
    if any(_looks_like_credential(name, value) for name, value in request.query.items()):
        raise CredentialsInQuery()
    header = request.headers.get("Authorization", "")
    scheme, _, bearer = header.partition(" ")
    bearer = bearer.strip() if scheme.lower() == "bearer" else ""
    keys = {value.strip() for value in request.headers.getall(API_KEY_HEADER, ())} - {""}
    if len(keys) > 1 or (keys and bearer and bearer not in keys):
        raise ConflictingCredentials()
    if keys:
        # Another Authorization scheme beside it (a proxy's Basic auth) is not ours to judge.
        token = keys.pop()
        if not token.startswith(api_keys.KEY_PREFIX):
            raise AuthenticationFailed(
                "X-API-Key takes an API key (nag_…); send a JWT as 'Authorization: Bearer <jwt>'."
            )
    elif bearer:
        token = bearer
    else:
        raise AuthenticationFailed(f"Authentication required: {HOW_TO_SEND}.")
    # No key or JWT has control or non-ASCII characters (a stray 0xff byte arrives as a lone
    # surrogate, which hashing the key would choke on).
    if not (token.isascii() and token.isprintable()):
        raise AuthenticationFailed()
    return token


def _looks_like_credential(name: str, value: str) -> bool:
    return bool(value.strip()) and (
        name.lower() in QUERY_CREDENTIALS or KEY_SHAPE.fullmatch(value.strip()) is not None
    )


async def authenticate(request: web.Request) -> User:
    """The user the request's header credentials belong to (see the module docstring)."""
    platform = request.app[PLATFORM]
    token = credential(request)
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
