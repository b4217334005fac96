"""The account over real HTTP: /v1/me, usage, API keys, models and capabilities, uploads, admin."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy

CLIP = "en/LJ001-0002.wav"


@pytest.fixture
async def api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    """Without workers (no test here but the usage one runs a job)."""
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path), max_upload_mb=1)
    async with live_api(settings, minutes=10, workers=False) as env:
        yield env


@pytest.fixture
async def busy_api(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[ApiEnv]:
    settings = api_settings(tmp_path, sqlite_copy(sqlite_template, tmp_path))
    async with live_api(settings, minutes=10) as env:
        yield env


async def test_usage_shows_what_a_job_cost_by_channel_and_kind(busy_api: ApiEnv, shared_audio: Path) -> None:
    api = busy_api
    status, usage = await api.call("GET", "/v1/profile/usage")
    assert status == 200 and usage["used"]["seconds"] == 0 and usage["remaining"]["seconds"] == 600
    done = await api.wait((await api.transcribe(shared_audio / CLIP))["id"])
    status, usage = await api.call("GET", "/v1/profile/usage")
    billed = done["billed_seconds"]
    assert usage["used"]["seconds"] == billed > 0
    assert usage["used"]["by_channel"] == {"api": billed} and usage["used"]["by_kind"] == {"asr": billed}
    assert usage["remaining"] == {"seconds": 600 - billed, "minutes": round((600 - billed) / 60, 2)}
    assert usage["held_seconds"] == 0
    assert any(e["kind"] == "capture" and e["job_id"] == done["id"] for e in usage["recent"])
    status, me = await api.call("GET", "/v1/me")
    assert me["balance"]["seconds"] == usage["remaining"]["seconds"]
    status, usage = await api.call(
        "GET", "/v1/profile/usage", params={"since": "2000-01-01", "until": "2000-02-01"}
    )
    assert status == 200 and usage["used"]["seconds"] == 0
    status, body = await api.call(
        "GET", "/v1/profile/usage", params={"since": "2030-01-01", "until": "2000-01-01"}
    )
    assert status == 400 and body["error"]["field"] == "since"


async def test_api_keys_are_shown_once_listed_and_revoked_at_once(api: ApiEnv) -> None:
    status, created = await api.call("POST", "/v1/api-keys", json={"name": "ci"})
    assert status == 201 and created["key"].startswith("nag_") and created["name"] == "ci"
    assert created["key"].startswith(created["prefix"])
    assert (await api.call("GET", "/v1/me", key=created["key"]))[0] == 200
    status, listing = await api.call("GET", "/v1/api-keys")
    assert status == 200 and {k["name"] for k in listing["items"]} == {"ci", "tests"}
    assert all("key" not in k for k in listing["items"])
    used = next(k for k in listing["items"] if k["id"] == created["id"])
    assert used["last_used_at"] is not None and used["revoked_at"] is None
    _, other_key = await api.new_user()
    assert (await api.call("DELETE", f"/v1/api-keys/{created['id']}", key=other_key))[0] == 404
    assert (await api.call("DELETE", f"/v1/api-keys/{created['id']}"))[0] == 204
    status, body = await api.call("GET", "/v1/me", key=created["key"])
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await api.call("POST", "/v1/api-keys", json={"name": ""})
    assert status == 400 and body["error"]["field"] == "name"


async def test_models_and_capabilities_describe_the_engines(api: ApiEnv) -> None:
    status, models = await api.call("GET", "/v1/models")
    assert status == 200 and models["object"] == "list"
    by_id = {m["id"]: m for m in models["data"]}
    sphinx = by_id["pocketsphinx-en"]
    assert sphinx["kind"] == "asr" and sphinx["ready"] and sphinx["default"] and "en" in sphinx["languages"]
    assert by_id["whisper-1"]["alias_of"] == "pocketsphinx-en" and not by_id["whisper-1"]["default"]
    assert [m["id"] for m in models["data"] if m["kind"] == "asr" and m["default"]] == ["pocketsphinx-en"]
    status, caps = await api.call("GET", "/v1/capabilities")
    assert status == 200
    assert caps["asr"]["ready"] and caps["asr"]["default_model"] == "pocketsphinx-en"
    assert "pocketsphinx" in caps["asr"]["engines"] and "en" in caps["asr"]["languages"]
    assert {v["id"] for v in caps["voices"]} == {"alloy", "ash", "nova", "onyx", "echo", "shimmer", "fable"}
    assert caps["limits"]["max_upload_bytes"] == 1024 * 1024 and "sse_streaming" in caps["features"]
    status, voices = await api.call("GET", "/v1/tts/voices")
    assert status == 200 and voices["default"] == "alloy" and len(voices["voices"]) == 7


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


async def test_presigned_uploads_check_signature_size_and_checksum(api: ApiEnv, shared_audio: Path) -> None:
    data = (shared_audio / CLIP).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    body = {
        "filename": "call.wav",
        "content_type": "audio/wav",
        "size_bytes": len(data),
        "content_sha256": digest,
    }
    status, presigned = await api.call("POST", "/v1/uploads/presign", json=body)
    assert status == 200 and not presigned["already_uploaded"] and presigned["bucket"]
    assert presigned["object_key"].endswith(".wav") and presigned["expires_at"].endswith("+00:00")
    url = presigned["upload_url"]
    signature = dict(parse_qsl(urlsplit(url).query))["signature"]
    async with api.http.put(_with(url, signature=signature[:-2] + "AA"), data=data) as response:
        assert response.status == 403 and (await response.json())["error"]["code"] == "forbidden"
    async with api.http.put(url, data=data[:-1] + b"\0") as response:
        assert response.status == 400  # not the content the URL was signed for
    async with api.http.put(url, data=data) as response:  # no API key: the URL is the permission
        assert response.status == 200 and (await response.json())["sha256"] == digest
    status, again = await api.call("POST", "/v1/uploads/presign", json={**body, "filename": "copy.wav"})
    assert again["already_uploaded"] and again["object_key"] == presigned["object_key"]
    status, answer = await api.call(
        "POST", "/v1/uploads/presign", json={"filename": "x.wav", "content_sha256": "xyz"}
    )
    assert status == 400 and answer["error"]["field"] == "content_sha256"
    status, answer = await api.call("POST", "/v1/uploads/presign", json={"size_bytes": 10})
    assert status == 400 and answer["error"]["field"] == "filename"


async def test_admins_create_accounts_and_grant_minutes(api: ApiEnv) -> None:
    user_body = {"starting_minutes": 2, "name": "Jane", "email": "jane@example.com", "company_name": "Acme"}
    status, body = await api.call("POST", "/v1/admin/users", json=user_body)
    assert status == 403 and body["error"]["code"] == "forbidden"
    _, admin_key = await api.new_user(is_admin=True)
    status, created = await api.call("POST", "/v1/admin/users", key=admin_key, json=user_body)
    assert status == 201, created
    assert (
        created["user"]["profile"] == {"company_name": "Acme"}
        and created["user"]["balance"]["seconds"] == 120
    )
    new_key = created["api_key"]
    status, me = await api.call("GET", "/v1/me", key=new_key)
    assert me["name"] == "Jane" and me["balance"]["seconds"] == 120 and not me["is_admin"]
    grant = {"minutes": 1, "reason": "promo", "idempotency_key": "promo-1"}
    for _ in range(2):  # the same idempotency key grants once
        status, result = await api.call(
            "POST", f"/v1/admin/users/{me['id']}/grants", key=admin_key, json=grant
        )
        assert status == 201 and result["balance"]["seconds"] == 180
    status, body = await api.call("POST", "/v1/admin/users", key=admin_key, json=user_body)
    assert status == 409  # the e-mail is taken
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await api.call("POST", f"/v1/admin/users/{missing}/grants", key=admin_key, json=grant))[0] == 404
    status, body = await api.call(
        "POST", f"/v1/admin/users/{me['id']}/grants", key=admin_key, json={"minutes": 0}
    )
    assert status == 400 and body["error"]["field"] == "minutes"
