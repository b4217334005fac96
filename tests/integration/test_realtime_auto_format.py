"""audio_format "auto": WebM/Opus and OGG/Opus chunks, as a browser's MediaRecorder sends them,
decoded as they arrive; garbage gets an error and close 1003, billed for what decoded."""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import AsyncIterator
from pathlib import Path

import av
import numpy as np
import pytest
from aiohttp import WSMsgType

from core.audio import decode_pcm
from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy, usage
from tests.integration.ledger_invariant import assert_ledger_consistent
from tests.integration.test_realtime_stt import CLIP, collect, connect, file_text
from tests.wer import wer

AUTO = {"audio_format": "auto", "language": "en", "model": "pocketsphinx"}
CHUNK_SECONDS = 0.25  # MediaRecorder's timeslice in the web page


@pytest.fixture
async def rt(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, minutes=10, workers=False) as env:
        yield env


def opus(path: Path, container: str) -> bytes:
    """The clip encoded to Opus in ``container`` (webm or ogg) by FFmpeg through PyAV."""
    out = io.BytesIO()
    with av.open(str(path)) as source, av.open(out, "w", format=container) as target:
        stream = target.add_stream("libopus", rate=48000, layout="mono")
        for frame in source.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                target.mux(packet)
        for packet in stream.encode(None):
            target.mux(packet)
    return out.getvalue()


def as_pcm(encoded: bytes) -> bytes:
    """What the whole file decodes to (16 kHz mono s16le), as a file job would read it."""
    samples = np.concatenate(list(decode_pcm(io.BytesIO(encoded))))
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


@pytest.mark.parametrize("container", ["webm", "ogg"])
async def test_opus_chunks_are_decoded_live_and_billed_by_their_seconds(
    rt: ApiEnv, shared_audio: Path, container: str
) -> None:
    encoded = opus(shared_audio / CLIP, container)
    seconds = len(as_pcm(encoded)) / 32000
    pieces = math.ceil(seconds / CHUNK_SECONDS)
    size = math.ceil(len(encoded) / pieces)
    ws = await connect(rt)
    await ws.send_json(AUTO)
    reader = asyncio.create_task(collect(ws))
    for offset in range(0, len(encoded), size):
        await ws.send_bytes(encoded[offset : offset + size])
        await asyncio.sleep(CHUNK_SECONDS / 4)  # 4x real time
    await ws.send_bytes(b"")
    bodies = [b for _, b in await asyncio.wait_for(reader, 60)]
    assert ws.close_code == 1000 and not any("error" in b for b in bodies), bodies
    live = " ".join(b["text"] for b in bodies if b.get("is_final"))
    assert wer([(file_text(rt, as_pcm(encoded)), live)]) <= 0.05, live
    assert any(b.get("is_final") is False for b in bodies)
    assert bodies[-1]["billed_seconds"] == math.ceil(seconds)
    assert await usage(rt) == (600 - math.ceil(seconds), 0)
    await assert_ledger_consistent(rt.platform.db)


async def test_chunks_that_are_not_opus_get_an_error_and_close_1003(rt: ApiEnv, shared_audio: Path) -> None:
    ws = await connect(rt)
    await ws.send_json(AUTO)
    await ws.send_bytes(b"this is not a media container " * 400)
    message = await ws.receive_json(timeout=30)
    assert message["error"]["code"] == "invalid_audio" and message["error"]["message"]
    assert (await ws.receive()).type == WSMsgType.CLOSE and ws.close_code == 1003
    assert await usage(rt) == (600, 0)  # nothing decoded, nothing billed

    # Good chunks, then junk: WebM's demuxer skips junk looking for the next cluster (as FFmpeg
    # does for a file), so the session lives on and bills exactly the seconds that decoded.
    encoded = opus(shared_audio / CLIP, "webm")
    ws = await connect(rt)
    await ws.send_json(AUTO)
    await ws.send_bytes(encoded[: len(encoded) // 3])
    await ws.send_bytes(b"\xff" * 20000)
    await ws.send_bytes(b"")
    bodies = [b for _, b in await asyncio.wait_for(collect(ws), 30)]
    assert ws.close_code == 1000 and bodies[-1]["finished"] is True
    decoded = len(as_pcm(encoded[: len(encoded) // 3])) / 32000
    assert bodies[-1]["billed_seconds"] == math.ceil(decoded) >= 3
    assert await usage(rt) == (600 - math.ceil(decoded), 0)
    await assert_ledger_consistent(rt.platform.db)
