"""GET /v1/transcriptions/{id}/stream: Server-Sent Events from the worker to the client, with the
in-process event bus (embedded) and through Redis pub/sub."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api_harness import ApiEnv, api_settings, consuming, live_api, sqlite_copy, sse_events

CLIP = "en/LJ001-0001.wav"  # 9.7 s: several segments, so several tokens


@pytest.fixture(params=["embedded", "redis"])
async def idle_api(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[ApiEnv]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), redis_url)
    async with live_api(settings, workers=False) as env:
        yield env


@pytest.mark.slow
async def test_stream_sends_snapshot_tokens_and_done(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    job = await api.transcribe(shared_audio / CLIP)
    events: list[tuple[str | None, Any]] = []
    async with api.http.get(f"{api.base}/v1/transcriptions/{job['id']}/stream", headers=api.auth) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        stream = sse_events(response)
        events.append(await anext(stream))  # the snapshot arrives before any work starts
        async with consuming(api):
            async for event in stream:
                events.append(event)
                if event[0] == "done":
                    break
    names = [name for name, _ in events]
    assert names[0] == "update" and events[0][1]["id"] == job["id"] and events[0][1]["status"] == "queued"
    assert names[-1] == "done" and names.count("done") == 1
    final = events[-1][1]
    assert final["status"] == "completed" and final["transcript_text"]
    statuses = [data["status"] for name, data in events if name == "update"]
    assert "processing" in statuses
    progress = [data["progress"] for name, data in events if name == "update"]
    assert progress == sorted(progress)
    tokens = [data for name, data in events if name == "token"]
    assert len(tokens) >= 2 and all(len(t["text"].split()) == 1 for t in tokens)
    assert all(t["job_id"] == job["id"] and t["segment_end"] >= t["segment_start"] for t in tokens)
    said = set(re.findall(r"[a-z']+", " ".join(t["text"] for t in tokens).lower()))
    written = set(re.findall(r"[a-z']+", final["transcript_text"].lower()))
    assert len(said & written) >= 0.8 * len(said)
    # A late subscriber gets the final state at once.
    async with api.http.get(f"{api.base}/v1/transcriptions/{job['id']}/stream", headers=api.auth) as response:
        late = [event async for event in sse_events(response)]
    assert [name for name, _ in late] == ["update", "done"]
    assert late[-1][1]["transcript_text"] == final["transcript_text"]


async def test_cancelling_ends_the_stream(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    job = await api.transcribe(shared_audio / CLIP)
    async with api.http.get(f"{api.base}/v1/transcriptions/{job['id']}/stream", headers=api.auth) as response:
        stream = sse_events(response)
        first = await anext(stream)
        assert first[0] == "update"
        status, _ = await api.call("POST", f"/v1/transcriptions/{job['id']}/cancel")
        assert status == 200
        rest = [event async for event in stream]
    assert rest[-1][0] == "done" and rest[-1][1]["status"] == "cancelled"
    await asyncio.sleep(0)
