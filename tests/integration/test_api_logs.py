"""What the server logs about hostile or broken clients (issue 11, §6): never a key or any other
credential, and one line (no traceback) for a client that disconnects mid-upload. The app runs
as ``nagovori serve`` runs it (its ApiRunner: handlers are not cancelled when a client goes)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from api.app import create_app
from api.protocol import ConnectionLimits
from api.server import ApiRunner
from cli.bootstrap import build_platform
from core.platform import Platform
from core.redaction import RedactSecrets
from core.services import api_keys, uploads
from core.services.users import create_user
from tests.api_harness import api_settings, free_port, sqlite_copy


@dataclass
class Served:
    platform: Platform
    port: int
    user_id: str
    key: str

    async def raw(self, request: bytes, *, abort_after: float | None = None) -> bytes:
        """Send raw bytes; read the answer, or drop the connection after ``abort_after`` s."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(request)
        await writer.drain()
        if abort_after is not None:
            await asyncio.sleep(abort_after)
            writer.transport.abort()
            return b""
        answer = await reader.read(65536)
        writer.close()
        return answer


@pytest.fixture
async def served(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Served]:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    platform = build_platform(settings)
    limits = ConnectionLimits.from_settings(settings)
    runner = ApiRunner(create_app(platform, close_platform=False), limits, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    platform.settings.public_url = f"http://127.0.0.1:{port}"
    user = await create_user(platform.db, starting_minutes=1)
    key = (await api_keys.create_key(platform.db, user.id)).secret
    try:
        yield Served(platform, port, user.id, key)
    finally:
        await runner.cleanup()
        await platform.close()


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every record as a handler would write it, traceback included."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return [formatter.format(r) for r in caplog.records if not r.name.startswith("aiosqlite")]


@pytest.mark.parametrize(
    "bad", [b"\x01", b"\x00", b"\x7f", b"\r", b"\xff"], ids=["SOH", "NUL", "DEL", "CR", "0xff"]
)
async def test_a_key_with_a_bad_byte_is_refused_and_never_logged(
    served: Served, caplog: pytest.LogCaptureFixture, bad: bytes
) -> None:
    key = served.key.encode()
    caplog.set_level(logging.DEBUG)

    answer = await served.raw(
        b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key[:12] + bad + key[12:] + b"\r\n\r\n"
    )
    await asyncio.sleep(0.1)

    assert answer.split(b"\r\n")[0].split(b" ")[1] in (b"400", b"401")  # never a 500
    lines = log_lines(caplog)
    secret_part = served.key[12:]
    assert not [line for line in lines if secret_part[:8] in line or secret_part[-8:] in line], lines


async def test_a_client_leaving_mid_upload_is_one_line_without_a_traceback(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    presigned = await uploads.presign(served.platform, served.user_id, filename="a.wav", size_bytes=100_000)
    target = presigned.upload_url.removeprefix(served.platform.settings.public_url)
    caplog.set_level(logging.DEBUG)

    await served.raw(
        f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".encode() + b"x" * 1000,
        abort_after=0.3,
    )
    await asyncio.sleep(0.5)

    lines = log_lines(caplog)
    assert not [line for line in lines if "Traceback" in line], lines
    assert [line for line in lines if "client disconnected" in line and "\n" not in line], lines


@pytest.mark.parametrize(
    "message",
    [
        "calling https://api.telegram.org/bot123456789:AAE1x2y3z4w5v6u7t8s9r0qAbCdEfGhIjKl/getUpdates",
        "auth header was Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "key nag_Abc123_xyz-789 refused",
        "GET /objects/a.wav?expires=1&signature=v1.XnSLj7PohkFIINOtjCx",
        "webhook secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/x+= stored",
    ],
)
def test_credentials_in_any_message_or_traceback_are_redacted(message: str) -> None:
    try:
        raise RuntimeError(message)
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", (message,), None)
        record.exc_info = sys.exc_info()
    RedactSecrets().filter(record)
    line = logging.Formatter().format(record)
    for secret in ("AAE1x2y3z4w5", "eyJzdWIiOiIxIn0", "Abc123_xyz", "XnSLj7Poh", "MfKQ9r8GKYqr"):
        assert secret not in line
    assert "[redacted" in line
