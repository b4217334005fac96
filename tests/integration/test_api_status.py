"""``GET /v1/transcriptions/{id}/status`` and ``GET /v1/tts/{id}/status`` over real HTTP, on SQLite
and PostgreSQL: Prosa's shape in percent, one small query without the transcript, the stages as a
job moves (queued, running, failed, completed), and nobody else's jobs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from core.jobs import lifecycle
from core.services.transcriptions import TranscriptionRequest, request_transcription
from tests.api_harness import ApiEnv, api_settings, consuming, live_api

CLIP = "en/LJ001-0002.wav"  # 1.9 s
STALE = timedelta(minutes=5)


@pytest.fixture
async def idle_api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiEnv]:
    """No workers until a test starts them: jobs wait in the queue."""
    async with live_api(api_settings(tmp_path, database_url), workers=False) as env:
        yield env


async def status_of(env: ApiEnv, job_id: str, *, kind: str = "transcriptions", key: str | None = None) -> Any:
    status, body = await env.call("GET", f"/v1/{kind}/{job_id}/status", key=key)
    assert status == 200, body
    return body


def progress(transfer: float, transcribe: float, total: float) -> dict[str, Any]:
    return {"total": total, "details": {"transfer": transfer, "transcribe": transcribe}}


@contextlib.contextmanager
def statements_on_jobs(env: ApiEnv) -> Iterator[list[str]]:
    """The SQL the database receives that touches the jobs table, while the block runs."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "jobs" in statement:
            seen.append(statement)

    engine = env.platform.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_status_is_one_small_query_and_follows_the_job(idle_api: ApiEnv, shared_audio: Path) -> None:
    env = idle_api
    # Given an uploaded file's job waiting in the queue: the file is here, nothing is recognized.
    job = await env.transcribe(shared_audio / CLIP)
    with statements_on_jobs(env) as seen:
        body = await status_of(env, job["id"])
    assert body == {"id": job["id"], "status": "queued", "progress": progress(100.0, 0.0, 10.0)}
    assert len(seen) == 1, seen  # one query...
    assert not {"transcript_text", "segments", "text"} & set(_selected_columns(seen[0]))  # ...no transcript

    # While a worker runs it, the progress its heartbeats write shows as the transcribe stage.
    claim = await lifecycle.claim(env.platform.db, job["id"], stale_after=STALE)
    assert claim is not None
    assert await lifecycle.heartbeat(env.platform.db, claim, progress=0.42)
    assert await status_of(env, job["id"]) == {
        "id": job["id"],
        "status": "processing",
        "progress": progress(100.0, 42.0, 47.8),
    }
    # Cancelled while running, it keeps the point where it stopped.
    status, _ = await env.call("POST", f"/v1/transcriptions/{job['id']}/cancel")
    assert status == 200
    assert await status_of(env, job["id"]) == {
        "id": job["id"],
        "status": "cancelled",
        "progress": progress(100.0, 42.0, 47.8),
    }

    # A real run to the end: everything at 100.
    second = await env.transcribe(shared_audio / CLIP)
    async with consuming(env):
        done = await env.wait(second["id"])
    assert done["status"] == "completed"
    assert await status_of(env, second["id"]) == {
        "id": second["id"],
        "status": "completed",
        "progress": progress(100.0, 100.0, 100.0),
    }


async def test_input_the_worker_fetches_arrives_when_recognition_starts(idle_api: ApiEnv) -> None:
    env = idle_api
    # A Telegram voice note is still at Telegram while its job waits: nothing has arrived.
    job = await request_transcription(
        env.platform,
        env.user_id,
        TranscriptionRequest(telegram_file_id="voice-1", duration_seconds=3.0, source="telegram"),
    )
    assert await status_of(env, job.id) == {
        "id": job.id,
        "status": "queued",
        "progress": progress(0.0, 0.0, 0.0),
    }
    claim = await lifecycle.claim(env.platform.db, job.id, stale_after=STALE)
    assert claim is not None
    assert (await status_of(env, job.id))["progress"] == progress(0.0, 0.0, 0.0)  # fetching
    assert await lifecycle.heartbeat(env.platform.db, claim, progress=0.1)
    assert (await status_of(env, job.id))["progress"] == progress(100.0, 10.0, 19.0)


async def test_status_is_the_owners_only(idle_api: ApiEnv, shared_audio: Path) -> None:
    env = idle_api
    job = await env.transcribe(shared_audio / CLIP)
    _, stranger = await env.new_user()
    unknown = "00000000-0000-0000-0000-000000000000"
    for path, key in [
        (f"/v1/transcriptions/{job['id']}/status", stranger),  # someone else's
        (f"/v1/transcriptions/{unknown}/status", None),  # nobody's
        (f"/v1/tts/{job['id']}/status", None),  # not a speech job
    ]:
        status, body = await env.call("GET", path, key=key)
        assert status == 404 and body["error"]["code"] == "not_found", (path, body)
    async with env.http.get(f"{env.base}/v1/transcriptions/{job['id']}/status") as response:
        assert response.status == 401
    # Cancelled, then archived (deleted): gone for its owner too.
    status, _ = await env.call("POST", f"/v1/transcriptions/{job['id']}/cancel")
    assert status == 200
    assert (await status_of(env, job["id"]))["status"] == "cancelled"
    status, _ = await env.call("DELETE", f"/v1/transcriptions/{job['id']}")
    assert status in (200, 204)
    status, body = await env.call("GET", f"/v1/transcriptions/{job['id']}/status")
    assert status == 404, body


async def test_speech_jobs_have_one_stage(idle_api: ApiEnv) -> None:
    env = idle_api
    status, created = await env.call("POST", "/v1/tts", json={"text": "Status of a short sentence."})
    assert status == 201, created
    job_id = created["job"]["id"]
    queued = {"total": 0.0, "details": {"synthesize": 0.0}}
    assert await status_of(env, job_id, kind="tts") == {"id": job_id, "status": "queued", "progress": queued}
    async with consuming(env):
        assert (await env.wait(job_id, kind="tts"))["status"] == "completed"
    done = {"total": 100.0, "details": {"synthesize": 100.0}}
    assert await status_of(env, job_id, kind="tts") == {"id": job_id, "status": "completed", "progress": done}


def _selected_columns(statement: str) -> list[str]:
    """The column names between SELECT and FROM."""
    head = statement.split("FROM", 1)[0].removeprefix("SELECT")
    return [part.strip().rsplit(".", 1)[-1].strip('"') for part in head.split(",")]
