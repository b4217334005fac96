"""Accounts as an operator looks them up (``nagovori users list|show``, ``--user`` options): by id,
e-mail, ``@telegram_username`` or numeric Telegram id, and a search over all of them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select

from billing.tables import AccountBalance
from core.db.database import Database
from core.db.models import User
from core.errors import InvalidInput, NotFound
from core.services.users import TELEGRAM_USERNAME, normalize_email

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class UserListing:
    """An account and what it can spend now (seconds; held minutes already subtracted)."""

    user: User
    balance_seconds: int


def telegram_username(user: User) -> str | None:
    """The Telegram username the bot last saw for this account (without the ``@``)."""
    value = (user.profile or {}).get(TELEGRAM_USERNAME)
    return value if isinstance(value, str) and value else None


async def find_user(db: Database, reference: str) -> User:
    """The account ``reference`` names: ``@name`` is a Telegram username (any case), an address
    with ``@`` an e-mail, digits a Telegram id, anything else an account id. NotFound otherwise."""
    reference = reference.strip()
    if not reference:
        raise InvalidInput("Name a user: an id, an e-mail, @telegram_username or a Telegram id.")
    async with db.lookup() as session:
        user = await session.scalar(select(User).where(_matches(reference)).limit(1))
    if user is None:
        raise NotFound(f"User not found: {reference}", user=reference)
    return user


async def search_users(db: Database, text: str | None = None, *, limit: int = 50) -> list[UserListing]:
    """Accounts, newest first, whose id, name, e-mail or Telegram username contains ``text`` (any
    case) or whose Telegram id is ``text``; every account when ``text`` is empty."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"The limit is 1 to {MAX_LIMIT}.", field="limit")
    query = (
        select(User, AccountBalance.seconds)
        .outerjoin(AccountBalance, AccountBalance.account_id == User.id)
        .order_by(User.created_at.desc(), User.id)
        .limit(limit)
    )
    if text and text.strip():
        query = query.where(_contains(text.strip()))
    async with db.read() as session:
        rows = (await session.execute(query)).all()
        return [UserListing(user, seconds or 0) for user, seconds in rows]


def _matches(reference: str) -> ColumnElement[bool]:
    if reference.startswith("@"):
        return func.lower(_username_column()) == reference[1:].lower()
    if "@" in reference:
        return User.email == normalize_email(reference)
    if _is_telegram_id(reference):
        return User.telegram_id == int(reference)
    return User.id == reference


def _contains(text: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(text.lower().removeprefix('@'))}%"
    options: list[ColumnElement[bool]] = [
        User.id.like(pattern, escape="\\"),
        func.lower(User.name).like(pattern, escape="\\"),
        User.email.like(pattern, escape="\\"),  # stored in lower case
        func.lower(_username_column()).like(pattern, escape="\\"),
    ]
    if _is_telegram_id(text):
        options.append(User.telegram_id == int(text))
    return or_(*options)


def _is_telegram_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) < 2**63  # a BIGINT column


def _username_column() -> ColumnElement[str]:
    return User.profile[TELEGRAM_USERNAME].as_string()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
