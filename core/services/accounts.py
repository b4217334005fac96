"""Accounts as the channels see them: the Telegram account (made on first contact), an account by
id, its balance and its usage. The edges get ``User`` rows from here (read them, never write them:
changes go through ``users.update_preferences`` and the ledger)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billing import ledger
from billing.usage import UsageReport, usage_report
from core.db.base import utcnow
from core.db.database import Database
from core.db.models import User
from core.services import balance_cache, users

ALL_TIME = datetime(2000, 1, 1, tzinfo=UTC)

__all__ = [
    "ALL_TIME",
    "UsageReport",
    "User",
    "balance_seconds",
    "current_balance",
    "find_account",
    "telegram_account",
    "usage",
]


telegram_account = users.telegram_user
"""The Telegram user's account, made on first contact (with the free minutes, once); (user, created)."""


async def find_account(db: Database, user_id: str) -> User | None:
    """The account with this id, or None (deleted, or never existed)."""
    async with db.lookup() as session:
        return await session.get(User, user_id)


async def balance_seconds(db: Database, user_id: str) -> int:
    """Seconds the account can spend now (minutes held by running jobs already subtracted): one
    primary-key read of ``account_balances``, the ledger's running sum, outside any transaction."""
    async with db.lookup() as session:
        return await ledger.balance(session, user_id)


current_balance = balance_cache.balance_seconds
"""``balance_seconds`` answered from the process's balance cache when it can (``GET /v1/me``):
(platform, user id) → seconds; exact, see ``core.services.balance_cache``."""


async def usage(
    db: Database,
    user_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    recent: int = 0,
) -> UsageReport:
    """What the account spent in ``[since, until)`` (default: all of it, up to now), the balance
    and held seconds now, and its ``recent`` latest ledger entries."""
    async with db.read() as session:
        return await usage_report(
            session,
            user_id,
            since=since or ALL_TIME,
            until=until or utcnow() + timedelta(seconds=1),
            recent=recent,
        )
