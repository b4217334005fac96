"""Signing in with an e-mail and a password: accounts with passwords, sign-in with throttling and
lockout, optional self sign-up, and the short-lived JWT of ``POST /v1/auth/token``.

Passwords are argon2id hashes (``argon2-cffi``'s defaults, rehashed when they change). A wrong
e-mail and a wrong password get the same answer in about the same time, so sign-in does not tell
which accounts exist. Failed attempts are counted per account and per client address
(``SIGNIN_MAX_FAILURES`` / ``SIGNIN_IP_MAX_FAILURES`` within ``SIGNIN_LOCKOUT_SECONDS``); past
them the account or the address is locked for ``SIGNIN_LOCKOUT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import functools
import math
import secrets
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.db.database import Database
from core.db.models import User
from core.db.web_tables import SigninThrottle, WebCredential
from core.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from core.services import users, web_sessions

if TYPE_CHECKING:
    from core.platform import Platform
    from core.settings import Settings

PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 1024  # argon2 takes any length; a cap keeps a megabyte "password" from costing CPU
MAX_EMAIL_CHARS = 320

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so that both failures cost the same time."""
    return _hasher.hash(secrets.token_hex(16))


class SignInFailed(AuthenticationFailed):
    """Wrong e-mail or password (never which of the two)."""

    code = "invalid_credentials"
    default_message = "Wrong e-mail or password."


class SignInLocked(RateLimited):
    """Too many failed sign-ins for this account or from this address; ``retry_after`` seconds."""

    code = "signin_locked"
    default_message = "Too many failed sign-ins; try again later."


class SignUpClosed(Forbidden):
    code = "signup_closed"
    default_message = "Sign-up is closed; ask the operator for an account."


def _text(value: str, field: str) -> str:
    """``value`` if it is text that can be stored and hashed: no NUL, no lone surrogate (JSON's
    ``"\ud800"`` decodes to one, and UTF-8 cannot encode it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"The {field} is not valid text.", field=field) from None
    if "\x00" in value:
        raise InvalidInput(f"The {field} is not valid text.", field=field)
    return value


def check_email(email: str) -> str:
    """The e-mail lower-cased, or InvalidInput. Only the shape is checked (something@domain.tld):
    nothing here sends mail to it."""
    email = _text(email, "email")
    normalized = users.normalize_email(email) or ""
    local, at, domain = normalized.partition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or "@" in domain
        or len(normalized) > MAX_EMAIL_CHARS
        or any(ch.isspace() for ch in normalized)
    ):
        raise InvalidInput("Enter an e-mail address like name@example.com.", field="email")
    return normalized


def check_password(password: str) -> None:
    _text(password, "password")
    if len(password) < PASSWORD_MIN_CHARS:
        raise InvalidInput(
            f"A password has at least {PASSWORD_MIN_CHARS} characters.",
            field="password",
            min_chars=PASSWORD_MIN_CHARS,
        )
    if len(password) > PASSWORD_MAX_CHARS:
        raise InvalidInput(f"A password has at most {PASSWORD_MAX_CHARS} characters.", field="password")


async def hash_password(password: str) -> str:
    check_password(password)
    # argon2 is deliberately slow (tens of ms, 64 MiB): off the event loop.
    return await asyncio.to_thread(_hasher.hash, password)


async def create_account(
    db: Database,
    *,
    email: str,
    password: str,
    starting_minutes: float = 0,
    is_admin: bool = False,
    name: str | None = None,
    telegram_id: int | None = None,
) -> User:
    """A new account that can sign in on the web (``users create --password-stdin``)."""
    address = check_email(email)
    password_hash = await hash_password(password)  # before the account exists: a bad password adds none
    user = await users.create_user(
        db,
        starting_minutes=starting_minutes,
        is_admin=is_admin,
        email=address,
        name=name,
        telegram_id=telegram_id,
    )
    async with db.write() as session:
        session.add(WebCredential(user_id=user.id, password_hash=password_hash))
    return user


async def set_password(db: Database, email: str, password: str) -> User:
    """Set (or replace) the password of the account with this e-mail; every browser signed in to
    it is signed out (whoever knew the old password is shut out)."""
    address = check_email(email)
    password_hash = await hash_password(password)
    async with db.write() as session:
        user = await session.scalar(select(User).where(User.email == address))
        if user is None:
            raise NotFound("No account has this e-mail.", email=address)
        credential = await session.get(WebCredential, user.id)
        if credential is None:
            session.add(WebCredential(user_id=user.id, password_hash=password_hash))
        else:
            credential.password_hash = password_hash
            credential.updated_at = utcnow()
    await web_sessions.end_all(db, user.id)
    return user


async def sign_in(platform: Platform, email: str, password: str, *, address: str) -> User:
    """The account these credentials open; SignInFailed, or SignInLocked while locked out."""
    settings = platform.settings
    normalized = users.normalize_email(_text(email, "email")) or ""
    password = _text(password, "password")
    account_key, address_key = f"email:{normalized[:MAX_EMAIL_CHARS]}", f"ip:{address}"
    await _refuse_if_locked(platform.db, (account_key, address_key))
    user, stored_hash = await _credentials(platform.db, normalized)
    ok = await asyncio.to_thread(_verify, stored_hash or _dummy_hash(), password[:PASSWORD_MAX_CHARS])
    if not ok or user is None or stored_hash is None:
        window = settings.signin_lockout_seconds
        await _count_failure(platform.db, account_key, settings.signin_max_failures, window)
        await _count_failure(platform.db, address_key, settings.signin_ip_max_failures, window)
        raise SignInFailed()
    async with platform.db.write() as session:
        await session.execute(delete(SigninThrottle).where(SigninThrottle.key == account_key))
        if _hasher.check_needs_rehash(stored_hash):
            credential = await session.get(WebCredential, user.id)
            if credential is not None:
                credential.password_hash = await asyncio.to_thread(_hasher.hash, password)
    return user


async def sign_up(platform: Platform, email: str, password: str, *, address: str) -> User:
    """A new account of one's own (``SIGNUP=open``), granted ``FREE_MINUTES`` once. Sign-ups count
    against the address's failure budget, so one address cannot mint accounts without end."""
    settings = platform.settings
    if settings.signup != "open":
        raise SignUpClosed()
    address_key = f"ip:{address}"
    await _refuse_if_locked(platform.db, (address_key,))
    normalized = check_email(email)
    password_hash = await hash_password(password)
    await _count_failure(
        platform.db, address_key, settings.signin_ip_max_failures, settings.signin_lockout_seconds
    )
    try:
        async with platform.db.write() as session:
            user = User(email=normalized)
            session.add(user)
            await session.flush()
            session.add(WebCredential(user_id=user.id, password_hash=password_hash))
            await users._first_minutes(  # the free minutes, once per account, as the bot grants them
                session, user.id, settings.free_minutes, source="free", reason="free minutes", channel="web"
            )
    except IntegrityError as exc:
        raise Conflict("An account with this e-mail already exists; sign in instead.", field="email") from exc
    return user


