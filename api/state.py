"""Typed application state keys (aiohttp ``AppKey``s; never string keys)."""

from __future__ import annotations

from aiohttp import web

from core.errors import Forbidden, ServiceUnavailable
from core.platform import Platform
from core.ratelimit import RateDecision, RateLimiter
from core.services.accounts import User
from core.services.catalog import Catalog

PLATFORM = web.AppKey("platform", Platform)
CATALOG = web.AppKey("catalog", Catalog)  # absent when the app was built without engines
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
USER_KEY = web.RequestKey("user", User)  # set by the auth middleware
RATE_KEY = web.RequestKey("rate", RateDecision)  # set by the rate-limit middleware


def current_user(request: web.Request) -> User:
    """The authenticated user of a ``/v1`` request."""
    user: User = request[USER_KEY]
    return user


def caller(request: web.Request) -> tuple[Platform, str]:
    """The platform and the authenticated user's id: what a ``/v1`` handler starts from."""
    return request.app[PLATFORM], current_user(request).id


def admin_user(request: web.Request) -> User:
    """The authenticated user, who must be an administrator (403 otherwise)."""
    user = current_user(request)
    if not user.is_admin:
        raise Forbidden("This needs an administrator's key.")
    return user


def catalog(request: web.Request) -> Catalog:
    """The engines' catalog; 503 when this API process was started without engines."""
    found = request.app.get(CATALOG)
    if found is None:
        raise ServiceUnavailable("No speech engines are configured in this API process.")
    return found
