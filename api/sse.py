"""Server-Sent Events: ``event:`` and one JSON ``data:`` line per event."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class EventStream:
    """An open ``text/event-stream`` response."""

    def __init__(self, request: web.Request, *, named: bool = True) -> None:
        self._request = request
        self._named = named
        self.response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
            }
        )

    async def open(self) -> None:
        await self.response.prepare(self._request)

    async def send(self, event: str | None, data: Any) -> None:
        """One event; ``event`` None sends a data-only event (OpenAI's streaming style)."""
        lines = f"event: {event}\n" if event and self._named else ""
        lines += f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"
        await self.response.write(lines.encode())

    async def comment(self, text: str) -> None:
        """A comment line: keeps proxies from closing an idle stream."""
        await self.response.write(f": {text}\n\n".encode())

    async def close(self) -> web.StreamResponse:
        await self.response.write_eof()
        return self.response
