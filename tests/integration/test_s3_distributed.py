"""Distributed mode with nothing shared on disk: ``nagovori serve`` and ``nagovori worker`` as real
processes, each with a data folder of its own, meeting only in PostgreSQL, Redis and one S3 bucket
(moto's server on loopback). A real clip is uploaded straight to the bucket and transcribed by the
worker; the worker's speech is downloaded through the API."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.api_harness import ServerProcess, scratch_postgres, server_processes
from tests.s3_server import fresh_bucket, s3_server, s3_settings

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern."


def wait_for(api: ServerProcess, path: str, headers: dict[str, str], *, within: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        response = requests.get(f"{api.base}{path}", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        job = body.get("job", body)
        if job["status"] in ("completed", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"{path} did not finish within {within} s:\n{api.output()}")


def objects_on_disk(folder: Path) -> list[Path]:
    return [p for p in (folder / "objects").rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.slow
def test_an_api_and_a_worker_sharing_only_a_bucket(
    tmp_path: Path, redis_url: str, shared_audio: Path
) -> None:
    server = s3_server()
    bucket = fresh_bucket(server)
    settings: dict[str, Any] = {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in s3_settings(server, bucket).items()
    }
    data = (shared_audio / CLIP).read_bytes()
    with (
        scratch_postgres() as database_url,
        server_processes(
            tmp_path,
            database_url,
            redis_url,
            separate_data_dirs=True,
            rate_limit_per_minute="10000",
            **settings,
        ) as api,
    ):
        auth = {"Authorization": f"Bearer {api.key}"}
        # The seed's flow: presign with the size, PUT straight to object storage, start the job
        grant = requests.post(
            f"{api.base}/v1/uploads/presign",
            headers=auth,
            json={"filename": "clip.wav", "content_type": "audio/wav", "size_bytes": len(data)},
            timeout=10,
        ).json()
        assert grant["upload_url"].startswith(server.endpoint), grant
        put = requests.put(grant["upload_url"], data=data, headers={"Content-Type": "audio/wav"}, timeout=10)
        assert put.status_code == 200, put.text
        created = requests.post(
            f"{api.base}/v1/transcriptions",
            headers=auth,
            json={"object_key": grant["object_key"]},
            timeout=30,
        )
        assert created.status_code == 201, created.text + api.output()
        done = wait_for(api, f"/v1/transcriptions/{created.json()['id']}", auth)
        assert done["status"] == "completed", (done, api.output())
        assert "comparatively" in done["transcript_text"].lower()
        assert done["size_bytes"] == len(data)

        # Speech made by the worker, downloaded through the API (a redirect to the bucket)
        speech = requests.post(
            f"{api.base}/v1/tts", headers=auth, json={"text": "Open the door."}, timeout=10
        )
        assert speech.status_code == 201, speech.text
        spoken = wait_for(api, f"/v1/tts/{speech.json()['job']['id']}", auth)
        assert spoken["status"] == "completed", (spoken, api.output())
        link = requests.get(f"{api.base}/v1/tts/{spoken['id']}/download", headers=auth, timeout=10).json()
        audio = requests.get(link["url"], timeout=10)
        assert audio.status_code == 200 and len(audio.content) > 1000
        assert audio.history and audio.history[0].status_code == 307  # served by the bucket

    # Each process kept its own folder, and no object landed in either
    for name in ("serve", "worker"):
        assert (tmp_path / f"{name}-data").is_dir()
        assert objects_on_disk(tmp_path / f"{name}-data") == []
    keys = [o["Key"] for o in server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert grant["object_key"] in keys and any(k.startswith("results/") for k in keys)
    stored = server.client().get_object(Bucket=bucket, Key=grant["object_key"])["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()
