"""The API on S3-compatible storage (moto's server on loopback): uploads straight to the bucket,
checked when a job first uses them; quotas, expiry and downloads as with the local disk."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core.db.base import utcnow
from core.db.models import Upload
from core.jobs.retention import sweep
from core.storage.s3 import S3ObjectStore
from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy
from tests.s3_server import S3Server, fresh_bucket, s3_server, s3_settings

CLIP = "en/LJ001-0002.wav"  # 1.9 s: "in being comparatively modern." (PocketSphinx: "… comparatively …")


@pytest.fixture
def server() -> S3Server:
    return s3_server()


@pytest.fixture
async def s3_api(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, server: S3Server
) -> AsyncIterator[ApiEnv]:
    """A live API with in-process workers whose objects live in a fresh bucket (``settings`` mark on top)."""
    marker = request.node.get_closest_marker("settings")
    settings = api_settings(
        tmp_path,
        sqlite_copy(sqlite_template, tmp_path),
        **s3_settings(server, fresh_bucket(server)),
        **(marker.kwargs if marker else {}),
    )
    async with live_api(settings, minutes=10) as env:
        assert isinstance(env.platform.store, S3ObjectStore)
        yield env


async def presign(api: ApiEnv, data: bytes, **body: Any) -> dict[str, Any]:
    status, grant = await api.call("POST", "/v1/uploads/presign", json={"filename": "clip.wav", **body})
    assert status == 200, grant
    return dict(grant)


async def put(api: ApiEnv, url: str, data: bytes, headers: dict[str, str] | None = None) -> int:
    async with api.http.put(url, data=data, headers=headers or {}) as response:
        return response.status


def bucket_keys(server: S3Server, api: ApiEnv) -> list[str]:
    store = api.platform.store
    assert isinstance(store, S3ObjectStore)
    return [o["Key"] for o in server.client().list_objects_v2(Bucket=store.config.bucket).get("Contents", [])]


async def upload_row(api: ApiEnv, key: str) -> Upload | None:
    async with api.platform.db.read() as session:
        return await session.scalar(select(Upload).where(Upload.object_key == key))


async def test_a_file_put_straight_into_the_bucket_is_transcribed(
    s3_api: ApiEnv, server: S3Server, shared_audio: Path
) -> None:
    api = s3_api
    data = (shared_audio / CLIP).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    grant = await presign(api, data, size_bytes=len(data), content_sha256=digest, content_type="audio/wav")

    # The URL is the bucket's, with the signed headers the client must send
    assert grant["upload_url"].startswith(server.endpoint)
    assert grant["upload_headers"]["Content-Length"] == str(len(data))
    assert grant["upload_headers"]["x-amz-checksum-sha256"]
    assert await put(api, grant["upload_url"], data, grant["upload_headers"]) == 200
    pending = await upload_row(api, grant["object_key"])
    assert pending is not None and pending.uploaded_at is None  # nobody has seen it yet

    status, job = await api.call("POST", "/v1/transcriptions", json={"object_key": grant["object_key"]})
    assert status == 201, job
    row = await upload_row(api, grant["object_key"])
    assert row is not None and (row.size_bytes, row.sha256) == (len(data), digest)
    assert row.uploaded_at is not None
    done = await api.wait(job["id"])
    assert done["status"] == "completed", done
    assert "comparatively" in done["transcript_text"].lower()
    assert grant["object_key"] in bucket_keys(server, api)
    assert not any((api.platform.settings.data_dir / "objects").glob("**/*"))  # nothing on local disk

    # The same content again: de-duplicated, no second object
    again = await presign(api, data, size_bytes=len(data), content_sha256=digest)
    assert again["already_uploaded"] is True and again["object_key"] == grant["object_key"]


async def test_other_bytes_than_announced_are_refused_when_first_used(
    s3_api: ApiEnv, server: S3Server, shared_audio: Path
) -> None:
    api = s3_api
    data = (shared_audio / CLIP).read_bytes()
    # moto checks no signature, so these lying PUTs land in the bucket (AWS S3 and MinIO refuse
    # them at PUT time); the first use must refuse them anyway.
    longer = await presign(api, data, size_bytes=len(data) - 100)
    assert await put(api, longer["upload_url"], data) == 200
    other = await presign(api, data, size_bytes=len(data), content_sha256=hashlib.sha256(b"x").hexdigest())
    assert await put(api, other["upload_url"], data) == 200
    shorter = await presign(api, data, size_bytes=len(data) + 1)
    assert await put(api, shorter["upload_url"], data) == 200
    never = await presign(api, data, size_bytes=len(data))

    answers = {}
    for name, grant in {"longer": longer, "other": other, "shorter": shorter, "never": never}.items():
        status, body = await api.call("POST", "/v1/transcriptions", json={"object_key": grant["object_key"]})
        answers[name] = (status, body["error"]["code"])

    assert answers == {
        "longer": (413, "payload_too_large"),
        "other": (400, "checksum_mismatch"),
        "shorter": (400, "invalid_request"),
        "never": (400, "upload_incomplete"),
    }
    assert bucket_keys(server, api) == []  # every lying object deleted; nothing is billed
    status, me = await api.call("GET", "/v1/me")
    assert me["balance"]["seconds"] == 600 and me["balance"].get("held_seconds", 0) == 0
    # The reservations still count (the URLs work until they expire): announced sizes, 4 objects
    status, usage = await api.call("GET", "/v1/profile/usage")
    assert usage["storage"]["objects"] == 4
    assert usage["storage"]["bytes_used"] == (len(data) - 100) + len(data) + (len(data) + 1) + len(data)


async def test_a_file_without_an_announced_size_goes_through_the_api_into_the_bucket(
    s3_api: ApiEnv, server: S3Server, shared_audio: Path
) -> None:
    api = s3_api
    data = (shared_audio / CLIP).read_bytes()
    grant = await presign(api, data)
    assert grant["upload_url"].startswith(api.base) and grant["upload_headers"] == {}

    async with api.http.put(grant["upload_url"], data=data) as response:
        assert response.status == 200
        receipt = await response.json()
    async with api.http.put(grant["upload_url"], data=data[:-1] + b"x") as response:
        assert response.status == 409  # written once (upload_used)

    assert receipt["sha256"] == hashlib.sha256(data).hexdigest()
    assert bucket_keys(server, api) == [grant["object_key"]]
    head = server.client().head_object(Bucket=api.platform.settings.s3_bucket, Key=grant["object_key"])
    assert head["Metadata"]["nagovori-sha256"] == receipt["sha256"]  # sealed as it was stored
    status, job = await api.call("POST", "/v1/transcriptions", json={"object_key": grant["object_key"]})
    assert status == 201, job
    assert job["size_bytes"] == len(data)


@pytest.mark.settings(storage_quota_mb=1)
async def test_the_announced_size_is_reserved_at_presign(s3_api: ApiEnv, server: S3Server) -> None:
    api = s3_api
    first = await presign(api, b"", size_bytes=700 * 1024)
    status, refused = await api.call(
        "POST", "/v1/uploads/presign", json={"filename": "b.wav", "size_bytes": 400 * 1024}
    )
    assert status == 413 and refused["error"]["code"] == "storage_quota_exceeded", refused
    assert first["upload_url"].startswith(server.endpoint)

    # Without a size the bytes go through the API, which counts them as they arrive (as on disk)
    unsized = await presign(api, b"")
    assert unsized["upload_url"].startswith(api.base) and unsized["upload_headers"] == {}
    assert await put(api, unsized["upload_url"], b"RIFF" + bytes(500 * 1024)) == 413


@pytest.mark.settings(upload_ttl_hours=1)
async def test_unused_direct_uploads_are_swept_from_the_bucket(
    s3_api: ApiEnv, server: S3Server, shared_audio: Path
) -> None:
    api = s3_api
    data = (shared_audio / CLIP).read_bytes()
    grant = await presign(api, data, size_bytes=len(data))
    assert await put(api, grant["upload_url"], data, grant["upload_headers"]) == 200
    assert bucket_keys(server, api) == [grant["object_key"]]

    # Long after its URL expired (the grant made two hours old) the reservation still counts, as
    # its object may exist …
    async with api.platform.db.write() as session:
        await session.execute(
            update(Upload)
            .where(Upload.object_key == grant["object_key"])
            .values(created_at=utcnow() - timedelta(hours=2))
        )
    _, usage = await api.call("GET", "/v1/profile/usage")
    assert (usage["storage"]["objects"], usage["storage"]["bytes_used"]) == (1, len(data))
    report = await sweep(api.platform)

    # … until the sweep deletes row and object together
    assert report.uploads_deleted == [grant["object_key"]]
    assert bucket_keys(server, api) == [] and await upload_row(api, grant["object_key"]) is None


async def test_speech_is_downloaded_from_the_bucket(s3_api: ApiEnv, server: S3Server) -> None:
    api = s3_api
    status, created = await api.call("POST", "/v1/tts", json={"text": "Open the door.", "format": "mp3"})
    assert status == 201, created
    done = await api.wait(created["job"]["id"], kind="tts")
    assert done["status"] == "completed", done
    status, link = await api.call("GET", f"/v1/tts/{done['id']}/download")
    assert status == 200, link

    async with api.http.get(link["url"], allow_redirects=False) as response:
        assert response.status == 307
        location = response.headers["Location"]
    assert location.startswith(server.endpoint)
    async with api.http.get(link["url"]) as response:  # followed, as clients do
        assert response.status == 200
        audio = await response.read()
    assert audio[:3] == b"ID3" or audio[:2] == b"\xff\xfb" or audio[0] == 0xFF
    assert any(key.startswith("results/") for key in bucket_keys(server, api))
