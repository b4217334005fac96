"""Slow and lying clients are cut, and requests aiohttp cannot parse answer in the JSON error shape
(issue 11, §5 and §6). A real server on loopback and raw sockets; the limits are set short through
settings so that every wait stays bounded (api/protocol.py explains them)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy

HEAD_TIMEOUT = 1.0
BODY_IDLE = 0.8
BODY_TOTAL = 2.0
PENDING_CAP = 3
SLACK = 1.0  # timers, scheduling and a loaded machine


@pytest.fixture
async def api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    settings = api_settings(
        tmp_path,
        sqlite_copy(sqlite_template, tmp_path),
        header_timeout_seconds=HEAD_TIMEOUT,
        body_idle_timeout_seconds=BODY_IDLE,
        body_timeout_seconds=BODY_TOTAL,
        body_min_rate_kb=64,
        max_pending_connections_per_ip=PENDING_CAP,
    )
    async with live_api(settings, workers=False) as env:
        yield env


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(api: ApiEnv) -> Connection:
    host, port = api.base.removeprefix("http://").rsplit(":", 1)
    return await asyncio.open_connection(host, int(port))


async def until_closed(reader: asyncio.StreamReader, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    start = time.monotonic()
    chunks = []
    try:
        async with asyncio.timeout(within):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks), time.monotonic() - start


def parse(answer: bytes) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON body) of one HTTP response."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), {k.lower(): v for k, v in headers.items()}, json.loads(body)


async def trickle(writer: asyncio.StreamWriter, data: bytes, every: float) -> None:
    for byte in data:
        writer.write(bytes([byte]))
        await asyncio.sleep(every)


async def presigned_put(api: ApiEnv, size: int) -> tuple[str, str]:
    """(request target of a signed PUT, object key) for an upload of ``size`` bytes."""
    status, presigned = await api.call(
        "POST", "/v1/uploads/presign", json={"filename": "a.wav", "size_bytes": size}
    )
    assert status == 200, presigned
    return presigned["upload_url"].removeprefix(api.base), presigned["object_key"]


async def test_a_head_sent_a_byte_at_a_time_is_cut_at_the_header_timeout(api: ApiEnv) -> None:
    reader, writer = await connect(api)
    sender = asyncio.create_task(
        trickle(writer, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200, 0.1)
    )
    try:
        answer, elapsed = await until_closed(reader, within=HEAD_TIMEOUT + 3)
    finally:
        sender.cancel()
        writer.close()
    assert answer == b""  # no request, nothing to answer: the connection just closes
    assert HEAD_TIMEOUT - 0.1 <= elapsed <= HEAD_TIMEOUT + SLACK  # bytes that trickle in do not extend it


async def test_an_idle_keep_alive_connection_is_closed_after_the_header_timeout(api: ApiEnv) -> None:
    reader, writer = await connect(api)
    writer.write(f"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api.key}\r\n\r\n".encode())
    answer, elapsed = await until_closed(reader, within=HEAD_TIMEOUT + 3)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert elapsed <= HEAD_TIMEOUT + SLACK


async def test_a_body_trickled_below_the_minimum_rate_is_cut_with_a_408(api: ApiEnv) -> None:
    target, key = await presigned_put(api, 1000)
    reader, writer = await connect(api)
    writer.write(f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode())
    # A byte every 0.2 s never trips the idle timeout; the total deadline cuts it.
    sender = asyncio.create_task(trickle(writer, b"x" * 1000, 0.2))
    try:
        answer, elapsed = await until_closed(reader, within=BODY_TOTAL + 3)
    finally:
        sender.cancel()
        writer.close()
    status, headers, body = parse(answer)
    assert status == 408, body
    assert body["error"]["code"] == "request_timeout"
    assert headers["content-type"].startswith("application/json")
    assert headers["connection"] == "close"
    assert BODY_TOTAL - 0.1 <= elapsed <= BODY_TOTAL + SLACK
    assert await api.platform.store.stat(key) is None  # nothing committed


async def stalled(api: ApiEnv, head: str, first_bytes: bytes) -> tuple[bytes, float]:
    """Send a head declaring 1,000,000 bytes of body, then ``first_bytes``, then nothing."""
    reader, writer = await connect(api)
    writer.write(head.encode() + b"Content-Length: 1000000\r\n\r\n" + first_bytes)
    try:
        return await until_closed(reader, within=BODY_IDLE + 3)
    finally:
        writer.close()


async def test_a_content_length_never_delivered_frees_the_upload_handler(api: ApiEnv) -> None:
    target, key = await presigned_put(api, 1_000_000)

    answer, elapsed = await stalled(api, f"PUT {target} HTTP/1.1\r\nHost: x\r\n", b"0123456789")

    status, _, body = parse(answer)
    assert status == 408 and body["error"]["code"] == "request_timeout", body
    assert "no byte of the body arrived" in body["error"]["message"]
    assert elapsed <= BODY_IDLE + SLACK
    assert await api.platform.store.stat(key) is None  # the partial file was discarded


@pytest.mark.parametrize(
    ("path", "content_type", "first_bytes"),
    [
        ("/v1/transcriptions", "application/json", b'{"object_key": "'),
        (
            "/v1/audio/transcriptions",
            "multipart/form-data; boundary=b0undary",
            b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF',
        ),
    ],
    ids=["json", "multipart"],
)
async def test_a_stalled_json_or_multipart_body_is_a_408(
    api: ApiEnv, path: str, content_type: str, first_bytes: bytes
) -> None:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api.key}\r\nContent-Type: {content_type}\r\n"

    answer, elapsed = await stalled(api, head, first_bytes)

    status, _, body = parse(answer)
    assert status == 408, body
    assert body["error"]["code"] == "request_timeout"  # the OpenAI shape keeps our code too
    assert elapsed <= BODY_IDLE + SLACK


async def test_a_steady_upload_may_take_longer_than_the_body_timeout(api: ApiEnv) -> None:
    size = 384 * 1024
    target, key = await presigned_put(api, size)
    reader, writer = await connect(api)
    writer.write(
        f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode()
    )
    start = time.monotonic()
    for _ in range(24):  # 16 KB every 0.1 s: 160 KB/s, above the minimum rate of 64 KB/s
        writer.write(b"a" * 16 * 1024)
        await asyncio.sleep(0.1)
    answer, _ = await until_closed(reader, within=5)
    writer.close()
    status, _, body = parse(answer)
    assert status == 200, body
    assert time.monotonic() - start > BODY_TOTAL
    stored = await api.platform.store.stat(key)
    assert stored is not None and stored.size == size


async def test_connections_over_the_per_ip_cap_are_closed_at_once(api: ApiEnv) -> None:
    async def closed_at_once(reader: asyncio.StreamReader) -> bool:
        try:
            async with asyncio.timeout(0.3):  # well within the header timeout
                return await reader.read(1) == b""
        except TimeoutError:
            return False  # still open, waiting for a request

    # A burst of young connections is no attack (a client opening its pool, a busy server).
    connections = [await connect(api) for _ in range(PENDING_CAP + 5)]
    closed = await asyncio.gather(*(closed_at_once(reader) for reader, _ in connections))
    assert closed == [False] * (PENDING_CAP + 5)
    # Still headless after the grace (half the head deadline here): stalled, over the cap.
    await asyncio.sleep(HEAD_TIMEOUT / 2 - 0.3 + 0.1)
    late = [await connect(api) for _ in range(5)]
    closed = await asyncio.gather(*(closed_at_once(reader) for reader, _ in late))
    assert closed == [True] * 5

    for _, writer in connections + late:
        writer.close()
    await asyncio.sleep(0.1)
    reader, writer = await connect(api)
    writer.write(
        f"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {api.key}\r\nConnection: close\r\n\r\n".encode()
    )
    answer, _ = await until_closed(reader, within=3)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (b"X-Note: ab\x01cd", 400, "bad_request"),
        (b"X-Note: " + b"a" * 10_000, 431, "request_header_too_large"),
    ],
    ids=["bad-byte", "oversized-line"],
)
async def test_a_request_aiohttp_cannot_parse_answers_in_the_json_shape(
    api: ApiEnv, header: bytes, status: int, code: str
) -> None:
    reader, writer = await connect(api)
    secret = api.key.encode()
    writer.write(
        b"GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + secret + b"\r\n" + header + b"\r\n\r\n"
    )
    answer, _ = await until_closed(reader, within=3)
    writer.close()

    got, headers, body = parse(answer)
    assert (got, body["error"]["code"]) == (status, code), body
    assert body["error"]["message"]
    assert headers["content-type"].startswith("application/json")
    assert headers["server"] == "Nagovori"
    assert secret[12:] not in answer and b"aaaaaaaa" not in answer and b"ab\x01cd" not in answer


async def test_a_real_clip_uploads_with_the_default_limits(
    tmp_path: Path, sqlite_template: Path, shared_audio: Path
) -> None:
    clip = shared_audio / "en" / "jfk.flac"
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, workers=False) as env:
        key = await env.upload(clip)
        stored = await env.platform.store.stat(key)
    assert stored is not None and stored.size == clip.stat().st_size
