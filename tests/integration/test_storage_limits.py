"""Uploads are written once, jobs decode only the bytes they were billed for, storage has a quota,
and stored audio expires (issue 11, §2 and §4) — over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from core.audio.probe import probe
from core.db.base import utcnow
from core.db.models import Job, SpeechJob, TranscriptionJob, Upload
from core.errors import InputChanged
from core.jobs.retention import SweepReport, sweep
from core.jobs.runtime import ObjectFileSource
from core.storage.base import ObjectExists
from core.storage.local import LocalObjectStore
from tests.api_harness import ApiEnv, api_settings, consuming, live_api

SHORT = "en/LJ001-0002.wav"  # 1.9 s
OTHER = "en/LJ001-0008.wav"  # 1.7 s
LONG = "ru/silero-vad-ru.wav"  # about a minute


@pytest.fixture
async def idle_api(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> AsyncIterator[ApiEnv]:
    """No workers (jobs wait until ``consuming``); settings from the test's ``settings`` mark."""
    marker = request.node.get_closest_marker("settings")
    settings = api_settings(tmp_path, database_url, **(marker.kwargs if marker else {}))
    async with live_api(settings, workers=False) as env:
        yield env


async def balance(api: ApiEnv, key: str | None = None) -> int:
    status, me = await api.call("GET", "/v1/me", key=key)
    assert status == 200
    return int(me["balance"]["seconds"])


async def presign(api: ApiEnv, key: str | None = None, **body: Any) -> tuple[int, Any]:
    return await api.call("POST", "/v1/uploads/presign", key=key, json={"filename": "clip.wav", **body})


async def put(api: ApiEnv, url: str, data: bytes) -> tuple[int, Any]:
    async with api.http.put(url, data=data) as response:
        return response.status, await response.json()


async def upload_rows(api: ApiEnv, user_id: str) -> int:
    async with api.platform.db.read() as session:
        return int(await session.scalar(select(func.count()).where(Upload.user_id == user_id)) or 0)


async def _job_row(api: ApiEnv, job_id: str, kind: type[Job] = TranscriptionJob) -> Any:
    async with api.platform.db.read() as session:
        return await session.get(kind, job_id)


