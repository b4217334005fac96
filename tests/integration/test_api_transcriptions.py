"""/v1/transcriptions over real HTTP with PocketSphinx and in-process workers: the job's life,
lists and search, ETA, subtitles, cancel and delete, and every error the reference lists."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.audio.probe import probe
from tests.api_harness import ApiEnv, api_settings, consuming, live_api, sqlite_copy

SHORT = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
LONG = "en/LJ001-0001.wav"  # 9.7 s, several segments


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


@pytest.fixture
async def api(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    marker = request.node.get_closest_marker("settings")
    settings = api_settings(
        tmp_path, sqlite_copy(sqlite_template, tmp_path), **(marker.kwargs if marker else {})
    )
    async with live_api(settings) as env:
        yield env


@pytest.fixture
async def idle_api(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[ApiEnv]:
    """No workers: jobs stay queued."""
    marker = request.node.get_closest_marker("settings")
    settings = api_settings(
        tmp_path, sqlite_copy(sqlite_template, tmp_path), **(marker.kwargs if marker else {})
    )
    async with live_api(settings, workers=False) as env:
        yield env


async def balance(api: ApiEnv) -> int:
    status, me = await api.call("GET", "/v1/me")
    assert status == 200
    return int(me["balance"]["seconds"])


async def test_a_job_is_created_transcribed_and_charged(api: ApiEnv, shared_audio: Path) -> None:
    clip = shared_audio / SHORT
    before = await balance(api)
    job = await api.transcribe(clip, language="auto", filename="call.wav")
    assert job["status"] == "queued" and job["object"] == "transcription"
    assert job["filename"] == "call.wav" and job["language"] == "auto"
    done = await api.wait(job["id"])
    assert done["status"] == "completed", done
    assert words(done["transcript_text"]) & {"being", "comparatively", "modern"}
    assert done["detected_language"] == "en"
    assert done["segments"] and all(s["end"] >= s["start"] for s in done["segments"])
    assert done["billed_seconds"] == math.ceil(probe(clip).duration_seconds)
    assert done["started_at"] and done["completed_at"] >= done["started_at"]
    assert await balance(api) == before - done["billed_seconds"]


async def test_jobs_are_listed_filtered_and_searched(api: ApiEnv, shared_audio: Path) -> None:
    first = await api.wait((await api.transcribe(shared_audio / SHORT))["id"])
    second = await api.wait((await api.transcribe(shared_audio / "en/LJ001-0008.wav"))["id"])
    status, page = await api.call("GET", "/v1/transcriptions", params={"limit": 1})
    assert status == 200 and page["count"] == 2 and [j["id"] for j in page["items"]] == [second["id"]]
    status, page = await api.call("GET", "/v1/transcriptions", params={"offset": 1})
    assert [j["id"] for j in page["items"]] == [first["id"]]
    only_first = sorted(words(first["transcript_text"]) - words(second["transcript_text"]), key=len)[-1]
    status, page = await api.call("GET", "/v1/transcriptions", params={"q": only_first.upper()})
    assert [j["id"] for j in page["items"]] == [first["id"]]
    assert (await api.call("GET", "/v1/transcriptions", params={"status": "queued"}))[1]["count"] == 0
    assert (await api.call("GET", "/v1/transcriptions", params={"status": "completed"}))[1]["count"] == 2
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert (await api.call("GET", "/v1/transcriptions", params={"from": tomorrow}))[1]["count"] == 0
    assert (await api.call("GET", "/v1/transcriptions", params={"until": tomorrow}))[1]["count"] == 2
    status, body = await api.call("GET", "/v1/transcriptions", params={"limit": 0})
    assert status == 400 and body["error"]["field"] == "limit"


async def test_subtitles_in_every_format(api: ApiEnv, shared_audio: Path) -> None:
    done = await api.wait((await api.transcribe(shared_audio / LONG))["id"])
    assert done["status"] == "completed"
    status, srt = await api.call(
        "GET", f"/v1/transcriptions/{done['id']}/subtitles", params={"format": "srt"}
    )
    assert status == 200 and srt.startswith("1\n") and " --> " in srt
    status, vtt = await api.call(
        "GET",
        f"/v1/transcriptions/{done['id']}/subtitles",
        params={"format": "vtt", "max_chars_per_line": 30},
    )
    assert vtt.startswith("WEBVTT")
    cue_lines = [line for line in vtt.splitlines()[1:] if line and "-->" not in line]
    assert cue_lines and all(len(line) <= 30 for line in cue_lines if " " in line)
    status, txt = await api.call(
        "GET", f"/v1/transcriptions/{done['id']}/subtitles", params={"format": "txt"}
    )
    assert txt.strip() == done["transcript_text"].strip()
    status, body = await api.call(
        "GET", f"/v1/transcriptions/{done['id']}/subtitles", params={"max_chars_per_line": 200}
    )
    assert status == 400 and body["error"]["field"] == "max_chars_per_line"


async def test_cancel_releases_the_hold_and_delete_archives(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    before = await balance(api)
    job = await api.transcribe(shared_audio / SHORT)
    assert await balance(api) < before
    status, body = await api.call("DELETE", f"/v1/transcriptions/{job['id']}")
    assert status == 409 and body["error"]["code"] == "conflict"
    status, cancelled = await api.call("POST", f"/v1/transcriptions/{job['id']}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled"
    assert await balance(api) == before
    status, body = await api.call("POST", f"/v1/transcriptions/{job['id']}/cancel")
    assert status == 409
    status, body = await api.call("GET", f"/v1/transcriptions/{job['id']}/subtitles")
    assert status == 409
    status, _ = await api.call("DELETE", f"/v1/transcriptions/{job['id']}")
    assert status == 204
    assert (await api.call("GET", f"/v1/transcriptions/{job['id']}"))[0] == 404
    assert (await api.call("GET", "/v1/transcriptions"))[1]["count"] == 0


async def test_eta_counts_the_queue_and_learns_from_finished_jobs(
    idle_api: ApiEnv, shared_audio: Path
) -> None:
    api = idle_api
    _, other_key = await api.new_user()
    first = await api.transcribe(shared_audio / LONG)
    object_key = await api.upload(shared_audio / SHORT, key=other_key)
    status, second = await api.call(
        "POST", "/v1/transcriptions", key=other_key, json={"object_key": object_key}
    )
    assert status == 201
    status, eta = await api.call("GET", f"/v1/transcriptions/{first['id']}/eta")
    assert status == 200 and eta["queue_position"] == 0 and eta["estimated_wait_seconds"] == 0
    assert eta["based_on_jobs"] == 0 and eta["estimated_completion_seconds"] > 0
    status, eta = await api.call("GET", f"/v1/transcriptions/{second['id']}/eta", key=other_key)
    assert eta["queue_position"] == 1 and eta["estimated_wait_seconds"] > 0
    assert (await api.call("GET", f"/v1/transcriptions/{second['id']}/eta"))[0] == 404  # not yours

    async with consuming(api):
        await api.wait(first["id"])
        await api.wait(second["id"], key=other_key)
    status, eta = await api.call("GET", f"/v1/transcriptions/{second['id']}/eta", key=other_key)
    assert eta["queue_position"] == 0 and eta["estimated_completion_seconds"] == 0
    assert eta["based_on_jobs"] == 2 and eta["realtime_factor"] > 0 and eta["average_duration_seconds"] >= 0


@pytest.mark.settings(max_audio_seconds=5, min_audio_seconds=2, max_upload_mb=1)
async def test_bad_requests_are_400_naming_the_problem(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    key = await api.upload(shared_audio / SHORT)
    cases = [
        ({}, "invalid_request", "object_key"),
        ({"object_key": key, "langauge": "en"}, "invalid_request", "langauge"),
        ({"object_key": key, "language": "english"}, "invalid_request", "language"),
        ({"object_key": key, "chunk_prompt_preset": "poetic"}, "invalid_request", "chunk_prompt_preset"),
        ({"object_key": key, "model": "gemma4-e2b-asr"}, "unknown_model", "model"),
        (
            {"object_key": key, "model": "pocketsphinx-en", "language": "ru"},
            "unsupported_language",
            "language",
        ),
        ({"object_key": "uploads/../../etc/passwd"}, "invalid_object_key", None),
    ]
    for body, code, field in cases:
        status, answer = await api.call("POST", "/v1/transcriptions", json=body)
        assert status == 400, (body, answer)
        assert answer["error"]["code"] == code and answer["error"].get("field") == field, answer
    status, answer = await api.call(
        "POST", "/v1/transcriptions", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and answer["error"]["code"] == "invalid_request"
    too_long = await api.upload(shared_audio / LONG)
    status, answer = await api.call("POST", "/v1/transcriptions", json={"object_key": too_long})
    assert (
        status == 400 and answer["error"]["code"] == "audio_too_long" and answer["error"]["max_seconds"] == 5
    )
    status, answer = await api.call("POST", "/v1/transcriptions", json={"object_key": key})
    assert (
        status == 400 and answer["error"]["code"] == "audio_too_short" and answer["error"]["min_seconds"] == 2
    )
    status, answer = await api.call(
        "POST", "/v1/uploads/presign", json={"filename": "big.wav", "size_bytes": 2 * 1024 * 1024}
    )
    assert status == 413 and answer["error"]["code"] == "payload_too_large"
    assert (await api.call("GET", "/v1/transcriptions"))[1]["count"] == 0  # nothing was created


async def test_auth_money_ownership_and_limits(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    async with api.http.get(f"{api.base}/v1/transcriptions") as response:
        assert response.status == 401 and (await response.json())["error"]["code"] == "unauthorized"
    _, poor_key = await api.new_user(minutes=0)
    key = await api.upload(shared_audio / SHORT, key=poor_key)
    status, answer = await api.call("POST", "/v1/transcriptions", key=poor_key, json={"object_key": key})
    assert status == 402, answer
    error = answer["error"]
    assert error["code"] == "insufficient_minutes"
    assert error["required_seconds"] == math.ceil(probe(shared_audio / SHORT).duration_seconds)
    assert error["available_seconds"] == 0
    # Someone else's upload and job are 404, never 403.
    status, answer = await api.call("POST", "/v1/transcriptions", json={"object_key": key})
    assert status == 404
    mine = await api.transcribe(shared_audio / SHORT)
    for path in ("", "/eta", "/stream", "/subtitles"):
        assert (await api.call("GET", f"/v1/transcriptions/{mine['id']}{path}", key=poor_key))[0] == 404
    assert (await api.call("POST", f"/v1/transcriptions/{mine['id']}/cancel", key=poor_key))[0] == 404
    assert (await api.call("DELETE", f"/v1/transcriptions/{mine['id']}", key=poor_key))[0] == 404
    assert (await api.call("GET", "/v1/transcriptions/00000000-0000-4000-8000-000000000000"))[0] == 404


@pytest.mark.settings(max_queued_jobs=1)
async def test_a_full_queue_is_429(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    await api.transcribe(shared_audio / SHORT)
    key = await api.upload(shared_audio / SHORT)
    status, answer = await api.call("POST", "/v1/transcriptions", json={"object_key": key})
    assert status == 429 and answer["error"]["code"] == "too_many_jobs"


@pytest.mark.settings(rate_limit_per_minute=3)
async def test_requests_over_the_rate_limit_are_429_with_headers(idle_api: ApiEnv) -> None:
    api = idle_api
    seen = []
    for _ in range(4):
        async with api.http.get(f"{api.base}/v1/me", headers=api.auth) as response:
            seen.append((response.status, dict(response.headers)))
    assert [s for s, _ in seen] == [200, 200, 200, 429]
    assert [h["X-RateLimit-Remaining"] for _, h in seen] == ["2", "1", "0", "0"]
    assert all(h["X-RateLimit-Limit"] == "3" for _, h in seen)
    last = seen[-1][1]
    assert 1 <= int(last["Retry-After"]) <= 60 and last["Retry-After"] == last["X-RateLimit-Reset"]
    _, other_key = await api.new_user()
    async with api.http.get(
        f"{api.base}/v1/me", headers={"Authorization": f"Bearer {other_key}"}
    ) as response:
        assert response.status == 200  # per user
    async with api.http.get(f"{api.base}/healthz") as response:
        assert response.status == 200  # not under /v1


async def test_translate_is_checked_against_the_model_before_anything_is_held(
    tmp_path: Path, sqlite_template: Path, shared_audio: Path, bundled_models_dir: Path
) -> None:
    # Given PocketSphinx as the default and the bundled Whisper models on disk (none is loaded: no workers)
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), models_dir=bundled_models_dir)
    async with live_api(settings, workers=False) as api:
        key = await api.upload(shared_audio / SHORT)
        before = await balance(api)
        cases = [
            ({"task": "summarize"}, "invalid_request", "task"),
            ({"task": "translate"}, "unsupported_task", "model"),  # the default, PocketSphinx
            ({"task": "translate", "model": "whisper-tiny.en"}, "unsupported_task", "model"),
            ({"task": "translate", "model": "whisper-1"}, "unsupported_task", "model"),
        ]
        for fields, code, field in cases:
            status, answer = await api.call("POST", "/v1/transcriptions", json={"object_key": key, **fields})
            assert status == 400, (fields, answer)
            assert answer["error"]["code"] == code and answer["error"]["field"] == field, answer
        assert "whisper-base" in answer["error"]["allowed"] and "can" in answer["error"]["message"]
        assert (await api.call("GET", "/v1/transcriptions"))[1]["count"] == 0
        assert await balance(api) == before

        # When a multilingual Whisper model is asked to translate
        job = await api.transcribe(shared_audio / SHORT, task="translate", model="whisper-base")
        # Then the job is queued with its task, its minutes held like any transcription's
        assert job["task"] == "translate" and job["model"] == "whisper-base" and job["status"] == "queued"
        status, read = await api.call("GET", f"/v1/transcriptions/{job['id']}")
        assert read["task"] == "translate"
        assert await balance(api) < before
        plain = await api.transcribe(shared_audio / SHORT)
        assert plain["task"] == "transcribe"


async def test_models_are_listed_and_retrieved_with_origin_size_and_tasks(
    tmp_path: Path, sqlite_template: Path, bundled_models_dir: Path
) -> None:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), models_dir=bundled_models_dir)
    async with live_api(settings, workers=False) as api:
        status, listing = await api.call("GET", "/v1/models")
        assert status == 200
        rows = {m["id"]: m for m in listing["data"]}
        base, tiny, sphinx = rows["whisper-base"], rows["whisper-tiny.en"], rows["pocketsphinx-en"]
        assert base["tasks"] == ["transcribe", "translate"] and "ru" in base["languages"]
        assert tiny["tasks"] == sphinx["tasks"] == ["transcribe"]
        assert all({"origin", "size_bytes", "ready", "present", "detail"} <= set(m) for m in rows.values())

        status, one = await api.call("GET", "/v1/models/whisper-base")
        assert status == 200 and one == base and one["object"] == "model"
        status, alias = await api.call("GET", "/v1/models/whisper-1")
        assert status == 200 and alias["id"] == "whisper-1" and alias["alias_of"] == "pocketsphinx-en"
        assert "pocketsphinx-en" in alias["detail"] and alias["default"] is False
        status, tts = await api.call("GET", "/v1/models/tts-1")
        assert status == 200 and tts["kind"] == "tts" and tts["alias_of"]
        status, missing = await api.call("GET", "/v1/models/gemma4-e2b-asr")
        assert status == 404 and missing["error"]["code"] == "not_found"
        assert missing["error"]["id"] == "gemma4-e2b-asr"
