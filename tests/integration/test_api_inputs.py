"""``POST /v1/transcriptions`` inputs beside ``object_key`` — base64 ``audio_data``, a multipart
``file``, an ``audio_url`` the worker fetches — and ``wait: true``, over real HTTP with PocketSphinx
and in-process workers. The URLs point at a loopback file server of the test's own; the API reaches
it only where ``FETCH_ALLOW`` lets it, and every refused or failed fetch leaves the balance as it was.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from core.audio.probe import probe
from core.db.models import TranscriptionJob, Upload
from tests.api_harness import ApiEnv, api_settings, consuming, free_port, live_api, sqlite_copy, usage
from tests.integration.ledger_invariant import assert_ledger_consistent

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s
LOOPBACK_ONLY = "127.0.0.1/32"


@pytest.fixture
async def api(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    """A live API on SQLite, or on each database for a test that asks for ``database_url``;
    ``@pytest.mark.settings(...)`` overrides settings, ``workers=False`` keeps jobs queued."""
    marker = request.node.get_closest_marker("settings")
    overrides = dict(marker.kwargs) if marker else {}
    workers = overrides.pop("workers", True)
    if "database_url" in request.fixturenames:
        url = request.getfixturevalue("database_url")
    else:
        url = sqlite_copy(sqlite_template, tmp_path)
    settings = api_settings(tmp_path, url, **overrides)
    async with live_api(settings, workers=workers) as env:
        yield env


@dataclass
class FileServer:
    """A loopback HTTP server that serves the clip, and misbehaves on request."""

    base: str
    port: int


@pytest.fixture
async def files(shared_audio: Path) -> AsyncIterator[FileServer]:
    clip = (shared_audio / CLIP).read_bytes()
    app = web.Application()

    async def clip_handler(_request: web.Request) -> web.Response:
        return web.Response(body=clip, content_type="audio/wav")

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        await response.prepare(request)
        for byte in clip:  # a byte every 0.2 s: never idle long enough for the read timeout
            await response.write(bytes([byte]))
            await asyncio.sleep(0.2)
        return response

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/wav"})  # no length: chunked
        await response.prepare(request)
        await response.write(clip)
        with contextlib.suppress(ConnectionError):
            for _ in range(200):  # 200 × 64 KB: far over the test's 1 MB upload limit
                await response.write(b"\0" * 65536)
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    app.router.add_get("/clip.wav", clip_handler)
    app.router.add_get("/slow.wav", trickle)
    app.router.add_get("/endless.wav", endless)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/notes.txt", notes)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield FileServer(str(server.make_url("")).rstrip("/"), server.port or 0)
    finally:
        await server.close()


async def notes(_request: web.Request) -> web.Response:
    return web.Response(text="these are words, not sounds")


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


async def create(api: ApiEnv, **fields: Any) -> tuple[int, Any]:
    return await api.call("POST", "/v1/transcriptions", json=fields)


def file_and_url_form(path: Path) -> aiohttp.FormData:
    """A multipart form with two audio inputs: a file and an audio_url."""
    form = aiohttp.FormData()
    form.add_field("file", path.read_bytes(), filename=path.name)
    form.add_field("audio_url", "https://example.com/a.wav")
    return form


async def uploads_count(api: ApiEnv) -> int:
    async with api.platform.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Upload)) or 0)


async def jobs_count(api: ApiEnv) -> int:
    async with api.platform.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(TranscriptionJob)) or 0)


@pytest.mark.settings(fetch_allow=LOOPBACK_ONLY)
async def test_every_input_kind_is_transcribed_and_billed_once_per_file(
    database_url: str, api: ApiEnv, files: FileServer, shared_audio: Path
) -> None:
    clip = shared_audio / CLIP
    seconds = math.ceil(probe(clip).duration_seconds)
    before, _ = await usage(api)

    status, by_data = await create(api, audio_data=b64(clip), filename="clip.wav", language="en")
    assert status == 201, by_data
    form = aiohttp.FormData()
    form.add_field("file", clip.read_bytes(), filename="clip.wav", content_type="audio/wav")
    form.add_field("language", "en")
    form.add_field("terms", "modern")
    form.add_field("terms", "comparatively")
    status, by_file = await api.call("POST", "/v1/transcriptions", data=form)
    assert status == 201, by_file
    status, by_url = await create(api, audio_url=f"{files.base}/clip.wav", language="en")
    assert status == 201, by_url
    assert by_url["status"] == "queued" and by_url["duration_seconds"] is None

    for job in (by_data, by_file, by_url):
        done = await api.wait(job["id"])
        assert done["status"] == "completed", done
        assert {"being", "modern"} & set(done["transcript_text"].lower().split()), done["transcript_text"]
        assert done["billed_seconds"] == seconds, done
        assert done["filename"] == "clip.wav" and done["size_bytes"] == clip.stat().st_size
    remaining, held = await usage(api)
    assert (remaining, held) == (before - 3 * seconds, 0)
    # The same bytes three ways are one stored file (de-duplicated by SHA-256), used by three jobs.
    assert await uploads_count(api) == 1
    await assert_ledger_consistent(api.platform.db)


@pytest.mark.settings(max_audio_data_mb=1)
async def test_base64_and_input_choice_refusals_store_and_charge_nothing(
    api: ApiEnv, shared_audio: Path
) -> None:
    before = await usage(api)
    clip = b64(shared_audio / CLIP)
    over_body = "A" * (2 * 1024 * 1024)  # over the body limit: refused from Content-Length
    status, body = await create(api, audio_data=over_body)
    assert status == 413 and body["error"]["code"] == "payload_too_large", body
    just_over = "A" * (4 * ((1024 * 1024) // 3 + 100))  # within the body limit, decodes past 1 MB
    status, body = await create(api, audio_data=just_over)
    assert status == 413 and body["error"]["field"] == "audio_data", body
    for bad in ("this is not base64!", clip[:-1], "QUJD=A==", "QU-D", "QU_D"):
        status, body = await create(api, audio_data=bad)
        assert (status, body["error"]["code"], body["error"]["field"]) == (
            400,
            "invalid_request",
            "audio_data",
        )
    status, body = await create(api, audio_data=base64.b64encode(b"plain text, no audio here").decode())
    assert status == 400 and body["error"]["code"] == "invalid_audio", body

    status, body = await create(api, audio_data=clip, audio_url="https://example.com/a.wav")
    assert status == 400 and body["error"]["inputs"] == ["audio_data", "audio_url"], body
    assert "audio_data and audio_url" in body["error"]["message"]
    status, body = await create(api, language="en")
    assert status == 400 and body["error"]["inputs"] == [] and "object_key" in body["error"]["message"]
    status, body = await create(api, audio_url="https://example.com/a.wav", wait=True)
    assert status == 400 and body["error"]["field"] == "wait", body
    status, body = await api.call("POST", "/v1/transcriptions", data=file_and_url_form(shared_audio / CLIP))
    assert status == 400 and body["error"]["inputs"] == ["audio_url", "file"], body

    assert await usage(api) == before
    assert (await uploads_count(api), await jobs_count(api)) == (0, 0)

    # A refused request never deletes an upload that was there before it with the same bytes.
    object_key = await api.upload(shared_audio / CLIP)
    status, body = await api.call("POST", "/v1/transcriptions", data=file_and_url_form(shared_audio / CLIP))
    assert status == 400, body
    status, body = await create(api, audio_data=clip, model="no-such-model")
    assert status == 400 and body["error"]["code"] == "unknown_model", body
    assert await uploads_count(api) == 1
    status, job = await create(api, object_key=object_key)
    assert status == 201, job


IP_LITERALS = [
    "http://127.0.0.1:9/clip.wav",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/clip.wav",
    "http://2130706433/clip.wav",
    "http://0x7f.1/clip.wav",
    "http://[::ffff:127.0.0.1]/clip.wav",
]


async def test_urls_naming_forbidden_ip_addresses_or_other_schemes_are_refused_at_once(api: ApiEnv) -> None:
    before = await usage(api)
    for url in IP_LITERALS:
        status, body = await create(api, audio_url=url)
        assert (status, body["error"]["code"]) == (400, "address_not_allowed"), (url, body)
    for url in ("file:///etc/passwd", "ftp://example.com/a.wav", "http://user:secret@example.com/a.wav"):
        status, body = await create(api, audio_url=url)
        assert (status, body["error"]["code"]) == (400, "invalid_request"), (url, body)
    assert await usage(api) == before and await jobs_count(api) == 0


async def failed_job(api: ApiEnv, url: str) -> dict[str, Any]:
    """Create a job for ``url``, wait for it to fail, and check the hold went back."""
    before, _ = await usage(api)
    status, job = await create(api, audio_url=url)
    assert status == 201, job
    done = await api.wait(job["id"], within=30)
    assert done["status"] == "failed" and done["billed_seconds"] == 0, done
    assert await usage(api) == (before, 0)
    return done


async def test_a_name_that_resolves_to_loopback_fails_the_job_and_costs_nothing(
    api: ApiEnv, files: FileServer
) -> None:
    done = await failed_job(api, f"http://localhost:{files.port}/clip.wav")
    assert done["error_code"] == "address_not_allowed", done
    assert "non-public address" in done["error_message"]
    assert await uploads_count(api) == 0
    await assert_ledger_consistent(api.platform.db)


@pytest.mark.settings(workers=False)
async def test_the_worker_refuses_ip_literals_itself(api: ApiEnv, files: FileServer) -> None:
    """Defence in depth: URLs that reach the worker without the creation check are still refused."""
    before, _ = await usage(api)
    literals = [
        f"http://127.0.0.1:{files.port}/clip.wav",
        f"http://2130706433:{files.port}/clip.wav",
        f"http://[::1]:{files.port}/clip.wav",
    ]
    ids = []
    for url in literals:
        status, job = await create(api, audio_url=f"http://localhost:{files.port}/clip.wav")
        assert status == 201, job
        async with api.platform.db.write() as session:
            row = await session.get(TranscriptionJob, job["id"])
            assert row is not None
            row.options = {**row.options, "audio_url": url}
        ids.append(job["id"])
    async with consuming(api):
        for job_id in ids:
            done = await api.wait(job_id, within=30)
            assert (done["status"], done["error_code"]) == ("failed", "address_not_allowed"), done
    assert await usage(api) == (before, 0)
    await assert_ledger_consistent(api.platform.db)


@pytest.mark.settings(
    fetch_allow=LOOPBACK_ONLY,
    max_upload_mb=1,
    fetch_read_timeout_seconds=1,
    fetch_deadline_seconds=2,
    max_active_jobs=4,
)
async def test_failed_fetches_fail_the_job_with_the_reason_and_release_the_hold(
    database_url: str, api: ApiEnv, files: FileServer
) -> None:
    cases = {
        f"{files.base}/redirect?to=http://169.254.169.254/latest/meta-data/": "address_not_allowed",
        f"{files.base}/redirect?to=http://[::1]:{files.port}/clip.wav": "address_not_allowed",
        f"{files.base}/missing.wav": "fetch_failed",
        f"http://127.0.0.1:{free_port()}/clip.wav": "fetch_failed",  # nobody listens
        f"{files.base}/notes.txt": "invalid_audio",
        f"{files.base}/endless.wav": "payload_too_large",
        f"{files.base}/slow.wav": "fetch_timeout",
    }
    before, _ = await usage(api)
    jobs = {}
    for url in cases:
        status, job = await create(api, audio_url=url)
        assert status == 201, job
        jobs[url] = job["id"]
    for url, code in cases.items():
        done = await api.wait(jobs[url], within=60)
        assert (done["status"], done["error_code"]) == ("failed", code), (url, done)
        assert done["error_message"] and "Traceback" not in done["error_message"]
        assert done["billed_seconds"] == 0
    assert await usage(api) == (before, 0)
    assert await uploads_count(api) == 0  # nothing of a failed download stays stored
    await assert_ledger_consistent(api.platform.db)


async def test_wait_answers_with_the_finished_job(api: ApiEnv, shared_audio: Path) -> None:
    clip = shared_audio / CLIP
    status, job = await create(api, audio_data=b64(clip), wait=True)
    assert status == 200, job
    assert job["status"] == "completed" and job["transcript_text"], job
    assert job["billed_seconds"] == math.ceil(probe(clip).duration_seconds)
    status, same = await api.call("GET", f"/v1/transcriptions/{job['id']}")
    assert (status, same) == (200, job)


@pytest.mark.settings(sync_timeout=0.05)
async def test_wait_past_the_timeout_answers_202_with_the_job_to_poll(
    api: ApiEnv, shared_audio: Path
) -> None:
    status, job = await create(api, audio_data=b64(shared_audio / CLIP), wait=True)
    assert status == 202, job
    assert job["status"] in ("queued", "processing") and job["transcript_text"] is None
    assert (await api.wait(job["id"]))["status"] == "completed"


@pytest.mark.settings(sync_max_seconds=1)
async def test_wait_for_audio_longer_than_sync_max_seconds_answers_202_at_once(
    api: ApiEnv, shared_audio: Path
) -> None:
    status, job = await create(api, audio_data=b64(shared_audio / CLIP), wait=True)
    assert status == 202 and job["status"] == "queued", job
    assert (await api.wait(job["id"]))["status"] == "completed"


@pytest.mark.settings(workers=False)
async def test_a_client_that_stops_waiting_leaves_the_job_running(api: ApiEnv, shared_audio: Path) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await create(api, audio_data=b64(shared_audio / CLIP), wait=True)
    status, page = await api.call("GET", "/v1/transcriptions")
    assert status == 200 and page["count"] == 1 and page["items"][0]["status"] == "queued"
    async with consuming(api):
        done = await api.wait(page["items"][0]["id"])
    assert done["status"] == "completed" and done["transcript_text"]
    await assert_ledger_consistent(api.platform.db)


@pytest.mark.settings(fetch_allow=LOOPBACK_ONLY, max_active_jobs=4)
async def test_copies_of_one_file_arriving_together_keep_one_stored_file_and_all_run(
    database_url: str, api: ApiEnv, files: FileServer, shared_audio: Path
) -> None:
    """Copies that complete at the same moment each defer to the oldest, so one survives (never none)."""
    data = b64(shared_audio / CLIP)
    url = f"{files.base}/clip.wav"
    answers = await asyncio.gather(
        *(create(api, audio_data=data) for _ in range(3)), *(create(api, audio_url=url) for _ in range(2))
    )
    assert [status for status, _ in answers] == [201] * 5, answers
    for _, job in answers:
        assert (await api.wait(job["id"]))["status"] == "completed"
    assert await uploads_count(api) == 1
    await assert_ledger_consistent(api.platform.db)