def stored_files(api: ApiEnv, user_id: str) -> list[Path]:
    folder = api.platform.settings.objects_dir / "uploads" / user_id
    return [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []


async def multipart(
    api: ApiEnv, clip: bytes, *, key: str | None = None, filename: str = "clip.wav", **fields: str
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("file", clip, filename=filename, content_type="application/octet-stream")
    for name, value in {"model": "whisper-1", **fields}.items():
        form.add_field(name, value)
    return await api.call("POST", "/v1/audio/transcriptions", key=key, data=form)


# --- §2: uploads are immutable once used ---------------------------------------------------------


async def test_a_used_upload_url_cannot_swap_the_file_under_a_job(
    idle_api: ApiEnv, shared_audio: Path
) -> None:
    api = idle_api
    short, long = (shared_audio / SHORT).read_bytes(), (shared_audio / LONG).read_bytes()
    before = await balance(api)
    # Given a URL (no declared size, as in the report), a 2 s clip PUT to it and a job on it
    status, grant = await presign(api)
    assert status == 200
    assert (await put(api, grant["upload_url"], short))[0] == 200
    status, job = await api.call("POST", "/v1/transcriptions", json={"object_key": grant["object_key"]})
    assert status == 201, job
    held = before - await balance(api)
    assert held == math.ceil(probe(shared_audio / SHORT).duration_seconds)

    # When a minute-long file is PUT to the same URL within its hour
    status, answer = await put(api, grant["upload_url"], long)
    # Then it is refused, and the same bytes again are answered idempotently without a rewrite
    assert status == 409 and answer["error"]["code"] == "upload_used", answer
    status, again = await put(api, grant["upload_url"], short)
    assert status == 200 and again["size_bytes"] == len(short)
    assert (await put(api, grant["upload_url"], short[:-1] + b"\x00"))[0] == 409  # same size, other bytes
    stored = await api.platform.store.stat(grant["object_key"])
    assert stored is not None and stored.size == len(short)

    # And the job bills the 2 s clip
    async with consuming(api):
        done = await api.wait(job["id"])
    assert done["status"] == "completed", done
    assert done["billed_seconds"] == held
    assert await balance(api) == before - held


async def test_a_sized_url_is_also_used_up_by_its_first_put(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    short = (shared_audio / SHORT).read_bytes()
    status, grant = await presign(api, size_bytes=len(short))
    assert (await put(api, grant["upload_url"], short))[0] == 200
    # A bigger body is "used" (409), not merely "too large": the URL is spent either way.
    status, answer = await put(api, grant["upload_url"], (shared_audio / LONG).read_bytes())
    assert status == 409 and answer["error"]["code"] == "upload_used"


async def test_two_racing_puts_cannot_both_win(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    grant = (await presign(api))[1]
    first, second = (shared_audio / SHORT).read_bytes(), (shared_audio / OTHER).read_bytes()
    answers = await asyncio.gather(*(put(api, grant["upload_url"], data) for data in (first, second)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409], answers
    winner = next(body for status, body in answers if status == 200)
    stored = await api.platform.store.stat(grant["object_key"])
    assert stored is not None and stored.sha256 == winner["sha256"]


async def test_the_worker_refuses_an_input_whose_bytes_changed(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    before = await balance(api)
    job = await api.transcribe(shared_audio / SHORT)
    assert await balance(api) < before
    # The bytes change behind the platform's back (an operator, a disk, a bug): same name, new content
    path = api.platform.store.local_path((await _job_row(api, job["id"])).object_key)
    path.write_bytes((shared_audio / OTHER).read_bytes())
    async with consuming(api):
        done = await api.wait(job["id"])
    assert done["status"] == "failed", done
    assert done["error_code"] == "input_changed" and "minutes were returned" in done["error_message"]
    assert done["billed_seconds"] in (None, 0)
    assert await balance(api) == before


# --- §4: storage quota ---------------------------------------------------------------------------


@pytest.mark.settings(storage_quota_mb=1, storage_quota_objects=3)
async def test_the_quota_is_refused_at_presign_and_put_and_shown_in_usage(idle_api: ApiEnv) -> None:
    api = idle_api
    mb = 1024 * 1024
    status, answer = await presign(api, size_bytes=mb + 1)
    assert status == 413, answer
    error = answer["error"]
    assert error["code"] == "storage_quota_exceeded" and error["quota_bytes"] == mb
    assert error["used_bytes"] == 0 and "1.0 MB" in error["message"]

    # Two URLs without a declared size: each may take what is left; the second PUT no longer fits.
    first = (await presign(api))[1]
    second = (await presign(api))[1]
    assert (await put(api, first["upload_url"], bytes(600_000)))[0] == 200
    status, answer = await put(api, second["upload_url"], bytes(600_000))
    assert status == 413 and answer["error"]["code"] == "storage_quota_exceeded", answer
    assert answer["error"]["used_bytes"] == 600_000
    assert await api.platform.store.stat(second["object_key"]) is None

    status, usage = await api.call("GET", "/v1/profile/usage")
    assert status == 200
    assert usage["storage"] == {
        "bytes_used": 600_000,
        "objects": 2,  # the completed upload and the still-usable URL
        "quota_bytes": mb,
        "quota_objects": 3,
        "upload_ttl_hours": 24,
        "retention_days": 30,
    }

    assert (await presign(api, size_bytes=10))[0] == 200  # the third object
    async with api.http.post(
        f"{api.base}/v1/uploads/presign", headers=api.auth, json={"filename": "a.wav", "size_bytes": 10}
    ) as response:
        answer = await response.json()
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    assert answer["error"]["code"] == "too_many_objects"
    assert answer["error"]["objects"] == 3 and answer["error"]["quota_objects"] == 3


@pytest.mark.settings(storage_quota_mb=1, storage_quota_objects=2)
async def test_the_multipart_routes_refuse_over_the_quota_and_keep_nothing(
    idle_api: ApiEnv, shared_audio: Path
) -> None:
    api = idle_api
    status, answer = await multipart(api, (shared_audio / LONG).read_bytes())  # 1.9 MB > 1 MB
    assert status == 413, answer
    assert answer["error"]["code"] == "storage_quota_exceeded"
    assert answer["error"]["type"] == "invalid_request_error"  # OpenAI's shape on /v1/audio
    assert stored_files(api, api.user_id) == [] and await upload_rows(api, api.user_id) == 0

    await api.upload(shared_audio / SHORT)
    await api.upload(shared_audio / OTHER)
    for path in ("/v1/audio/transcriptions", "/v1/audio/translations"):
        form = aiohttp.FormData()
        form.add_field("file", (shared_audio / SHORT).read_bytes(), filename="a.wav")
        form.add_field("model", "whisper-1")
        status, answer = await api.call("POST", path, data=form)
        assert status == 429 and answer["error"]["code"] == "too_many_objects", (path, answer)
    assert len(stored_files(api, api.user_id)) == 2 and await upload_rows(api, api.user_id) == 2


async def test_multipart_refusals_leave_nothing_stored(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    clip = (shared_audio / SHORT).read_bytes()
    # Given a user with no minutes: refused before the body is stored
    poor_id, poor_key = await api.new_user(minutes=0)
    status, answer = await multipart(api, clip, key=poor_key)
    assert status == 402 and answer["error"]["code"] == "insufficient_minutes", answer
    assert stored_files(api, poor_id) == [] and await upload_rows(api, poor_id) == 0

    # Not a format we decode: refused from its first bytes
    status, answer = await multipart(api, b"%PDF-1.7 " + bytes(5000), filename="clip.mp3")
    assert status == 400 and answer["error"]["code"] == "invalid_audio", answer
    # Refused after the file was stored (the model field comes after it): deleted again
    status, answer = await multipart(api, clip, model="gemma4-e2b-asr")
    assert status == 400 and answer["error"]["code"] == "unknown_model", answer
    # Too long for the balance: the hold is refused and the file goes too
    short_id, short_key = await api.new_user(minutes=1 / 60)
    status, answer = await multipart(api, (shared_audio / LONG).read_bytes(), key=short_key)
    assert status == 402, answer
    for user_id in (api.user_id, short_id):
        assert stored_files(api, user_id) == [] and await upload_rows(api, user_id) == 0
    async with api.platform.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Upload)) == 0


# --- §4: expiry ----------------------------------------------------------------------------------


@pytest.mark.settings(upload_ttl_hours=1, retention_days=1)
async def test_unused_uploads_expire_and_used_ones_stay(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    never_put = (await presign(api))[1]["object_key"]
    unused = await api.upload(shared_audio / SHORT)
    job = await api.transcribe(shared_audio / OTHER)
    used = (await _job_row(api, job["id"])).object_key

    assert await sweep(api.platform) == SweepReport()  # nothing is old yet

    # Two days on: the unused ones go; the input of the queued job stays (retention too: not finished)
    report = await sweep(api.platform, now=utcnow() + timedelta(days=2))
    assert sorted(report.uploads_deleted) == sorted([never_put, unused])
    assert report.inputs_expired == [] and report.results_expired == []
    assert await api.platform.store.stat(unused) is None
    assert await api.platform.store.stat(used) is not None
    assert await upload_rows(api, api.user_id) == 1
    assert (await api.call("POST", "/v1/transcriptions", json={"object_key": unused}))[0] == 404

    # A second job on the same (de-duplicated) upload keeps it while either job is unfinished
    status, second = await api.call("POST", "/v1/transcriptions", json={"object_key": used})
    assert status == 201
    assert (await api.call("POST", f"/v1/transcriptions/{job['id']}/cancel"))[0] == 200
    assert (await sweep(api.platform, now=utcnow() + timedelta(days=2))).inputs_expired == []
    assert await api.platform.store.stat(used) is not None
    assert (await api.call("POST", f"/v1/transcriptions/{second['id']}/cancel"))[0] == 200
    report = await sweep(api.platform, now=utcnow() + timedelta(days=2))
    assert sorted(report.inputs_expired) == sorted([job["id"], second["id"]])
    assert await api.platform.store.stat(used) is None and await upload_rows(api, api.user_id) == 0


@pytest.mark.settings(retention_days=30)
async def test_retention_deletes_old_audio_and_keeps_the_text(idle_api: ApiEnv, shared_audio: Path) -> None:
    api = idle_api
    job = await api.transcribe(shared_audio / SHORT)
    status, created = await api.call("POST", "/v1/tts", json={"text": "Open the door."})
    assert status == 201
    speech_id = created["job"]["id"]
    async with consuming(api):
        done = await api.wait(job["id"])
        spoken = await api.wait(speech_id, kind="tts")
    assert done["status"] == spoken["status"] == "completed"
    assert done["audio_expired"] is False and spoken["audio_expired"] is False
    speech_row = await _job_row(api, speech_id, SpeechJob)
    assert speech_row.result_size_bytes == (await api.platform.store.stat(speech_row.result_key)).size
    status, usage = await api.call("GET", "/v1/profile/usage")
    assert usage["storage"]["objects"] == 2
    assert (
        usage["storage"]["bytes_used"] == (shared_audio / SHORT).stat().st_size + speech_row.result_size_bytes
    )

    assert await sweep(api.platform, now=utcnow() + timedelta(days=29)) == SweepReport()
    report = await sweep(api.platform, now=utcnow() + timedelta(days=31))
    assert report.inputs_expired == [job["id"]] and report.results_expired == [speech_id]
    assert await api.platform.store.stat(speech_row.result_key) is None
    assert await api.platform.store.stat((await _job_row(api, job["id"])).object_key) is None

    status, read = await api.call("GET", f"/v1/transcriptions/{job['id']}")
    assert read["audio_expired"] is True and read["transcript_text"] == done["transcript_text"]
    status, tts = await api.call("GET", f"/v1/tts/{speech_id}")
    assert tts["job"]["audio_expired"] is True and tts["job"]["text"] == "Open the door."
    status, answer = await api.call("GET", f"/v1/tts/{speech_id}/download")
    assert status == 410 and answer["error"]["code"] == "audio_expired", answer
    assert "30 days" in answer["error"]["message"]
    status, usage = await api.call("GET", "/v1/profile/usage")
    assert usage["storage"]["objects"] == 0 and usage["storage"]["bytes_used"] == 0
    assert (await sweep(api.platform, now=utcnow() + timedelta(days=31))) == SweepReport()  # done once


# --- the store and the worker's check, without the API -------------------------------------------


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_the_store_never_overwrites_when_told_not_to(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    key = "uploads/u1/clip.wav"
    first = await store.put(key, _chunks(b"first"), max_bytes=100, overwrite=False)
    with pytest.raises(ObjectExists):
        await store.put(key, _chunks(b"second, longer"), max_bytes=100, overwrite=False)
    assert await store.stat(key) == first
    assert [p.name for p in (tmp_path / "uploads" / "u1").iterdir() if p.name.endswith(".part")] == []
    results = await asyncio.gather(
        *(
            store.put("uploads/u1/race", _chunks(bytes([n]) * 1000), max_bytes=10**4, overwrite=False)
            for n in range(8)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1 and all(isinstance(r, ObjectExists) for r in results if r not in winners)
    assert await store.stat("uploads/u1/race") == winners[0]


class _RemoteLike(LocalObjectStore):
    """The local store pretending to be remote: inputs are downloaded (and hashed on the way)."""

    def local_path(self, key: str) -> None:  # type: ignore[override]
        return None


@pytest.mark.parametrize("store_kind", [LocalObjectStore, _RemoteLike])
async def test_the_file_source_checks_the_pinned_bytes(
    tmp_path: Path, store_kind: type[LocalObjectStore]
) -> None:
    store = store_kind(tmp_path / "objects")
    stored = await store.put_bytes("uploads/u1/a.wav", b"RIFF" + bytes(1000))
    source = ObjectFileSource(SimpleNamespace(store=store))  # type: ignore[arg-type]
    job = TranscriptionJob(id="j1", object_key=stored.key, size_bytes=stored.size, input_sha256=stored.sha256)
    work = tmp_path / "work"
    work.mkdir()
    path = await source.fetch(job, work)
    assert path.read_bytes() == b"RIFF" + bytes(1000)
    for size, sha in ((stored.size, "0" * 64), (stored.size + 1, stored.sha256)):
        job.size_bytes, job.input_sha256 = size, sha
        with pytest.raises(InputChanged):
            await source.fetch(job, work)
