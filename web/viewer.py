"""Who is looking at a page: the signed-in account (if any), the language, and the CSRF token.

Three cookies, all HttpOnly and SameSite=Lax (Secure when ``PUBLIC_URL`` is https):

* ``nagovori_session`` — the session token (``core.services.web_sessions``);
* ``nagovori_pre`` — a random value that binds the CSRF token of a browser not signed in yet
  (the sign-in and sign-up forms are protected too: no one can sign a visitor into their account);
* ``nagovori_lang`` — the chosen language, remembered.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from core.services import web_sessions
from core.services.accounts import User
from core.settings import Settings
from web import i18n
from web.state import WEB_PLATFORM

SESSION_COOKIE = "nagovori_session"
PRESESSION_COOKIE = "nagovori_pre"
LANG_COOKIE = "nagovori_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
LANG_COOKIE_SECONDS = 365 * 86400


@dataclass
class Viewer:
    """The browser behind one request."""

    user: User | None
    session_token: str | None
    lang: str
    binding: str  # what the CSRF token is bound to: the session token, else the pre-session value
    csrf: str
    new_presession: bool  # the pre-session value was made for this request: set its cookie

    @property
    def signed_in(self) -> bool:
        return self.user is not None


VIEWER = web.RequestKey("web_viewer", Viewer)


def secret(settings: Settings) -> str:
    return "web|" + settings.secret_key.get_secret_value()


def secure_cookies(settings: Settings) -> bool:
    return settings.effective_public_url.lower().startswith("https://")


def set_cookie(
    response: web.StreamResponse, settings: Settings, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(settings),
    )


def forget_cookie(response: web.StreamResponse, settings: Settings, name: str) -> None:
    response.del_cookie(name, path="/", secure=secure_cookies(settings), httponly=True, samesite="Lax")


async def identify(request: web.Request) -> Viewer:
    """The viewer of ``request``: one session look-up when a session cookie is present."""
    platform = request.app[WEB_PLATFORM]
    token = request.cookies.get(SESSION_COOKIE, "")
    signed_in = await web_sessions.resolve(platform, token) if token else None
    user = signed_in.user if signed_in else None
    presession = request.cookies.get(PRESESSION_COOKIE, "")
    new_presession = False
    if signed_in is not None:
        binding = signed_in.token
    else:
        if not (16 <= len(presession) <= 100 and presession.isascii()):
            presession, new_presession = web_sessions.new_token(), True
        binding = presession
    return Viewer(
        user=user,
        session_token=signed_in.token if signed_in else None,
        lang=choose_language(request, user),
        binding=binding,
        csrf=web_sessions.csrf_token(secret(platform.settings), binding),
        new_presession=new_presession,
    )


def choose_language(request: web.Request, user: User | None) -> str:
    """The remembered choice (cookie), else the account's language, else Accept-Language."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in i18n.LANGUAGES:
        return chosen
    if user is not None and user.ui_language in i18n.LANGUAGES:
        return str(user.ui_language)
    return i18n.from_accept_language(request.headers.get("Accept-Language"))


def csrf_ok(request: web.Request, viewer: Viewer, form: dict[str, str]) -> bool:
    presented = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    settings = request.app[WEB_PLATFORM].settings
    return web_sessions.csrf_valid(secret(settings), viewer.binding, presented)


def client_address(request: web.Request) -> str:
    """The address sign-in failures are counted against (the peer: a proxy in front must be the
    one to limit by the real client's address)."""
    return (request.remote or "unknown")[:64]
