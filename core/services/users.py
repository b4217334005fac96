"""Accounts: creation (with a starting balance), Telegram users, preferences, grants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing import ledger
from billing.pricing import minutes_to_seconds
from core.db.database import Database
from core.db.models import User
from core.errors import Conflict, InvalidInput, NotFound


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
                is_admin=is_admin, telegram_id=telegram_id, email=email, name=name, profile=profile or {}
            )
            session.add(user)
            await session.flush()
            seconds = minutes_to_seconds(starting_minutes)
            if seconds:
                await ledger.grant(
                    session,
                    user.id,
                    seconds,
                    source="admin",
                    reason="starting balance",
                    idempotency_key=f"start:{user.id}",
                )
            return user
    except IntegrityError as exc:
        raise Conflict("A user with this e-mail or Telegram id already exists.") from exc


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.", user_id=user_id)
    return user


async def telegram_user(
    db: Database, telegram_id: int, *, name: str | None, language: str | None, free_minutes: float
) -> tuple[User, bool]:
    """The account of a Telegram user, created on first contact with the free minutes granted once.
    Returns (user, created)."""
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
        created = user is None
        if user is None:
            user = User(telegram_id=telegram_id, name=name, ui_language=_ui_language(language))
            session.add(user)
            await session.flush()
        seconds = minutes_to_seconds(free_minutes)
        if seconds:
            # Keyed by account: however often /start arrives, the free minutes come once.
            await ledger.grant(
                session,
                user.id,
                seconds,
                source="free",
                reason="free minutes",
                idempotency_key=f"free:{user.id}",
                channel="telegram",
            )
        return user, created


async def grant_minutes(
    db: Database,
    user_id: str,
    minutes: float,
    *,
    reason: str | None,
    source: str = "admin",
    idempotency_key: str | None = None,
) -> int:
    """Add minutes to an account; returns the new balance in seconds."""
    seconds = minutes_to_seconds(minutes)
    if seconds <= 0:
        raise InvalidInput("Grant a positive number of minutes.", field="minutes")
    async with db.write() as session:
        await get_user(session, user_id)
        await ledger.grant(
            session, user_id, seconds, source=source, reason=reason, idempotency_key=idempotency_key
        )
        return await ledger.balance(session, user_id)


async def update_preferences(db: Database, user_id: str, **changes: Any) -> User:
    """Change preferences (ui_language, asr_language, voice, reply_mode)."""
    allowed = {"ui_language", "asr_language", "voice", "reply_mode"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"Unknown preference: {', '.join(sorted(unknown))}.")
    async with db.write() as session:
        user = await get_user(session, user_id)
        for key, value in changes.items():
            setattr(user, key, value)
        return user


def _ui_language(telegram_language: str | None) -> str:
    return "ru" if (telegram_language or "").lower().startswith(("ru", "uk", "be", "kk")) else "en"
