"""Short-lived, single-use tokens that let a browser open a realtime session.

Browsers cannot set headers on a WebSocket, and a long-lived API key must never travel in a URL
(access logs, history). So an authenticated client asks for a token (``POST
/v1/stt/realtime/sessions``) and passes it as ``?token=``. A token is signed, not stored: an
HMAC over the user id, its expiry and a random nonce, with a key of its own derived from
``SECRET_KEY`` (so it can never be replayed as any other signature). Single use is enforced by
remembering the nonces used until they expire: in Redis (``SET NX`` with the token's lifetime:
every API process sees it) when ``REDIS_URL`` is set, in this process otherwise (embedded mode
runs one API process).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import AuthenticationFailed

if TYPE_CHECKING:
    from core.platform import Platform

TOKEN_PREFIX = "rt1."
TOKEN_LIFETIME_SECONDS = 60
_PURPOSE = b"nagovori/realtime-session-token/v1"


@dataclass(frozen=True)
class SessionToken:
    token: str
    expires_at: int  # Unix seconds


@dataclass(frozen=True)
class TokenHolder:
    """Whom a redeemed token was issued to, and through which channel (``api`` or ``web``: the
    session's job is counted under it, as every job is)."""

    user_id: str
    source: str


CHANNELS = ("api", "web")


class RealtimeTokens:
    """Issues and redeems session tokens; one per API process."""

    def __init__(self, secret: str, redis_url: str = "", *, lifetime: int = TOKEN_LIFETIME_SECONDS) -> None:
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()
        self._lifetime = lifetime
        self._redis_url = redis_url
        self._used: dict[str, float] = {}  # embedded mode: nonce -> expiry
        self._lock = threading.Lock()

    def issue(self, user_id: str, *, source: str = "api", now: float | None = None) -> SessionToken:
        if source not in CHANNELS:
            raise ValueError(f"unknown channel {source!r}")
        expires_at = int(now if now is not None else time.time()) + self._lifetime
        body = f"{user_id}.{expires_at}.{secrets.token_urlsafe(16)}.{source}"
        return SessionToken(f"{TOKEN_PREFIX}{body}.{self._sign(body)}", expires_at)

    async def redeem(self, token: str, *, now: float | None = None) -> TokenHolder:
        """Whom the token was issued to; AuthenticationFailed when it is forged, expired or used
        already (after this call it is used)."""
        user_id, expires_at, nonce, source = self._verify(token)
        clock = now if now is not None else time.time()
        if expires_at < clock:
            raise AuthenticationFailed("The realtime session token has expired; ask for a new one.")
        if not await self._first_use(nonce, ttl=max(1, int(expires_at - clock) + 1)):
            raise AuthenticationFailed("The realtime session token was used already; ask for a new one.")
        return TokenHolder(user_id, source)

    def _verify(self, token: str) -> tuple[str, int, str, str]:
        invalid = AuthenticationFailed("The realtime session token is not valid.")
        if not token.startswith(TOKEN_PREFIX) or len(token) > 512:
            raise invalid
        body, _, signature = token[len(TOKEN_PREFIX) :].rpartition(".")
        parts = body.split(".")
        if len(parts) != 4 or not hmac.compare_digest(signature, self._sign(body)):
            raise invalid
        user_id, expires, nonce, source = parts
        if not expires.isdigit() or source not in CHANNELS:
            raise invalid
        return user_id, int(expires), nonce, source

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    async def _first_use(self, nonce: str, *, ttl: int) -> bool:
        if self._redis_url:
            from redis.asyncio import Redis  # embedded mode never needs redis

            # A connection per redemption (one per session opened): no client bound to a loop.
            async with Redis.from_url(self._redis_url) as redis:
                return bool(await redis.set(f"nagovori:rt-token:{nonce}", 1, nx=True, ex=ttl))
        clock = time.time()
        with self._lock:
            for used, until in list(self._used.items()):
                if until < clock:
                    del self._used[used]
            if nonce in self._used:
                return False
            self._used[nonce] = clock + ttl
            return True


_BY_SECRET: dict[tuple[str, str], RealtimeTokens] = {}


def tokens_for(secret: str, redis_url: str) -> RealtimeTokens:
    """The process's token service for this secret (in embedded mode its used-token set must be
    one per process, not one per request)."""
    key = (secret, redis_url)
    found = _BY_SECRET.get(key)
    if found is None:
        found = _BY_SECRET.setdefault(key, RealtimeTokens(secret, redis_url))
    return found


def tokens_of(platform: Platform) -> RealtimeTokens:
    """The token service of ``platform``'s secret: the one the API redeems with, whoever issues
    (the API's ``POST /v1/stt/realtime/sessions`` or the dashboard's Dictate button)."""
    settings = platform.settings
    return tokens_for(settings.secret_key.get_secret_value(), settings.redis_url)
