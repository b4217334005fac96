"""The web dashboard's rows: passwords, signed-in browsers, and failed sign-ins.

Kept out of ``users`` on purpose: ``User`` rows travel to every edge and into the authentication
cache, and a password hash has no business there. Migration 0009 creates them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UtcDateTime, utcnow


class WebCredential(Base):
    """An account's password (an argon2id hash; the password itself is never stored)."""

    __tablename__ = "web_credentials"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept here, so a
    database leak signs nobody in."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    user_agent: Mapped[str | None] = mapped_column(String(200))


class SigninThrottle(Base):
    """Failed sign-ins counted per account (``email:…``) and per address (``ip:…``) in a window;
    enough of them lock the key until ``locked_until``. In the database so that every API process
    of a deployment counts the same failures."""

    __tablename__ = "web_signin_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
