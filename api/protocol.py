"""The HTTP connection itself: deadlines for slow clients, a cap on idle ones, JSON protocol errors.

aiohttp's ``RequestHandler`` (one per TCP connection) waits for a client as long as it likes: a
request head sent a byte at a time, or a ``Content-Length`` never delivered, holds a connection
and a handler for an hour. ``GuardedRequestHandler`` adds, per connection:

* **the head deadline** (``HEADER_TIMEOUT_SECONDS``): a connection must present a complete request
  head this long after it opens, or after the previous response on a keep-alive connection; bytes
  that trickle in do not extend it. It is aiohttp's own keep-alive timer, armed at both moments,
  which closes the connection if no complete head is waiting by then (so it also closes idle
  keep-alive connections, as Apache's ``KeepAliveTimeout`` does). There is no request to answer.
* **the body deadlines**, from the moment the head is complete until the body's last byte:
  ``BODY_IDLE_TIMEOUT_SECONDS`` without any byte, and a total of ``BODY_TIMEOUT_SECONDS`` plus one
  second per ``BODY_MIN_RATE_KB`` KB received (Apache ``mod_reqtimeout``'s ``MinRate``): a client
  that keeps up that average is never cut, one byte every 5 s is cut after 30 s whatever it
  declared. Time during which the server holds the client back (reading paused because the handler
  has not consumed what arrived) does not count. A cut body makes the handler's next read raise
  ``RequestTimeout``: the error middleware answers 408 in the JSON shape, whatever was being
  written is discarded (stores commit only a complete body), and the connection closes.
* **the pending cap** (``MAX_PENDING_CONNECTIONS_PER_IP``): connections that have not yet presented
  their first complete request head, counted per client IP. Those still headless after a short
  grace (a second, or half the head deadline) are *stalled*: once an IP has that many stalled, its
  new connections are closed as soon as they open. Young ones — a client opening its pool at once,
  or a busy server that has not read their heads yet — may number ten times the cap, so an honest
  burst is never refused while a slow-loris still cannot hold more than the cap for long. A
  connection leaves the count with its first head (from then on its requests meet authentication,
  rate limits and the body deadlines) or when it closes.
* **protocol errors as JSON**: a request aiohttp cannot parse (a bad byte in a header, a line over
  8190 bytes, too many headers) is answered ``{"error": {"code", "message"}}`` — 431 for sizes,
  400 otherwise — never echoing the raw bytes (a header may hold a key), with ``Server: Nagovori``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
)
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from api.errors import error_body
from core.errors import RequestTimeout
from core.settings import Settings

log = logging.getLogger(__name__)

GRACE_SECONDS = 1.0
"""A connection without a complete request head for this long (at most half the head deadline)
counts as stalled against the pending cap."""
BURST_FACTOR = 10
"""Young headless connections an IP may hold: this many times the cap."""


@dataclass(frozen=True)
class ConnectionLimits:
    """The connection limits of ``Settings`` (seconds, bytes per second, connections; 0: off)."""

    header_timeout: float = 10
    body_idle_timeout: float = 10
    body_timeout: float = 30
    body_min_rate: float = 64 * 1024
    max_pending_per_ip: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            header_timeout=settings.header_timeout_seconds,
            body_idle_timeout=settings.body_idle_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            body_min_rate=settings.body_min_rate_kb * 1024,
            max_pending_per_ip=settings.max_pending_connections_per_ip,
        )


class PendingConnections:
    """Connections per client IP that have not presented a complete request head yet (see the
    module docstring for the two limits)."""

    def __init__(
        self, cap: int, *, grace: float = GRACE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.cap = cap
        self._grace = grace
        self._clock = clock
        self._opened: dict[str, dict[int, float]] = {}  # ip -> connection token -> when it opened
        self._warned: set[str] = set()

    def admit(self, ip: str, token: int) -> bool:
        """Count connection ``token`` from ``ip``; False (not counted) when the IP is at a limit."""
        now = self._clock()
        opened = self._opened.setdefault(ip, {})
        if self.cap:
            stalled = sum(1 for since in opened.values() if now - since >= self._grace)
            if stalled >= self.cap or len(opened) >= self.cap * BURST_FACTOR:
                if ip not in self._warned:  # once per episode, not once per refused connection
                    self._warned.add(ip)
                    log.warning("%s holds %d connections without a request; refusing more", ip, len(opened))
                return False
        opened[token] = now
        return True

    def release(self, ip: str, token: int) -> None:
        opened = self._opened.get(ip, {})
        opened.pop(token, None)
        if not opened:
            self._opened.pop(ip, None)
            self._warned.discard(ip)


class _BodyClock:
    """When the body being received must have progressed by; stopped while reading is paused."""

    def __init__(self, payload: StreamReader, now: float, limits: ConnectionLimits) -> None:
        self.payload = payload
        self._limits = limits
        self._started = self._last_byte = now
        self._paused_at: float | None = None
        self._paused_for = 0.0

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def progress(self, now: float) -> None:
        self._last_byte = now

    def pause(self, now: float) -> None:
        if self._paused_at is None:
            self._paused_at = now

    def resume(self, now: float) -> None:
        if self._paused_at is not None:
            self._paused_for += now - self._paused_at
            self._paused_at = None
            self._last_byte = max(self._last_byte, now)  # the client could not send meanwhile

    def next_check(self) -> float:
        return min(self._idle_deadline(), self._total_deadline())

    def overdue(self, now: float) -> str | None:
        """What the client failed at, if anything, as words for the 408."""
        if now >= self._idle_deadline():
            return f"no byte of the body arrived for {self._limits.body_idle_timeout:g} s"
        if now >= self._total_deadline():
            rate = self._limits.body_min_rate / 1024
            return (
                f"the body did not arrive within {self._limits.body_timeout:g} s "
                f"(plus 1 s per {rate:g} KB received)"
            )
        return None

    def _idle_deadline(self) -> float:
        idle = self._limits.body_idle_timeout
        return self._last_byte + idle if idle else math.inf

    def _total_deadline(self) -> float:
        limits = self._limits
        if not limits.body_timeout:
            return math.inf
        earned = self.payload.total_bytes / limits.body_min_rate if limits.body_min_rate else 0.0
        return self._started + self._paused_for + limits.body_timeout + earned


class GuardedRequestHandler(RequestHandler):
    """aiohttp's connection handler with the deadlines, the pending cap and the JSON protocol errors
    of this module's docstring. Made by ``api.server.GuardedServer``."""

    def __init__(
        self, manager: Any, *, limits: ConnectionLimits, pending: PendingConnections, **kwargs: Any
    ) -> None:
        super().__init__(manager, keepalive_timeout=limits.header_timeout, **kwargs)
        self._limits = limits
        self._pending = pending
        self._pending_ip: str | None = None  # set while this connection counts as pending
        self._body: _BodyClock | None = None
        self._body_check: asyncio.TimerHandle | None = None
        self._body_cut = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        ip = peer[0] if isinstance(peer, tuple) and peer else None
        if ip is None:
            return  # a Unix socket: no client address to count
        if self._pending.admit(ip, id(self)):
            self._pending_ip = ip
        else:
            self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._release_pending()
        self._stop_body_clock()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        heads = self._request_count
        super().data_received(data)
        if data and self._body is not None:
            if self._body.payload.is_eof():
                self._stop_body_clock()  # the whole body is in
            else:
                self._body.progress(self._loop.time())
        if self._request_count != heads:
            self._head_complete()

    def pause_reading(self) -> None:
        super().pause_reading()
        if self._body is not None:
            self._body.pause(self._loop.time())

    def resume_reading(self, resume_parser: bool = True) -> None:
        if self._body is not None and self._body.paused:
            self._body.resume(self._loop.time())
            self._schedule_body_check()
        super().resume_reading(resume_parser)

    async def finish_response(
        self, request: web.BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        if self._body_cut:
            resp.force_close()  # the rest of the body is not read: this connection is done
        return await super().finish_response(request, resp, start_time)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """Errors aiohttp answers itself (unparsable requests, mostly) in the JSON error shape."""
        if request.writer.output_size > 0:
            raise ConnectionError("Response is sent already, cannot send another response")
        if status == 400:
            status, code, text = _protocol_error(exc)
            # The exception's text quotes the raw bytes (a header may hold a key): its class only.
            log.info("refused a malformed request from %s: %s", request.remote, type(exc).__name__)
        else:
            code, text = _SERVER_ERRORS.get(status, ("internal_error", "Something went wrong on our side."))
            self.log_exception("error handling a request from %s", request.remote, exc_info=exc)
        response = web.json_response(error_body(code, text), status=status)
        response.headers["Server"] = "Nagovori"  # the app's signal does not run for these
        response.force_close()
        return response

    def _release_pending(self) -> None:
        if self._pending_ip is not None:
            self._pending.release(self._pending_ip, id(self))
            self._pending_ip = None

    def _head_complete(self) -> None:
        self._release_pending()
        payload = self._messages[-1][1] if self._messages else None
        if payload is not None and not payload.is_eof():
            self._stop_body_clock()  # the parser moved on: any earlier body is complete
            self._body = _BodyClock(payload, self._loop.time(), self._limits)
            if self._reading_paused:  # the head came with more body than the buffer takes
                self._body.pause(self._loop.time())
            self._schedule_body_check()

    def _stop_body_clock(self) -> None:
        self._body = None
        if self._body_check is not None:
            self._body_check.cancel()
            self._body_check = None

    def _schedule_body_check(self) -> None:
        if self._body_check is not None:
            self._body_check.cancel()
            self._body_check = None
        if self._body is not None and math.isfinite(when := self._body.next_check()):
            self._body_check = self._loop.call_at(when, self._check_body)

    def _check_body(self) -> None:
        self._body_check = None
        clock = self._body
        if clock is None or clock.payload.is_eof() or clock.payload.exception() is not None:
            self._body = None
            return
        if clock.paused:
            return  # the server holds the client back; resume_reading restarts the clock
        reason = clock.overdue(self._loop.time())
        if reason is None:
            self._schedule_body_check()
            return
        self._body, self._body_cut = None, True
        log.info("cut a slow request body from %s: %s", self._peer(), reason)
        # The handler's next read raises it (408); a response already sent makes aiohttp's
        # lingering read end at once (the error is a TimeoutError) and close the connection.
        clock.payload.set_exception(RequestTimeout(f"Request timeout: {reason}."))

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        return str(peer[0]) if isinstance(peer, tuple) and peer else "a client"


_SERVER_ERRORS = {
    500: ("internal_error", "Something went wrong on our side."),
    504: ("timeout", "The request took too long to handle."),
}


def _protocol_error(exc: BaseException | None) -> tuple[int, str, str]:
    """(status, code, message) for a request aiohttp's parser refused, in words of our own."""
    if isinstance(exc, LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 else "8190"
        return 431, "request_header_too_large", f"The request line or a header is longer than {limit} bytes."
    if isinstance(exc, HttpProcessingError) and "Too many headers" in exc.message:
        return 431, "request_header_too_large", "The request has too many headers."
    if isinstance(exc, BadHttpMethod):
        return 400, "bad_request", "This is not an HTTP request (a bad method, or TLS on a plain HTTP port)."
    if isinstance(exc, BadStatusLine | InvalidURLError):
        return 400, "bad_request", "The request line is malformed."
    if isinstance(exc, InvalidHeader):
        return 400, "bad_request", "A request header is malformed."
    if isinstance(exc, HttpProcessingError) and ":\n" in exc.message:
        # llhttp's own description comes before the quoted bytes: "Invalid header value char:\n\n  b'…'"
        return 400, "bad_request", f"The request is malformed: {exc.message.split(':', 1)[0]}."
    return 400, "bad_request", "The request is malformed."
