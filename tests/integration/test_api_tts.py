"""/v1/tts over real HTTP with espeak-ng: queued jobs and signed downloads, live streaming, billing,
and a PocketSphinx round trip of what was spoken."""

from __future__ import annotations

import io
import math
import re
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest

from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy

TEXT = "Open the door. Turn on the light."


@pytest.fixture
async def api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    async with live_api(api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path)), minutes=10) as env:
        yield env


@pytest.fixture
async def idle_api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, minutes=10, workers=False) as env:
        yield env


def duration_of(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.rate


async def balance(api: ApiEnv) -> int:
    return int((await api.call("GET", "/v1/me"))[1]["balance"]["seconds"])


async def recognized(api: ApiEnv, audio: bytes, tmp_path: Path) -> set[str]:
    """What PocketSphinx hears in ``audio``, through the API itself."""
    path = tmp_path / "spoken.mp3"
    path.write_bytes(audio)
    done = await api.wait((await api.transcribe(path))["id"])
    assert done["status"] == "completed", done
    return set(re.findall(r"[a-z]+", done["transcript_text"].lower()))


async def test_a_queued_job_is_synthesized_downloaded_and_charged(api: ApiEnv, tmp_path: Path) -> None:
    before = await balance(api)
    status, created = await api.call("POST", "/v1/tts", json={"text": TEXT, "voice": "nova", "format": "mp3"})
    assert status == 201, created
    job = created["job"]
    assert job["status"] == "queued" and job["voice"] == "nova" and job["object"] == "tts_job"
    done = await api.wait(job["id"], kind="tts")
    assert done["status"] == "completed", done
    assert done["billed_seconds"] == math.ceil(done["audio_seconds"]) > 0
    status, link = await api.call("GET", f"/v1/tts/{job['id']}/download")
    assert status == 200 and link["content_type"] == "audio/mpeg"
    async with api.http.get(link["url"]) as response:  # signed: no key
        assert response.status == 200
        audio = await response.read()
    assert abs(duration_of(audio) - done["audio_seconds"]) < 0.2
    async with api.http.get(link["url"].replace("signature=", "signature=x")) as response:
        assert response.status == 403
    status, listing = await api.call("GET", "/v1/tts")
    assert listing["count"] == 1 and listing["items"][0]["id"] == job["id"]
    heard = await recognized(api, audio, tmp_path)
    assert heard & {"open", "door", "turn", "light"}, heard
    spent_on_speech = done["billed_seconds"]
    assert await balance(api) < before - spent_on_speech + 1  # speech, then the round trip, were charged


async def test_streaming_sends_audio_as_it_is_made_and_bills_it(api: ApiEnv, tmp_path: Path) -> None:
    before = await balance(api)
    async with api.http.post(f"{api.base}/v1/tts/stream", headers=api.auth, json={"text": TEXT}) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "audio/mpeg"
        assert response.headers.get("Transfer-Encoding") == "chunked"
        job_id = response.headers["X-Nagovori-Job-Id"]
        audio = b"".join([chunk async for chunk in response.content.iter_any()])
    seconds = duration_of(audio)
    assert seconds > 1
    status, body = await api.call("GET", f"/v1/tts/{job_id}")
    job = body["job"]
    assert job["status"] == "completed" and job["streamed"]
    assert (
        job["billed_seconds"] == math.ceil(job["audio_seconds"]) and abs(job["audio_seconds"] - seconds) < 0.2
    )
    assert await balance(api) == before - job["billed_seconds"]
    status, link = await api.call("GET", f"/v1/tts/{job_id}/download")
    async with api.http.get(link["url"]) as response:  # the streamed audio is kept like a queued job's
        assert status == 200 and await response.read() == audio
    heard = await recognized(api, audio, tmp_path)
    assert heard & {"open", "door", "turn", "light"}, heard


async def test_bad_speech_requests_fail_before_anything_is_charged(idle_api: ApiEnv) -> None:
    api = idle_api
    before = await balance(api)
    cases = [
        ({"text": "x" * 5001}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "hello", "voice": "mermaid"}, "voice"),
        ({"text": "hello", "format": "ogg"}, "format"),
        ({"text": "hello", "speed": 5}, "speed"),
        ({"voice": "alloy"}, "text"),
    ]
    for path in ("/v1/tts", "/v1/tts/stream"):
        for body, field in cases:
            status, answer = await api.call("POST", path, json=body)
            assert status == 400, (path, body, answer)
            assert answer["error"]["field"] == field, (path, body, answer)
    assert await balance(api) == before
    _, poor_key = await api.new_user(minutes=0)
    for path in ("/v1/tts", "/v1/tts/stream"):
        status, answer = await api.call("POST", path, key=poor_key, json={"text": TEXT})
        assert status == 402 and answer["error"]["code"] == "insufficient_minutes", answer
    status, created = await api.call("POST", "/v1/tts", json={"text": TEXT})
    job_id = created["job"]["id"]
    status, answer = await api.call("GET", f"/v1/tts/{job_id}/download")
    assert status == 409 and answer["error"]["status"] == "queued"
    for path in (f"/v1/tts/{job_id}", f"/v1/tts/{job_id}/download"):
        assert (await api.call("GET", path, key=poor_key))[0] == 404
