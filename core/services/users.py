"""Accounts: creation (with a starting balance), Telegram users, preferences, grants.

``minutes_to_seconds`` is the ledger's own conversion, exported for the edges that show what a
grant of minutes adds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing import ledger
from billing.pricing import minutes_to_seconds
from core.db.database import Database
from core.db.models import User
from core.errors import Conflict, InvalidInput, NotFound
from core.services import auth_cache

if TYPE_CHECKING:
    from core.platform import Platform

TELEGRAM_USERNAME = "telegram_username"
"""The profile key keeping the Telegram username the bot last saw (operators look accounts up by it)."""


async def create_user(
    db: Database,
    *,
    starting_minutes: float = 0,
    is_admin: bool = False,
    telegram_id: int | None = None,
    email: str | None = None,
    name: str | None = None,
    profile: dict[str, Any] | None = None,
) -> User:
    """A new account whose balance is exactly ``starting_minutes``."""
    if starting_minutes < 0:
        raise InvalidInput("Starting minutes cannot be negative.", field="starting_minutes")
    try:
        async with db.write() as session:
            user = User(
                is_admin=is_admin,
                telegram_id=telegram_id,
                email=normalize_email(email),
                name=name,
                profile=profile or {},
            )
            session.add(user)
            await session.flush()
            await _first_minutes(
                session, user.id, starting_minutes, source="admin", reason="starting balance"
            )
            return user
    except IntegrityError as exc:
        raise Conflict("A user with this e-mail or Telegram id already exists.") from exc


def normalize_email(email: str | None) -> str | None:
    """E-mail addresses are stored in lower case, so that uniqueness ignores case (a look-up by
    e-mail must normalize the same way)."""
    return email.strip().lower() if email else None


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.", user_id=user_id)
    return user


async def telegram_user(
    db: Database,
    telegram_id: int,
    *,
    name: str | None,
    language: str | None,
    free_minutes: float,
    username: str | None = None,
) -> tuple[User, bool]:
    """The account of a Telegram user, created on first contact with the free minutes granted once.
    Returns (user, created). A known user costs one read, not a write transaction per message (one
    write when their ``username`` changed, so that operators find them by it)."""
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is not None and (username is None or (user.profile or {}).get(TELEGRAM_USERNAME) == username):
        return user, False
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        created = user is None
        if user is None:
            user = User(telegram_id=telegram_id, name=name, ui_language=_ui_language(language))
            session.add(user)
        if username is not None:
            user.profile = {**(user.profile or {}), TELEGRAM_USERNAME: username}  # a new dict: tracked
        await session.flush()
        # Keyed by account: however often /start arrives, the free minutes come once.
        await _first_minutes(
            session, user.id, free_minutes, source="free", reason="free minutes", channel="telegram"
        )
        return user, created


async def _first_minutes(
    session: AsyncSession,
    user_id: str,
    minutes: float,
    *,
    source: str,
    reason: str,
    channel: str | None = None,
) -> None:
    """A new account's first minutes ("start:" for admins' accounts, "free:" for Telegram's),
    granted at most once per account whatever calls it again."""
    seconds = minutes_to_seconds(minutes)
    if seconds:
        prefix = "free" if source == "free" else "start"
        await ledger.grant(
            session,
            user_id,
            seconds,
            source=source,
            reason=reason,
            idempotency_key=f"{prefix}:{user_id}",
            channel=channel,
        )


async def grant_minutes(
    db: Database,
    user_id: str,
    minutes: float,
    *,
    reason: str | None,
    source: str = "admin",
    idempotency_key: str | None = None,
) -> int:
    """Add minutes to an account; returns the new balance in seconds. Repeating a grant with its
    ``idempotency_key`` adds nothing; reusing the key for another account or amount is a Conflict
    naming the original grant (answering as if the new amount had been granted would be a lie)."""
    seconds = minutes_to_seconds(minutes)
    if seconds <= 0:
        raise InvalidInput("Grant a positive number of minutes.", field="minutes")
    try:
        return await _grant_once(db, user_id, seconds, reason, source, idempotency_key)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # The same key committed by a concurrent request (PostgreSQL): now it is a replay or a clash.
        return await _grant_once(db, user_id, seconds, reason, source, idempotency_key)


async def _grant_once(
    db: Database, user_id: str, seconds: int, reason: str | None, source: str, idempotency_key: str | None
) -> int:
    async with db.write() as session:
        await get_user(session, user_id)
        earlier = await ledger.grant_by_key(session, idempotency_key) if idempotency_key else None
        if earlier is not None and (earlier.account_id, earlier.amount_seconds) != (user_id, seconds):
            raise Conflict(
                "This idempotency key was already used for a different grant; nothing was added.",
                granted_seconds=earlier.amount_seconds,
                granted_at=earlier.created_at.isoformat(),
            )
        await ledger.grant(
            session, user_id, seconds, source=source, reason=reason, idempotency_key=idempotency_key
        )
        return await ledger.balance(session, user_id)


async def update_preferences(platform: Platform, user_id: str, **changes: Any) -> User:
    """Change preferences (ui_language, asr_language, voice, reply_mode)."""
    allowed = {"ui_language", "asr_language", "voice", "reply_mode"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Unknown preference: {', '.join(sorted(unknown))}.")
    async with platform.db.write() as session:
        user = await get_user(session, user_id)
        for key, value in changes.items():
            setattr(user, key, value)
    await auth_cache.announce_user_changed(platform, user_id)
    return user


async def set_admin(platform: Platform, user_id: str, is_admin: bool) -> User:
    """Promote or demote an account; its keys and tokens carry the new rights at once in every
    API process (the change is announced to their authentication caches)."""
    async with platform.db.write() as session:
        user = await get_user(session, user_id)
        user.is_admin = is_admin
    await auth_cache.announce_user_changed(platform, user_id)
    return user


def _ui_language(telegram_language: str | None) -> str:
    return "ru" if (telegram_language or "").lower().startswith(("ru", "uk", "be", "kk")) else "en"