def issue_token(settings: Settings, user_id: str) -> tuple[str, int]:
    """(an HS256 JWT for ``user_id`` that the API accepts, its lifetime in seconds)."""
    lifetime = min(settings.auth_token_seconds, settings.jwt_max_lifetime_seconds)
    now = int(time.time())
    token = jwt.encode(
        {"sub": user_id, "iat": now, "exp": now + lifetime},
        settings.secret_key.get_secret_value(),
        algorithm="HS256",
    )
    return token, lifetime


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def _credentials(db: Database, email: str) -> tuple[User | None, str | None]:
    if not email:
        return None, None
    async with db.read() as session:
        row = (
            await session.execute(
                select(User, WebCredential.password_hash)
                .outerjoin(WebCredential, WebCredential.user_id == User.id)
                .where(User.email == email)
            )
        ).first()
    return (row[0], row[1]) if row is not None else (None, None)


async def _refuse_if_locked(db: Database, keys: tuple[str, ...]) -> None:
    now = utcnow()
    async with db.read() as session:
        rows = await session.scalars(select(SigninThrottle).where(SigninThrottle.key.in_(keys)))
        until = max((r.locked_until for r in rows if r.locked_until and r.locked_until > now), default=None)
    if until is not None:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        raise SignInLocked(
            f"Too many failed sign-ins; try again in {math.ceil(seconds / 60)} min.", retry_after=seconds
        )


async def _count_failure(db: Database, key: str, limit: int, window_seconds: int) -> None:
    """One more failure for ``key``; the ``limit``-th within the window locks it."""
    for attempt in range(2):  # a concurrent first failure may insert the row first
        try:
            async with db.write() as session:
                _count(await session.get(SigninThrottle, key), session, key, limit, window_seconds)
                await _forget_stale(session, window_seconds)
            return
        except IntegrityError:
            if attempt:
                raise


async def _forget_stale(session: AsyncSession, window_seconds: int) -> None:
    """Counters whose window and lockout are long over count nothing: drop them (a stream of
    made-up e-mails must not grow the table without end)."""
    now = utcnow()
    stale = now - timedelta(seconds=2 * window_seconds)
    await session.execute(
        delete(SigninThrottle).where(
            SigninThrottle.window_started_at < stale,
            (SigninThrottle.locked_until.is_(None)) | (SigninThrottle.locked_until < now),
        )
    )


def _count(
    row: SigninThrottle | None, session: AsyncSession, key: str, limit: int, window_seconds: int
) -> None:
    now = utcnow()
    window = timedelta(seconds=window_seconds)
    if row is None:
        row = SigninThrottle(key=key, failures=0, window_started_at=now)
        session.add(row)
    elif now - row.window_started_at >= window:
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + window
        row.failures, row.window_started_at = 0, now
