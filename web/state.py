"""Typed application state of the dashboard (aiohttp ``AppKey``s)."""

from __future__ import annotations

from aiohttp import web

from core.platform import Platform
from core.services.catalog import Catalog
from core.services.voice_previews import VoicePreviews

WEB_PLATFORM = web.AppKey("web_platform", Platform)
# The engines' catalog (absent when the app was built without engines: speech pages answer 503).
WEB_CATALOG = web.AppKey("web_catalog", Catalog)
WEB_VOICE_PREVIEWS = web.AppKey("web_voice_previews", VoicePreviews)  # made once per app, kept
STATIC_ROUTE = "web_static"  # the named static resource: versioned URLs come from it
