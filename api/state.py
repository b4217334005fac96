"""Typed application state keys (aiohttp ``AppKey``s; never string keys)."""

from __future__ import annotations

from aiohttp import web

from core.db.models import User
from core.platform import Platform

PLATFORM = web.AppKey("platform", Platform)
USER_KEY = web.RequestKey("user", User)  # set by the auth middleware


def current_user(request: web.Request) -> User:
    """The authenticated user of a ``/v1`` request."""
    user: User = request[USER_KEY]
    return user
