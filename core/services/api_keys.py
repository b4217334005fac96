"""API keys: ``nag_`` + a random secret, shown once; only its SHA-256 is stored.

The edges get ``ApiKey`` rows from here (to read, never to write)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from core.db.base import utcnow
from core.db.database import Database
from core.db.models import ApiKey, User
from core.errors import AuthenticationFailed, InvalidInput, NotFound
from core.services import auth_cache
from core.services.auth_cache import AuthCache, CachedKey

if TYPE_CHECKING:
    from core.platform import Platform

KEY_PREFIX = "nag_"
TOUCH_SECONDS = 60


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: ``secret`` exists only here and is never stored."""

    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def create_key(db: Database, user_id: str, *, name: str = "default") -> NewKey:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("A key name has 1 to 100 characters.", field="name")
    secret = generate_secret()
    async with db.write() as session:
        if await session.get(User, user_id) is None:
            raise NotFound("User not found.", user_id=user_id)
        key = ApiKey(user_id=user_id, name=name, prefix=secret[:8], key_hash=hash_key(secret))
        session.add(key)
        await session.flush()
        return NewKey(key, secret)


async def authenticate(platform: Platform, secret: str) -> User:
    """The user a live key belongs to; AuthenticationFailed for unknown or revoked keys.

    Answered from the process's ``AuthCache`` when it can be (no database trip); revocations reach
    the cache over the event bus (``auth_cache``)."""
    if not secret.startswith(KEY_PREFIX):
        raise AuthenticationFailed("API keys start with 'nag_'.")
    digest = hash_key(secret)
    cache = platform.auth_cache
    cached = cache.key(digest)
    if cached is not None:
        if cached.revoked:
            raise _refused()
        user = await auth_cache.user_by_id(platform, cached.user_id)
        if user is None:
            raise _refused()
        await _touch(platform.db, cache, cached.key_id, None)
        return user
    generation = cache.generation
    async with platform.db.read() as session:
        row = (
            await session.execute(
                select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == digest)
            )
        ).first()
    # The lookup is by hash; comparing the hashes again in constant time keeps timing flat.
    if row is None or not hmac.compare_digest(row.ApiKey.key_hash, digest):
        raise _refused()
    revoked = row.ApiKey.revoked_at is not None
    cache.put_key(digest, CachedKey(row.User.id, row.ApiKey.id, revoked), generation)
    if revoked:
        raise _refused()
    cache.put_user(row.User, generation)
    await _touch(platform.db, cache, row.ApiKey.id, row.ApiKey.last_used_at)
    return row.User


def _refused() -> AuthenticationFailed:
    return AuthenticationFailed("The API key is not valid or has been revoked.")


async def _touch(db: Database, cache: AuthCache, key_id: str, last_used_at: datetime | None) -> None:
    """Keep last_used_at within a minute of the truth without writing on every request (the cache
    remembers when this process last saw or wrote it)."""
    now = utcnow()
    if last_used_at is not None:
        cache.touched(key_id, last_used_at)
    if not cache.touch_due(key_id, now, TOUCH_SECONDS):
        return
    cache.touched(key_id, now)  # before the write: concurrent requests do not all write
    async with db.write() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


async def list_keys(db: Database, user_id: str) -> list[ApiKey]:
    async with db.read() as session:
        rows = await session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
        return list(rows)


async def revoke_key(platform: Platform, user_id: str, key_id: str) -> ApiKey:
    """Revoke a key of this user at once (every API process refuses it as soon as the event bus
    tells it, well within a second); another user's key is NotFound."""
    async with platform.db.write() as session:
        key = await session.get(ApiKey, key_id)
        if key is None or key.user_id != user_id:
            raise NotFound("API key not found.", key_id=key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    await auth_cache.announce_key_revoked(platform, key.key_hash)
    return key


async def find_key(db: Database, key_id: str) -> ApiKey:
    """Any account's key by its id (for operators); NotFound when there is none."""
    async with db.lookup() as session:
        key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key not found.", key_id=key_id)
    return key


async def revoke_any_key(platform: Platform, key_id: str) -> ApiKey:
    """An operator revokes a key whoever owns it: ``revoke_key`` on behalf of its owner, so every
    API process's cache drops it alike."""
    key = await find_key(platform.db, key_id)
    return await revoke_key(platform, key.user_id, key_id)
