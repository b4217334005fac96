"""What an administrator does on the web dashboard's Admin page: look an account up, grant it
minutes with a reason, make accounts that sign in with a password, and see the failed jobs.

The work is done by the services the CLI uses (``users.grant_minutes``, ``web_accounts``,
``user_directory``, ``job_listing``); this module adds what a form needs on top: the amount read
and bounded, the administrator checked again and named in the ledger, and a form's one-time
token as the grant's idempotency key, so a double click or a re-sent form grants once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from billing import ledger
from billing.pricing import minutes_to_seconds
from billing.tables import AccountBalance, LedgerEntry
from core.db.models import User
from core.errors import Forbidden, InvalidInput, NotFound
from core.services import job_listing, users, web_accounts
from core.services.job_listing import JobListing
from core.services.user_directory import UserListing

if TYPE_CHECKING:
    from core.db.database import Database
    from core.platform import Platform

MAX_GRANT_MINUTES = 100_000  # a typo of a few zeros is refused rather than granted
MAX_REASON_CHARS = 160  # the ledger keeps 255: room for who granted it
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Grant:
    """A grant's outcome: the account's balance after it, and whether this request added the
    minutes (False: the same form was sent again and its grant had already been made)."""

    balance_seconds: int
    seconds: int
    added: bool


@dataclass(frozen=True)
class GrantRecord:
    """A grant in an account's ledger, as the Admin page lists them."""

    created_at: datetime
    seconds: int
    source: str | None
    reason: str | None


@dataclass(frozen=True)
class FailedJob:
    """A failed job and the e-mail (or name, or Telegram id) of its account, for the listing."""

    job: JobListing
    account: str


def read_minutes(text: str, *, allow_zero: bool = False) -> float:
    """The number of minutes typed in a form ("5", "2.5", "2,5"), or InvalidInput naming the
    bounds: more than zero (or zero, for a new account's start) and at most MAX_GRANT_MINUTES."""
    lowest = 0 if allow_zero else 1  # whole seconds are what the ledger holds
    try:
        minutes = float(text.strip().replace(",", ".")) if text.strip() else (0.0 if allow_zero else math.nan)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes_to_seconds(minutes) < lowest or minutes > MAX_GRANT_MINUTES:
        raise InvalidInput(
            f"Enter a number of minutes from {'0' if allow_zero else '1 second'} to {MAX_GRANT_MINUTES}.",
            field="starting_minutes" if allow_zero else "minutes",
            max_minutes=MAX_GRANT_MINUTES,
        )
    return minutes


def read_reason(text: str) -> str:
    reason = " ".join(text.split())  # one line in the ledger, whatever was pasted
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(
            f"Say why, in 1 to {MAX_REASON_CHARS} characters.", field="reason", max_chars=MAX_REASON_CHARS
        )
    return reason


async def account(db: Database, user_id: str) -> UserListing:
    """One account by its id and what it can spend now; NotFound otherwise."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(User, AccountBalance.seconds)
                .outerjoin(AccountBalance, AccountBalance.account_id == User.id)
                .where(User.id == user_id[:36])
            )
        ).first()
    if row is None:
        raise NotFound("User not found.", user_id=user_id)
    return UserListing(row[0], row[1] or 0)


async def grant(
    platform: Platform, admin: User, user_id: str, *, minutes: str, reason: str, form_token: str
) -> Grant:
    """Grant ``minutes`` to ``user_id`` through ``users.grant_minutes`` (as ``minutes grant``
    does), recorded with the reason and the administrator's id. ``form_token`` is the
    confirmation form's one-time value: sending that form again adds nothing."""
    await _require_admin(platform.db, admin)
    amount, why = read_minutes(minutes), read_reason(reason)
    if not FORM_TOKEN.fullmatch(form_token):
        raise InvalidInput("The form is incomplete; start the grant again.", field="form_token")
    key = f"web-grant:{form_token}"
    async with platform.db.read() as session:
        repeated = await ledger.grant_by_key(session, key) is not None
    balance = await users.grant_minutes(
        platform.db,
        user_id,
        amount,
        reason=f"{why} (by admin {admin.id}, web)",
        source="admin",
        idempotency_key=key,
    )
    return Grant(balance_seconds=balance, seconds=minutes_to_seconds(amount), added=not repeated)


async def create_account(platform: Platform, admin: User, *, email: str, password: str, minutes: str) -> User:
    """A new account signing in with ``email`` and ``password`` (``web_accounts``, as ``users
    create`` does); its starting minutes are a grant naming the administrator."""
    await _require_admin(platform.db, admin)
    amount = read_minutes(minutes, allow_zero=True)
    user = await web_accounts.create_account(platform.db, email=email, password=password)
    if minutes_to_seconds(amount):
        await users.grant_minutes(
            platform.db,
            user.id,
            amount,
            reason=f"starting balance (by admin {admin.id}, web)",
            source="admin",
            idempotency_key=f"start:{user.id}",  # the key every new account's first minutes use
        )
    return user


async def recent_grants(db: Database, user_id: str, *, limit: int = 10) -> list[GrantRecord]:
    """The account's latest grants (purchases, free and starting minutes, admins'), newest first."""
    async with db.read() as session:
        rows = await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.account_id == user_id, LedgerEntry.kind == "grant")
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
            .limit(limit)
        )
        return [GrantRecord(e.created_at, e.amount_seconds, e.source, e.reason) for e in rows]


async def failed_jobs(db: Database, *, limit: int = 20) -> list[FailedJob]:
    """The latest failed jobs of every account, newest first, with who they belong to."""
    jobs = await job_listing.list_jobs(db, status="failed", limit=limit)
    ids = {job.user_id for job in jobs}
    async with db.read() as session:
        owners = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [FailedJob(job, _label(owners.get(job.user_id), job.user_id)) for job in jobs]


def _label(user: User | None, fallback: str) -> str:
    if user is None:
        return fallback
    if user.email or user.name:
        return str(user.email or user.name)
    return f"telegram {user.telegram_id}" if user.telegram_id else user.id


async def _require_admin(db: Database, admin: User) -> None:
    """Checked against the database, not the caller's copy: a demoted admin is refused at once."""
    async with db.read() as session:
        fresh = await session.get(User, admin.id)
    if fresh is None or not fresh.is_admin:
        raise Forbidden("Only administrators can do this.")
