"""GET /v1/stt/realtime: live transcription over a WebSocket with the real PocketSphinx engine,
real audio sent paced like a microphone, and the ledger checked after every session."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType, WSServerHandshakeError

from asr.base import TranscriptionOptions
from asr.registry import AsrEngines
from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy, usage
from tests.integration.ledger_invariant import assert_ledger_consistent
from tests.wer import wer

CLIP = "en/LJ001-0001.wav"  # 9.7 s, several utterances
SHORT_CLIP = "en/LJ001-0002.wav"  # about 2 s
CONFIG = {"audio_format": "pcm_s16le", "sample_rate": 16000, "language": "en", "model": "pocketsphinx"}
FRAME_SECONDS = 0.1


@pytest.fixture
async def rt(tmp_path: Path, database_url: str) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, database_url, realtime_config_timeout_seconds=1.5)
    async with live_api(settings, minutes=10, workers=False) as env:
        yield env


@pytest.fixture
async def rt_sqlite(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    """The same on SQLite only, for the protocol's edges (the ledger runs on both above)."""
    settings = api_settings(
        tmp_path,
        sqlite_copy(sqlite_template, tmp_path),
        realtime_config_timeout_seconds=1.5,
        realtime_idle_timeout_seconds=1.5,
        realtime_max_session_seconds=10,
        realtime_max_frame_bytes=64 * 1024,
    )
    async with live_api(settings, minutes=10, workers=False) as env:
        yield env


