"""API keys: ``nag_`` + a random secret, shown once; only its SHA-256 is stored.

The edges get ``ApiKey`` rows from here (to read, never to write)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from core.db.base import utcnow
from core.db.database import Database
from core.db.models import ApiKey, User
from core.errors import AuthenticationFailed, InvalidInput, NotFound

KEY_PREFIX = "nag_"


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


async def authenticate(db: Database, secret: str) -> User:
    """The user a live key belongs to; AuthenticationFailed for unknown or revoked keys."""
    if not secret.startswith(KEY_PREFIX):
        raise AuthenticationFailed("API keys start with 'nag_'.")
    digest = hash_key(secret)
    async with db.read() as session:
        row = (
            await session.execute(
                select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == digest)
            )
        ).first()
    # The lookup is by hash; comparing the hashes again in constant time keeps timing flat.
    if (
        row is None
        or not hmac.compare_digest(row.ApiKey.key_hash, digest)
        or row.ApiKey.revoked_at is not None
    ):
        raise AuthenticationFailed("The API key is not valid or has been revoked.")
    await _touch(db, row.ApiKey)
    return row.User


async def _touch(db: Database, key: ApiKey) -> None:
    """Keep last_used_at within a minute of the truth without writing on every request."""
    now = utcnow()
    if key.last_used_at is not None and (now - key.last_used_at).total_seconds() < 60:
        return
    async with db.write() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))


async def list_keys(db: Database, user_id: str) -> list[ApiKey]:
    async with db.read() as session:
        rows = await session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at.desc())
        )
        return list(rows)


async def revoke_key(db: Database, user_id: str, key_id: str) -> ApiKey:
    """Revoke a key of this user at once; another user's key is NotFound."""
    async with db.write() as session:
        key = await session.get(ApiKey, key_id)
        if key is None or key.user_id != user_id:
            raise NotFound("API key not found.", key_id=key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        return key
