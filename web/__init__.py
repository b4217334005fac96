"""The web dashboard for people: server-rendered pages, browser sessions, our own static assets.

Mounted on the API's aiohttp app by ``web.site.mount`` (the app factory calls it). Like ``api/``,
it reaches the platform through ``core`` services only, and never imports ``api/``.
"""
