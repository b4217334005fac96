"""The API never waits on an engine: PocketSphinx runs in engine processes in embedded mode.

Real engine, real speech: clips from the shared folder joined into one long stretch of continuous
speech (written to the test's temporary folder, never into the repo).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from asr.base import TranscriptionOptions
from asr.isolated import IsolatedAsrEngines
from asr.registry import AsrConfig, AsrEngines
from core.audio.decode import decode_pcm
from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy, usage
from tests.conftest import Clip
from tests.integration.fault_harness import continuous_speech

MAX_ANSWER_SECONDS = 1.0


def english(clips: list[Clip]) -> list[Path]:
    return [c.path for c in clips if c.language == "en"]


def shortest_english(clips: list[Clip]) -> Clip:
    return min((c for c in clips if c.language == "en"), key=lambda c: c.path.stat().st_size)


def isolated(env: ApiEnv) -> IsolatedAsrEngines:
    assert isinstance(env.engines.asr, IsolatedAsrEngines), "embedded mode isolates PocketSphinx"
    return env.engines.asr


async def until_processing(env: ApiEnv, job_id: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        _, job = await env.call("GET", f"/v1/transcriptions/{job_id}")
        if job["status"] == "processing" and isolated(env).pool.pids():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the job never started processing")


async def running_job(
    env: ApiEnv, clips: list[Clip], tmp_path: Path, seconds: float
) -> tuple[dict[str, Any], int]:
    """A job on ``seconds`` of continuous speech, once PocketSphinx decodes it; and the seconds the
    user had left before it."""
    audio = continuous_speech(english(clips), tmp_path / "long.wav", seconds)
    before, _ = await usage(env)
    job = await env.transcribe(audio)
    await until_processing(env, job["id"])
    return job, before


async def timed(env: ApiEnv, path: str) -> float:
    started = time.monotonic()
    async with env.http.get(f"{env.base}{path}", headers=env.auth) as response:
        assert response.status == 200, await response.text()
        await response.read()
    return time.monotonic() - started


@pytest.fixture
async def env(tmp_path: Path, sqlite_template: Path) -> Any:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, minutes=30) as running:
        yield running


@pytest.mark.slow
async def test_the_api_answers_while_pocketsphinx_transcribes_continuous_speech(
    env: ApiEnv, reference_clips: list[Clip], tmp_path: Path
) -> None:
    # Given half a minute of continuous speech being transcribed by PocketSphinx
    audio = continuous_speech(english(reference_clips), tmp_path / "long.wav", 30)
    job = await env.transcribe(audio)
    await until_processing(env, job["id"])
    # When we keep calling the API until the job is done
    answers: list[float] = []
    while True:
        answers += [await timed(env, "/healthz"), await timed(env, "/v1/me")]
        _, current = await env.call("GET", f"/v1/transcriptions/{job['id']}")
        if current["status"] != "processing":
            break
        await asyncio.sleep(0.05)
    # Then every answer came quickly, and the job still finished with the text
    assert len(answers) >= 20, "the job ended before the API could be sampled"
    assert max(answers) < MAX_ANSWER_SECONDS, sorted(answers)[-5:]
    assert current["status"] == "completed", current
    assert len(current["transcript_text"].split()) > 40


@pytest.mark.slow
async def test_cancelling_a_running_job_stops_the_engine_and_costs_nothing(
    env: ApiEnv, reference_clips: list[Clip], tmp_path: Path
) -> None:
    job, before = await running_job(env, reference_clips, tmp_path, 60)
    busy = set(isolated(env).pool.pids())
    # When the user cancels while PocketSphinx decodes
    started = time.monotonic()
    status, cancelled = await env.call("POST", f"/v1/transcriptions/{job['id']}/cancel")
    answered = time.monotonic() - started
    # Then the answer is immediate, the held minutes are back, and the engine process stops
    assert status == 200, cancelled
    assert answered < MAX_ANSWER_SECONDS
    for _ in range(100):  # 5 s
        if not busy & set(isolated(env).pool.pids()):
            break
        await asyncio.sleep(0.05)
    assert not busy & set(isolated(env).pool.pids()), "the engine kept decoding a cancelled job"
    final = await env.wait(job["id"])
    assert final["status"] == "cancelled" and final["billed_seconds"] == 0
    assert await usage(env) == (before, 0)


@pytest.mark.slow
async def test_a_crashed_engine_process_fails_the_job_with_a_refund_and_the_next_job_works(
    env: ApiEnv, reference_clips: list[Clip], tmp_path: Path
) -> None:
    job, before = await running_job(env, reference_clips, tmp_path, 20)
    for pid in isolated(env).pool.pids():
        os.kill(pid, signal.SIGKILL)
    failed = await env.wait(job["id"], within=20)
    assert failed["status"] == "failed", failed
    assert failed["error_code"] == "engine_failure"
    assert "engine process stopped unexpectedly" in failed["error_message"]
    assert await usage(env) == (before, 0)
    # And the next job runs in a fresh engine process
    clip = shortest_english(reference_clips)
    done = await env.wait((await env.transcribe(clip.path))["id"], within=30)
    assert done["status"] == "completed" and done["transcript_text"], done


def test_the_isolated_engine_gives_the_in_process_text_and_errors(
    reference_clips: list[Clip], tmp_path: Path
) -> None:
    config = AsrConfig(models_dir=tmp_path, default_engine="pocketsphinx")
    clip = shortest_english(reference_clips)
    engines = IsolatedAsrEngines(config, processes=1)
    try:
        texts = []
        for engine in (AsrEngines(config).get(), engines.get()):
            info, segments = engine.transcribe(
                decode_pcm(clip.path), duration=10, options=TranscriptionOptions(word_timestamps=True)
            )
            texts.append((info, list(segments)))
        assert texts[0] == texts[1]
        # Errors arrive as the same types with the same messages
        errors = []
        for engine in (AsrEngines(config).get(), engines.get()):
            with pytest.raises(Exception) as caught:
                engine.transcribe(
                    decode_pcm(clip.path), duration=10, options=TranscriptionOptions(language="ru")
                )
            errors.append((type(caught.value), str(caught.value), caught.value.details))  # type: ignore[attr-defined]
        assert errors[0] == errors[1]
        with pytest.raises(Exception) as unknown:
            engines.get("no-such-model")
        assert type(unknown.value).__name__ == "UnknownModel"
    finally:
        engines.close()
    assert engines.pool.pids() == []
