"""Typed application state of the dashboard (aiohttp ``AppKey``s)."""

from __future__ import annotations

from aiohttp import web

from core.platform import Platform

WEB_PLATFORM = web.AppKey("web_platform", Platform)
STATIC_ROUTE = "web_static"  # the named static resource: versioned URLs come from it