def pcm(path: Path) -> bytes:
    """The clip as 16 kHz mono s16le, as a client would send it."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        out = [
            f.to_ndarray().tobytes() for frame in container.decode(audio=0) for f in resampler.resample(frame)
        ]
        out += [f.to_ndarray().tobytes() for f in resampler.resample(None)]
    return b"".join(out)


def file_text(env: ApiEnv, audio: bytes) -> str:
    """The same audio transcribed as a file by the same engine."""
    engine = AsrEngines.get(env.engines.asr, "pocketsphinx")
    samples = np.frombuffer(audio, "<i2").astype(np.float32) / 32767.0
    _, segments = engine.transcribe(
        [samples], duration=len(samples) / 16000, options=TranscriptionOptions("en")
    )
    return " ".join(s.text for s in segments)


async def connect(env: ApiEnv, *, key: str | None = None, query: str = "") -> ClientWebSocketResponse:
    headers = {} if query else {"Authorization": f"Bearer {key or env.key}"}
    return await env.http.ws_connect(f"{env.base}/v1/stt/realtime{query}", headers=headers)


async def send_paced(ws: ClientWebSocketResponse, audio: bytes, speed: float, *, upto: float = 1.0) -> float:
    """Send ``audio`` in 0.1 s frames at ``speed`` times real time; returns when the last went out."""
    step = int(16000 * FRAME_SECONDS) * 2
    started = time.monotonic()
    stop = int(len(audio) * upto)
    for n, offset in enumerate(range(0, stop, step)):
        await ws.send_bytes(audio[offset : min(offset + step, stop)])
        delay = started + (n + 1) * FRAME_SECONDS / speed - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    return time.monotonic()


async def collect(ws: ClientWebSocketResponse) -> list[tuple[float, dict[str, Any]]]:
    """Every JSON message with its arrival time, until the server closes."""
    messages = []
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            messages.append((time.monotonic(), message.json()))
    return messages


async def test_a_clip_at_four_times_real_time_matches_the_file_and_bills_exactly(
    rt: ApiEnv, shared_audio: Path
) -> None:
    audio = pcm(shared_audio / CLIP)
    seconds = len(audio) / 32000
    before, _ = await usage(rt)
    ws = await connect(rt)
    await ws.send_json({**CONFIG, "save": True})
    reader = asyncio.create_task(collect(ws))
    last_frame_at = await send_paced(ws, audio, speed=4)
    await ws.send_bytes(b"")
    messages = await asyncio.wait_for(reader, 60)
    assert ws.close_code == 1000
    bodies = [body for _, body in messages]
    partials = [(at, b) for at, b in messages if b.get("is_final") is False]
    finals = [b for b in bodies if b.get("is_final") is True]
    assert partials and partials[0][0] < last_frame_at  # text while the audio is still coming
    assert finals and all(f["end"] >= f["start"] >= 0 and f["words"] for f in finals)
    live = " ".join(f["text"] for f in finals)
    assert wer([(file_text(rt, audio), live)]) <= 0.05, live
    last = bodies[-1]
    assert last["finished"] is True and last["billed_seconds"] == math.ceil(seconds)
    assert not any("error" in b for b in bodies)
    after, held = await usage(rt)
    assert before - after == math.ceil(seconds) and held == 0
    status, job = await rt.call("GET", f"/v1/transcriptions/{last['job_id']}")
    assert status == 200 and job["status"] == "completed" and job["transcript_text"] == live
    await assert_ledger_consistent(rt.platform.db)


async def test_a_short_clip_in_real_time_gets_its_text_and_no_history_unless_saved(
    rt_sqlite: ApiEnv, shared_audio: Path
) -> None:
    audio = pcm(shared_audio / SHORT_CLIP)
    ws = await connect(rt_sqlite)
    await ws.send_json(CONFIG)
    reader = asyncio.create_task(collect(ws))
    await send_paced(ws, audio, speed=1)
    await ws.send_bytes(b"")
    bodies = [b for _, b in await asyncio.wait_for(reader, 30)]
    live = " ".join(b["text"] for b in bodies if b.get("is_final"))
    assert wer([(file_text(rt_sqlite, audio), live)]) <= 0.05, live
    assert bodies[-1] == {"finished": True, "billed_seconds": math.ceil(len(audio) / 32000), "job_id": None}
    status, listing = await rt_sqlite.call("GET", "/v1/transcriptions")
    assert status == 200 and listing["count"] == 0 and listing["items"] == []
    await assert_ledger_consistent(rt_sqlite.platform.db)


async def test_terms_are_spelled_as_given_in_partials_finals_and_the_saved_job(
    rt_sqlite: ApiEnv, shared_audio: Path
) -> None:
    """As in file jobs: a term the engine heard is written the caller's way (PocketSphinx takes no
    hint, so only the spelling changes)."""
    audio = pcm(shared_audio / CLIP)
    heard = file_text(rt_sqlite, audio)
    assert "arts and crafts" in heard and "exhibition" in heard.split()  # deterministic engine
    ws = await connect(rt_sqlite)
    terms = [" Arts and Crafts ", "", "EXHIBITION", "EXHIBITION"]
    await ws.send_json({**CONFIG, "save": True, "terms": terms})
    reader = asyncio.create_task(collect(ws))
    await send_paced(ws, audio, speed=8)
    await ws.send_bytes(b"")
    bodies = [b for _, b in await asyncio.wait_for(reader, 60)]
    live = " ".join(b["text"] for b in bodies if b.get("is_final"))
    assert "Arts and Crafts" in live and "EXHIBITION" in live.split()
    every_text = " ".join(b["text"] for b in bodies if "is_final" in b)  # partials too
    assert "arts and crafts" not in every_text and "exhibition" not in every_text.split()
    spelled_back = live.replace("Arts and Crafts", "arts and crafts").replace("EXHIBITION", "exhibition")
    assert wer([(heard, spelled_back)]) <= 0.05, live
    status, job = await rt_sqlite.call("GET", f"/v1/transcriptions/{bodies[-1]['job_id']}")
    assert status == 200 and job["transcript_text"] == live


async def test_a_dropped_connection_settles_for_the_audio_received(rt: ApiEnv, shared_audio: Path) -> None:
    audio = pcm(shared_audio / CLIP)[: 32000 * 4]  # 4 s, then the client vanishes
    before, _ = await usage(rt)
    ws = await connect(rt)
    await ws.send_json(CONFIG)
    await send_paced(ws, audio, speed=8)
    await ws.close()  # no empty frame: a dropped session
    for _ in range(100):
        after, held = await usage(rt)
        if held == 0 and after < before:
            break
        await asyncio.sleep(0.1)
    assert (before - after, held) == (4, 0)
    await assert_ledger_consistent(rt.platform.db)


async def test_the_balance_running_out_ends_the_session_billed_what_it_paid(
    rt_sqlite: ApiEnv, shared_audio: Path
) -> None:
    _, key = await rt_sqlite.new_user(minutes=3 / 60)  # 3 s
    ws = await connect(rt_sqlite, key=key)
    await ws.send_json(CONFIG)
    audio = pcm(shared_audio / CLIP)[: 32000 * 5]
    reader = asyncio.create_task(collect(ws))
    await send_paced(ws, audio, speed=20)
    bodies = [b for _, b in await asyncio.wait_for(reader, 30)]
    assert {"code": "insufficient_minutes"}.items() <= bodies[-2]["error"].items()
    assert bodies[-1]["finished"] is True and bodies[-1]["billed_seconds"] == 3
    assert await usage(rt_sqlite, key) == (0, 0)
    await assert_ledger_consistent(rt_sqlite.platform.db)


async def test_a_session_takes_one_of_the_max_active_jobs_slots(rt_sqlite: ApiEnv) -> None:
    first = await connect(rt_sqlite)
    await first.send_json(CONFIG)
    await first.send_bytes(b"\x00" * 3200)
    for _ in range(50):  # the first session holds its minute: it has its slot
        if (await usage(rt_sqlite))[1]:
            break
        await asyncio.sleep(0.1)
    second = await connect(rt_sqlite)
    await second.send_json(CONFIG)
    assert (await second.receive_json(timeout=10))["error"]["code"] == "too_many_active_jobs"
    assert (await second.receive()).type == WSMsgType.CLOSE and second.close_code == 1008
    await first.send_bytes(b"")
    bodies = [b for _, b in await asyncio.wait_for(collect(first), 10)]
    assert bodies[-1] == {"finished": True, "billed_seconds": 1, "job_id": None}


def test_the_in_process_recognizer_matches_the_file(shared_audio: Path, tmp_path: Path) -> None:
    """Without engine processes the session decodes its finals itself, as a file job would."""
    from asr.streaming import open_stream
    from cli.wiring import asr_config

    engines = AsrEngines(asr_config(api_settings(tmp_path, "sqlite+aiosqlite:///unused.db")))
    audio = pcm(shared_audio / CLIP)
    recognizer = open_stream(engines, "pocketsphinx", "en")
    try:
        results = [
            r
            for offset in range(0, len(audio), 3200)
            for r in recognizer.accept(audio[offset : offset + 3200])
        ]
        results += recognizer.finish()
    finally:
        recognizer.close()
    engine = engines.get("pocketsphinx")
    samples = np.frombuffer(audio, "<i2").astype(np.float32) / 32767.0
    _, segments = engine.transcribe(
        [samples], duration=len(samples) / 16000, options=TranscriptionOptions("en")
    )
    assert " ".join(r.text for r in results if r.is_final) == " ".join(s.text for s in segments)
    partials = [r for r in results if not r.is_final]
    assert partials and all(r.end >= r.start for r in results)


async def test_a_zero_balance_is_refused_at_once(rt_sqlite: ApiEnv) -> None:
    _, key = await rt_sqlite.new_user(minutes=0)
    ws = await connect(rt_sqlite, key=key)
    await ws.send_json(CONFIG)
    message = await ws.receive_json(timeout=10)
    assert message["error"]["code"] == "insufficient_minutes"
    assert (await ws.receive()).type == WSMsgType.CLOSE and ws.close_code == 1008


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**CONFIG, "audio_format": "mp3"}, "audio_format"),
        ({**CONFIG, "sample_rate": 44100}, "sample_rate"),
        ({**CONFIG, "language": "ru"}, None),
        ({**CONFIG, "model": "whisper-no-such-size"}, None),
        ({**CONFIG, "surprise": 1}, None),
        ({**CONFIG, "enable_endpoint_detection": False}, "enable_endpoint_detection"),
        ({**CONFIG, "terms": "not a list"}, "terms"),
        ({**CONFIG, "sample_rate": True}, "sample_rate"),
    ],
)
async def test_a_bad_config_gets_an_error_and_close_1008(
    rt_sqlite: ApiEnv, config: dict[str, Any], field: str | None
) -> None:
    ws = await connect(rt_sqlite)
    await ws.send_json(config)
    message = await ws.receive_json(timeout=10)
    assert message["error"]["code"] and message["error"]["message"]
    if field:
        assert message["error"]["field"] == field
    assert (await ws.receive()).type == WSMsgType.CLOSE and ws.close_code == 1008
    assert await usage(rt_sqlite) == (600, 0)


async def test_garbage_frames_get_an_error_and_close_1003_billed_what_arrived(rt_sqlite: ApiEnv) -> None:
    ws = await connect(rt_sqlite)
    await ws.send_bytes(b"\x00\x01")  # audio before any config
    assert (await ws.receive_json(timeout=5))["error"]["code"] == "invalid_request"
    assert (await ws.receive()).type == WSMsgType.CLOSE and ws.close_code == 1003

    ws = await connect(rt_sqlite)
    await ws.send_json(CONFIG)
    await ws.send_bytes(b"\x00" * 32000)  # 1 s of silence
    await ws.send_bytes(b"\x01\x02\x03")  # half a sample
    assert (await ws.receive_json(timeout=10))["error"]["code"] == "invalid_request"
    assert (await ws.receive()).type == WSMsgType.CLOSE and ws.close_code == 1003
    assert await usage(rt_sqlite) == (599, 0)
    await assert_ledger_consistent(rt_sqlite.platform.db)


async def test_connections_that_never_send_config_are_closed_by_the_timeout(rt_sqlite: ApiEnv) -> None:
    sockets = await asyncio.gather(*(connect(rt_sqlite) for _ in range(20)))
    started = time.monotonic()
    closes = await asyncio.gather(*(_error_then_close(ws) for ws in sockets))
    assert time.monotonic() - started < 6
    assert all(code == "config_timeout" and close == 1008 for code, close in closes)


async def _error_then_close(ws: ClientWebSocketResponse) -> tuple[str, int | None]:
    message = await ws.receive_json(timeout=10)
    await ws.receive(timeout=10)
    return message["error"]["code"], ws.close_code


async def test_an_idle_session_is_finished_by_the_idle_timeout(rt_sqlite: ApiEnv) -> None:
    ws = await connect(rt_sqlite)
    await ws.send_json(CONFIG)
    await ws.send_bytes(b"\x00" * 16000)  # half a second, then nothing
    bodies = [b for _, b in await asyncio.wait_for(collect(ws), 10)]
    assert bodies[-2]["error"]["code"] == "idle_timeout"
    assert bodies[-1] == {"finished": True, "billed_seconds": 1, "job_id": None}


async def test_a_session_ends_at_its_longest_billed_exactly_that(rt_sqlite: ApiEnv) -> None:
    ws = await connect(rt_sqlite)
    await ws.send_json(CONFIG)
    reader = asyncio.create_task(collect(ws))
    for _ in range(12):  # 12 s of silence in 1 s frames; the limit is 10 s
        await ws.send_bytes(b"\x00" * 32000)
    bodies = [b for _, b in await asyncio.wait_for(reader, 20)]
    assert bodies[-2]["error"]["code"] == "session_too_long"
    assert bodies[-1] == {"finished": True, "billed_seconds": 10, "job_id": None}
    await assert_ledger_consistent(rt_sqlite.platform.db)


async def test_an_oversized_frame_closes_1009_billed_what_arrived(rt_sqlite: ApiEnv) -> None:
    ws = await connect(rt_sqlite)
    await ws.send_json(CONFIG)
    await ws.send_bytes(b"\x00" * 32000)
    await ws.send_bytes(b"\x00" * (64 * 1024 + 2))
    assert (await ws.receive(timeout=10)).type == WSMsgType.CLOSE and ws.close_code == 1009
    for _ in range(50):
        if await usage(rt_sqlite) == (599, 0):
            break
        await asyncio.sleep(0.1)
    assert await usage(rt_sqlite) == (599, 0)
    await assert_ledger_consistent(rt_sqlite.platform.db)


async def test_a_session_token_works_once_and_a_key_in_the_query_is_refused(rt_sqlite: ApiEnv) -> None:
    status, issued = await rt_sqlite.call("POST", "/v1/stt/realtime/sessions")
    assert status == 201 and issued["expires_at"] - time.time() <= 61
    ws = await connect(rt_sqlite, query=f"?token={issued['token']}")
    await ws.send_json(CONFIG)
    await ws.send_bytes(b"")
    bodies = [b for _, b in await asyncio.wait_for(collect(ws), 10)]
    assert bodies[-1]["finished"] is True and bodies[-1]["billed_seconds"] == 0

    url = f"{rt_sqlite.base}/v1/stt/realtime"
    for token in (issued["token"], issued["token"][:-2] + "xx"):  # used already; forged
        with pytest.raises(WSServerHandshakeError) as refused:
            await rt_sqlite.http.ws_connect(url, params={"token": token})
        assert refused.value.status == 401
    fresh = (await rt_sqlite.call("POST", "/v1/stt/realtime/sessions"))[1]["token"]
    async with rt_sqlite.http.get(url, params={"token": fresh}) as response:  # not a WebSocket
        assert response.status == 400
    ws = await connect(rt_sqlite, query=f"?token={fresh}")  # that did not use it up
    await ws.close()
    for query, code in [
        ({"token": rt_sqlite.key}, "credentials_in_query"),  # a long-lived key: never in a URL
        ({"api_key": rt_sqlite.key}, "credentials_in_query"),
        ({}, "unauthorized"),
    ]:
        async with rt_sqlite.http.get(url, params=query, headers={"Upgrade": "websocket"}) as response:
            assert response.status == 401, query
            assert (await response.json())["error"]["code"] == code
    async with rt_sqlite.http.post(f"{url}/sessions") as response:
        assert response.status == 401


async def test_opening_sessions_counts_against_the_rate_limit(tmp_path: Path, sqlite_template: Path) -> None:
    """A session is a request: past the per-minute limit the upgrade is refused with a plain 429,
    by headers or by a token alike, before any audio is accepted."""
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), rate_limit_per_minute=3)
    async with live_api(settings, minutes=10, workers=False) as env:
        ws = await connect(env)  # 1
        await ws.close()
        status, issued = await env.call("POST", "/v1/stt/realtime/sessions")  # 2
        assert status == 201
        ws = await connect(env, query=f"?token={issued['token']}")  # 3
        await ws.close()
        status, body = await env.call("POST", "/v1/stt/realtime/sessions")
        assert status == 429 and body["error"]["code"] == "rate_limited"
        with pytest.raises(WSServerHandshakeError) as refused:
            await connect(env)
        assert refused.value.status == 429
        assert refused.value.headers is not None and refused.value.headers["Retry-After"]


@pytest.mark.parametrize("store", ["embedded", "redis"])
async def test_session_tokens_are_single_use_across_processes_and_expire(
    request: pytest.FixtureRequest, store: str
) -> None:
    """Two token services stand for two API processes: with Redis, a token used by one is used
    for the other too; in embedded mode the process's one service remembers it."""
    from core.errors import AuthenticationFailed
    from core.services.realtime_tokens import RealtimeTokens, TokenHolder

    redis_url = request.getfixturevalue("redis_url") if store == "redis" else ""
    first = RealtimeTokens("secret-a", redis_url)
    issued = first.issue("user-1")
    assert await first.redeem(issued.token) == TokenHolder("user-1", "api")
    for service in (first, RealtimeTokens("secret-a", redis_url)) if redis_url else (first,):
        with pytest.raises(AuthenticationFailed, match="used already"):
            await service.redeem(issued.token)
    with pytest.raises(AuthenticationFailed, match="not valid"):
        await RealtimeTokens("secret-b", redis_url).redeem(first.issue("user-1").token)
    stale = first.issue("user-1", now=time.time() - 61)
    with pytest.raises(AuthenticationFailed, match="expired"):
        await first.redeem(stale.token)
    forged = issued.token.replace("user-1", "user-2")
    with pytest.raises(AuthenticationFailed, match="not valid"):
        await first.redeem(forged)
    dashboard = first.issue("user-1", source="web")  # the Dictate button's: counted as web use
    relabeled = first.issue("user-1", source="web").token.replace(".web.", ".api.")
    assert await first.redeem(dashboard.token) == TokenHolder("user-1", "web")
    with pytest.raises(AuthenticationFailed, match="not valid"):
        await first.redeem(relabeled)
