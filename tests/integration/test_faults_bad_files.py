"""Bad files through the REST API, with the real workers and PocketSphinx: every one ends in a clear
4xx or a failed job with a clear message, nothing stays held, a forged header is never billed for
audio the file does not hold, and the workers keep working afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.audio.decode import read_pcm
from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy
from tests.integration.bad_files import SPEECH, BadFile, corpus, flac_claiming, hour_of_silence
from tests.integration.ledger_invariant import assert_ledger_consistent

MINUTES = 200  # enough for the file that claims three hours to be accepted (and billed 2 s)


@pytest.fixture
async def api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), max_queued_jobs=50)
    async with live_api(settings, minutes=MINUTES) as env:
        yield env


async def seconds_left(api: ApiEnv, key: str | None = None) -> tuple[int, int]:
    """(balance, seconds still held by unfinished jobs) of the key's user."""
    status, usage = await api.call("GET", "/v1/profile/usage", key=key)
    assert status == 200, usage
    return int(usage["remaining"]["seconds"]), int(usage["held_seconds"])


async def submit(api: ApiEnv, tmp_path: Path, bad: BadFile, key: str | None = None) -> tuple[int, Any]:
    path = tmp_path / "corpus" / bad.name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(bad.data)
    object_key = await api.upload(path, key=key)
    return await api.call("POST", "/v1/transcriptions", key=key, json={"object_key": object_key})


@pytest.mark.slow
async def test_every_bad_file_gets_a_clear_answer_and_costs_only_what_it_holds(
    api: ApiEnv, tmp_path: Path, shared_audio: Path, test_cache: Path
) -> None:
    # An hour of silence takes the engine a while to get through: it runs on its own account
    # (one job at a time per user) while the rest of the corpus goes through the other thread.
    _, quiet_key = await api.new_user(minutes=61)
    silence = hour_of_silence(test_cache)
    status, silent_job = await submit(
        api, tmp_path, BadFile("silence.flac", silence.read_bytes()), key=quiet_key
    )
    assert status == 201, silent_job
    assert silent_job["duration_seconds"] == 3600

    balance, _ = await seconds_left(api)
    charged = 0
    for bad in corpus(shared_audio):
        status, body = await submit(api, tmp_path, bad)
        if bad.refused is not None:
            assert (status, body["error"]["code"]) == bad.refused, (bad.name, body)
            assert body["error"]["message"], bad.name
            if bad.reason:
                assert body["error"]["reason"] == bad.reason, (bad.name, body)
            continue
        assert status == 201, (bad.name, body)
        job = await api.wait(body["id"], within=120)
        assert job["status"] == bad.job_status, (bad.name, job)
        if bad.error_code is not None:
            assert job["error_code"] == bad.error_code, (bad.name, job)
            assert job["error_message"], bad.name
            assert job["billed_seconds"] == 0
        if bad.billed is not None:
            assert job["billed_seconds"] == bad.billed, (bad.name, job)
            charged += bad.billed
    assert await seconds_left(api) == (balance - charged, 0)

    # A header claiming three hours, from someone with ten minutes: a 402, nothing held.
    _, poor_key = await api.new_user(minutes=10)
    forged = BadFile("three-hours.flac", flac_claiming(read_pcm(shared_audio / SPEECH), 3 * 3600))
    status, body = await submit(api, tmp_path, forged, key=poor_key)
    assert status == 402 and body["error"]["code"] == "insufficient_minutes"
    assert body["error"]["required_seconds"] == 3 * 3600
    assert await seconds_left(api, poor_key) == (600, 0)

    # The hour of silence fails with a message a person understands and gives the hour back.
    done = await api.wait(silent_job["id"], within=300, key=quiet_key)
    assert done["status"] == "failed"
    assert done["error_code"] == "invalid_audio" and "silent" in done["error_message"]
    assert await seconds_left(api, quiet_key) == (61 * 60, 0)

    # The workers survived all of it.
    job = await api.transcribe(shared_audio / SPEECH)
    assert (await api.wait(job["id"]))["status"] == "completed"
    async with api.http.get(f"{api.base}/healthz") as response:
        assert response.status == 200
    await assert_ledger_consistent(api.platform.db)


async def test_nothing_about_a_refused_file_is_left_behind(
    api: ApiEnv, tmp_path: Path, shared_audio: Path
) -> None:
    refused = [bad for bad in corpus(shared_audio) if bad.refused is not None]
    before = await seconds_left(api)
    answers = await asyncio.gather(*(submit(api, tmp_path, bad) for bad in refused))
    assert [status for status, _ in answers] == [bad.refused[0] for bad in refused if bad.refused]
    status, jobs = await api.call("GET", "/v1/transcriptions")
    assert status == 200 and jobs["count"] == 0
    assert await seconds_left(api) == before
    await assert_ledger_consistent(api.platform.db)
