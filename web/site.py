"""``mount(app, platform)``: the dashboard's pages, assets and security headers on the app.

Called by the app factory (``api/app.py``), so one aiohttp app on one port serves the API at
``/v1``, its docs at ``/docs`` and the dashboard at ``/``.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from core.platform import Platform
from core.services.catalog import Catalog
from core.services.voice_previews import VoicePreviews
from web.pages import admin, auth, buy, history, keys, language, overview, speak, telegram_signin, transcribe
from web.state import STATIC_ROUTE, WEB_CATALOG, WEB_PLATFORM, WEB_VOICE_PREVIEWS
from web.viewer import VIEWER

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_PREFIX = "/static/"
PAGE_MODULES = (auth, overview, keys, buy, language, telegram_signin, speak, admin, history, transcribe)

# No inline scripts or styles anywhere: a script injected into a page would not run.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",  # Speak plays its stream through MediaSource (a blob: URL)
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def mount(app: web.Application, platform: Platform, catalog: Catalog | None = None) -> None:
    app[WEB_PLATFORM] = platform
    if catalog is not None:
        app[WEB_CATALOG] = catalog
    app[WEB_VOICE_PREVIEWS] = VoicePreviews()
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=jinja2.select_autoescape(("html", "svg")),
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the test, not the page silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for module in PAGE_MODULES:
        app.add_routes(module.routes)
    app.router.add_static(STATIC_PREFIX, PACKAGE_DIR / "static", name=STATIC_ROUTE, append_version=True)
    app.on_response_prepare.append(_security_headers)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every page and asset of the dashboard (the API's JSON and its docs page keep theirs)."""
    if VIEWER in request or request.path.startswith(STATIC_PREFIX):
        response.headers.update(SECURITY_HEADERS)
        if request.app[WEB_PLATFORM].settings.effective_public_url.lower().startswith("https://"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
