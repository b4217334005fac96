"""Admin (administrators only; 403 for everyone else): accounts with search and balances, granting
minutes with a reason after a confirmation, creating accounts that sign in with a password, and
the latest failed jobs with their error codes.

Everything goes through ``core.services.admin_console``, which uses the services of the CLI's
``users``/``minutes grant`` commands and checks the administrator again in the database.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.services import admin_console, user_directory
from core.services.users import minutes_to_seconds
from web import errors, i18n
from web.page import error_page, form_of, page, redirect, render
from web.state import WEB_PLATFORM
from web.viewer import Viewer

routes = web.RouteTableDef()

SEARCH_LIMIT = 50
MAX_QUERY_CHARS = 200
FIELD_MESSAGES = {
    "minutes": "admin_error_minutes",
    "starting_minutes": "admin_error_starting_minutes",
    "reason": "admin_error_reason",
    "form_token": "admin_error_form_incomplete",
}


def _refused(request: web.Request, viewer: Viewer) -> web.Response | None:
    """The 403 page unless the viewer is an administrator (a fresh read of the account: the
    session look-up reads it on every request, so a demotion counts at once)."""
    if viewer.user is not None and viewer.user.is_admin:
        return None
    return error_page(request, viewer, i18n.say(viewer.lang, "admin_forbidden"), 403)


def _message(viewer: Viewer, exc: DomainError, *, creating_account: bool = False) -> str:
    key = FIELD_MESSAGES.get(str(exc.details.get("field")))
    if isinstance(exc, InvalidInput) and key:
        return i18n.say(
            viewer.lang, key, max=admin_console.MAX_GRANT_MINUTES, chars=admin_console.MAX_REASON_CHARS
        )
    if isinstance(exc, Conflict):  # the e-mail is taken; a grant form's token was used for another grant
        return i18n.say(viewer.lang, "admin_error_taken" if creating_account else "admin_error_form_used")
    return errors.message_of(viewer.lang, exc)


@routes.get("/admin")
@page(signed_in=True)
async def admin_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    return _refused(request, viewer) or await _admin_page(request, viewer)


@routes.post("/admin/users")
@page(signed_in=True)
async def create_user(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    if refused := _refused(request, viewer):
        return refused
    assert viewer.user is not None
    form = await form_of(request)
    email, minutes = form.get("email", "")[:400], form.get("minutes", "0")[:40]
    try:
        user = await admin_console.create_account(
            request.app[WEB_PLATFORM],
            viewer.user,
            email=email,
            password=form.get("password", ""),
            minutes=minutes,
        )
    except Exception as exc:
        if not isinstance(exc, DomainError):
            raise
        # The form comes back with what was typed, except the password (never echoed into a page).
        return await _admin_page(
            request,
            viewer,
            error=_message(viewer, exc, creating_account=True),
            new_account={"email": email, "minutes": minutes},
            status=errors.status_of(exc),
        )
    return redirect(f"/admin/users/{user.id}?created=1")


@routes.get("/admin/users/{user_id}")
@page(signed_in=True)
async def user_page(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    if refused := _refused(request, viewer):
        return refused
    notice = {"created": "admin_created_done", "granted": "admin_granted_done", "repeated": "admin_repeated"}
    shown = next((key for flag, key in notice.items() if request.query.get(flag) == "1"), None)
    return await _user_page(request, viewer, notice=shown)


@routes.post("/admin/users/{user_id}/grant")
@page(signed_in=True)
async def grant(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """Two steps: the grant form's POST shows the confirmation (nothing granted yet); the
    confirmation's POST, carrying a one-time token, grants."""
    if refused := _refused(request, viewer):
        return refused
    assert viewer.user is not None
    platform = request.app[WEB_PLATFORM]
    user_id = request.match_info["user_id"]
    form = await form_of(request)
    minutes, reason = form.get("minutes", "")[:40], form.get("reason", "")[:1000]
    typed = {"minutes": minutes, "reason": reason}
    if form.get("confirm") != "yes":
        try:
            amount = admin_console.read_minutes(minutes)
            why = admin_console.read_reason(reason)
        except Exception as exc:
            if not isinstance(exc, DomainError):
                raise
            return await _user_page(
                request, viewer, error=_message(viewer, exc), typed=typed, status=errors.status_of(exc)
            )
        listing = await _account(request)
        seconds = minutes_to_seconds(amount)
        context = {
            "account": listing,
            "minutes": minutes.strip(),
            "reason": why,
            "seconds": seconds,
            "after_seconds": listing.balance_seconds + seconds,
            "form_token": secrets.token_urlsafe(24),
        }
        return render(request, viewer, "admin_confirm.html", context)
    try:
        done = await admin_console.grant(
            platform,
            viewer.user,
            user_id,
            minutes=minutes,
            reason=reason,
            form_token=form.get("form_token", ""),
        )
    except Exception as exc:
        if not isinstance(exc, DomainError):
            raise
        return await _user_page(
            request, viewer, error=_message(viewer, exc), typed=typed, status=errors.status_of(exc)
        )
    return redirect(f"/admin/users/{user_id}?{'granted' if done.added else 'repeated'}=1")


async def _admin_page(
    request: web.Request,
    viewer: Viewer,
    *,
    error: str | None = None,
    new_account: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    db = request.app[WEB_PLATFORM].db
    query = request.query.get("q", "")[:MAX_QUERY_CHARS].strip()
    context: dict[str, Any] = {
        "query": query,
        "accounts": await user_directory.search_users(db, query, limit=SEARCH_LIMIT),
        "search_limit": SEARCH_LIMIT,
        "max_minutes": admin_console.MAX_GRANT_MINUTES,
        "failed": await admin_console.failed_jobs(db),
        "new_account": new_account or {"email": "", "minutes": "0"},
        "error": error,
    }
    return render(request, viewer, "admin.html", context, status=status)


async def _user_page(
    request: web.Request,
    viewer: Viewer,
    *,
    notice: str | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    db = request.app[WEB_PLATFORM].db
    listing = await _account(request)
    context: dict[str, Any] = {
        "account": listing,
        "telegram_username": user_directory.telegram_username(listing.user),
        "grants": await admin_console.recent_grants(db, listing.user.id),
        "typed": typed or {"minutes": "", "reason": ""},
        "max_minutes": admin_console.MAX_GRANT_MINUTES,
        "notice": notice,
        "error": error,
    }
    return render(request, viewer, "admin_user.html", context, status=status)


async def _account(request: web.Request) -> user_directory.UserListing:
    try:
        return await admin_console.account(request.app[WEB_PLATFORM].db, request.match_info["user_id"])
    except NotFound:
        raise web.HTTPNotFound() from None  # "There is no such page.", in the page's language
