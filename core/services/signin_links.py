"""One-time sign-in links: the Telegram bot's ``/login`` lets a bot user into the web dashboard.

A Telegram-only account has no e-mail or password; the bot already knows who is writing, so it
hands out a link that opens a normal web session for that account. The link carries 256 random
bits; only their SHA-256 is stored, so the database alone signs nobody in. A link works for
``LINK_TTL`` and only once: redeeming is one conditional UPDATE (``used_at IS NULL AND expires_at
> now``), so two clicks racing each other cannot both sign in. Issuing is limited per account
(``ISSUE_LIMIT`` an hour), counted from the table itself so every bot process counts the same.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sqlalchemy import delete, select, update

from core.db.base import utcnow
from core.db.models import User
from core.db.signin_link_tables import SigninLink
from core.errors import RateLimited

if TYPE_CHECKING:
    from core.platform import Platform
    from core.settings import Settings

LINK_TTL = timedelta(minutes=10)
ISSUE_LIMIT = 5  # links per account ...
ISSUE_WINDOW = timedelta(hours=1)  # ... in this window
ROUTE = "/signin/telegram"  # the dashboard's page that redeems a link
MAX_TOKEN_CHARS = 100


class TooManyLinks(RateLimited):
    """``ISSUE_LIMIT`` links were issued in the last hour; ``retry_after`` says when the next may."""

    code = "signin_links_limited"
    default_message = "Too many sign-in links in the last hour; try again later."


class LinkState(StrEnum):
    """What a presented token is."""

    VALID = "valid"
    UNKNOWN = "unknown"  # never issued (or mistyped, or the account is gone)
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class IssuedLink:
    token: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Redemption:
    """The outcome of redeeming a token: the account it signs in when ``state`` is VALID."""

    state: LinkState
    user: User | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _plausible(token: str) -> bool:
    return bool(token) and len(token) <= MAX_TOKEN_CHARS and token.isascii()


def link_url(settings: Settings, token: str) -> str:
    """The address a person opens: the dashboard's redeem page on ``PUBLIC_URL``."""
    return f"{settings.effective_public_url}{ROUTE}?{urlencode({'token': token})}"


async def issue(platform: Platform, user_id: str, *, ttl: timedelta = LINK_TTL) -> IssuedLink:
    """A new link for ``user_id``; ``TooManyLinks`` over ``ISSUE_LIMIT`` an hour."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    async with platform.db.write() as session:
        # Links long past their expiry serve neither sign-in nor the hourly count: they go here.
        await session.execute(delete(SigninLink).where(SigninLink.expires_at < now - ISSUE_WINDOW))
        recent = list(
            await session.scalars(
                select(SigninLink.created_at).where(
                    SigninLink.user_id == user_id, SigninLink.created_at > now - ISSUE_WINDOW
                )
            )
        )
        if len(recent) >= ISSUE_LIMIT:
            retry_after = math.ceil((min(recent) + ISSUE_WINDOW - now).total_seconds())
            raise TooManyLinks(retry_after=max(1, retry_after), limit=ISSUE_LIMIT)
        session.add(
            SigninLink(token_hash=_digest(token), user_id=user_id, created_at=now, expires_at=now + ttl)
        )
    return IssuedLink(token, link_url(platform.settings, token), now + ttl)


async def inspect(platform: Platform, token: str) -> LinkState:
    """What ``token`` is, without using it (the confirmation page asks before signing in)."""
    if not _plausible(token):
        return LinkState.UNKNOWN
    async with platform.db.read() as session:
        link = await session.get(SigninLink, _digest(token))
    return _state_of(link)


async def redeem(platform: Platform, token: str) -> Redemption:
    """Use ``token`` once: the account it signs in, or why it does not."""
    if not _plausible(token):
        return Redemption(LinkState.UNKNOWN)
    digest = _digest(token)
    now = utcnow()
    async with platform.db.write() as session:
        claimed = await session.execute(
            update(SigninLink)
            .where(SigninLink.token_hash == digest, SigninLink.used_at.is_(None), SigninLink.expires_at > now)
            .values(used_at=now)
        )
        if int(getattr(claimed, "rowcount", 0) or 0) != 1:
            link = await session.get(SigninLink, digest)
            return Redemption(_state_of(link, now))
        user = await session.scalar(
            select(User)
            .join(SigninLink, SigninLink.user_id == User.id)
            .where(SigninLink.token_hash == digest)
        )
    return Redemption(LinkState.VALID, user) if user is not None else Redemption(LinkState.UNKNOWN)


def _state_of(link: SigninLink | None, now: datetime | None = None) -> LinkState:
    if link is None:
        return LinkState.UNKNOWN
    if link.used_at is not None:
        return LinkState.USED
    if link.expires_at <= (now or utcnow()):
        return LinkState.EXPIRED
    return LinkState.VALID
