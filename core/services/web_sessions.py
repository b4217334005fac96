"""Signed-in browsers: server-side session rows behind a random cookie token, and CSRF tokens.

The cookie carries 256 random bits; the row is keyed by their SHA-256, so the database alone signs
nobody in. A session ends when its browser signs out, when the account signs out everywhere or
gets a new password, or ``WEB_SESSION_DAYS`` after its last visit.

CSRF tokens are HMACs of the browser's binding value (its session token, or a pre-session value
before signing in) under the platform's secret: a page can only submit a form whose token was
rendered for that very browser, and nothing more needs storing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from core.db.base import utcnow
from core.db.database import Database
from core.db.models import User
from core.db.web_tables import WebSession

if TYPE_CHECKING:
    from core.platform import Platform

TOUCH_SECONDS = 60  # last_seen_at (and so the expiry) moves at most once a minute per session
USER_AGENT_CHARS = 200


@dataclass(frozen=True)
class SignedIn:
    """The account a browser's cookie belongs to."""

    user: User
    token: str  # the cookie's value (binds the CSRF token)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(platform: Platform, user_id: str, *, user_agent: str | None = None) -> str:
    """A new session for ``user_id``; returns the token for the cookie (shown nowhere else)."""
    token = new_token()
    now = utcnow()
    async with platform.db.write() as session:
        # Sessions past their expiry sign nobody in; they go here (indexed, so this stays cheap).
        await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        session.add(
            WebSession(
                token_hash=_digest(token),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + _lifetime(platform),
                user_agent=(user_agent or "")[:USER_AGENT_CHARS] or None,
            )
        )
    return token


async def resolve(platform: Platform, token: str) -> SignedIn | None:
    """The signed-in account of this cookie token, or None (unknown, ended or expired)."""
    if not token or len(token) > 100 or not token.isascii():
        return None
    digest = _digest(token)
    now = utcnow()
    async with platform.db.read() as session:
        row = (
            await session.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.token_hash == digest)
            )
        ).first()
    if row is None or row.WebSession.expires_at <= now:
        return None
    if (now - row.WebSession.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        async with platform.db.write() as session:
            await session.execute(
                update(WebSession)
                .where(WebSession.token_hash == digest)
                .values(last_seen_at=now, expires_at=now + _lifetime(platform))
            )
    return SignedIn(row.User, token)


async def end(db: Database, token: str) -> None:
    """Sign this browser out."""
    async with db.write() as session:
        await session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


async def end_all(db: Database, user_id: str) -> int:
    """Sign every browser of this account out; returns how many sessions ended."""
    async with db.write() as session:
        result = await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
        return int(getattr(result, "rowcount", 0) or 0)


async def count(db: Database, user_id: str) -> int:
    """Live sessions of this account (the Overview says where else it is signed in)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(WebSession.token_hash).where(
                WebSession.user_id == user_id, WebSession.expires_at > utcnow()
            )
        )
        return len(list(rows))


def csrf_token(secret: str, binding: str) -> str:
    """The CSRF token of the browser bound by ``binding``."""
    return hmac.new(secret.encode(), b"csrf|" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, binding: str, presented: str) -> bool:
    return bool(binding) and bool(presented) and hmac.compare_digest(csrf_token(secret, binding), presented)


def _lifetime(platform: Platform) -> timedelta:
    return timedelta(days=platform.settings.web_session_days)
