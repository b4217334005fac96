"""The API skeleton over real HTTP on loopback: health, auth, /v1/me, signed object URLs, errors."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from yarl import URL

from api.app import create_app
from cli.bootstrap import build_platform
from core.platform import Platform
from core.services import api_keys, uploads
from core.services.users import create_user
from core.settings import Settings


@dataclass
class Api:
    platform: Platform
    base: str
    http: ClientSession
    user_id: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[Api]:
    settings = Settings.load(data_dir=tmp_path / "data", database_url=database_url, max_upload_mb=1)
    platform = build_platform(settings)
    server = TestServer(create_app(platform), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    platform.settings.public_url = base  # signed URLs must point at this server
    user = await create_user(platform.db, starting_minutes=3)
    new_key = await api_keys.create_key(platform.db, user.id, name="tests")
    async with ClientSession() as http:
        yield Api(platform, base, http, user.id, new_key.secret)
    await server.close()


async def test_health_reports_database_and_queue(api: Api) -> None:
    async with api.http.get(f"{api.base}/healthz") as response:
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok" and body["mode"] == "embedded"
    assert body["checks"]["database"]["ok"] and body["checks"]["queue"]["broker"] == "in-process"


async def test_me_shows_the_balance(api: Api) -> None:
    async with api.http.get(f"{api.base}/v1/me", headers=api.auth) as response:
        body = await response.json()
    assert response.status == 200
    assert body["id"] == api.user_id
    assert body["balance"] == {"seconds": 180, "minutes": 3.0}
    assert body["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Basic abc", "Bearer nag_not-a-real-key", "Bearer eyJ.x.y"]
)
async def test_bad_credentials_are_401_with_a_json_error(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    async with api.http.get(f"{api.base}/v1/me", headers=headers) as response:
        body = await response.json()
    assert response.status == 401
    assert body["error"]["code"] == "unauthorized" and body["error"]["message"]


async def test_a_revoked_key_stops_working_at_once(api: Api) -> None:
    keys = await api_keys.list_keys(api.platform.db, api.user_id)
    await api_keys.revoke_key(api.platform, api.user_id, keys[0].id)
    async with api.http.get(f"{api.base}/v1/me", headers=api.auth) as response:
        assert response.status == 401


async def test_jwt_signed_with_the_secret_is_accepted(api: Api) -> None:
    secret = api.platform.settings.secret_key.get_secret_value()
    token = jwt.encode({"sub": api.user_id, "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    async with api.http.get(f"{api.base}/v1/me", headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
    expired = jwt.encode({"sub": api.user_id, "exp": int(time.time()) - 60}, secret, algorithm="HS256")
    async with api.http.get(f"{api.base}/v1/me", headers={"Authorization": f"Bearer {expired}"}) as response:
        assert response.status == 401


async def test_unknown_route_is_a_json_404(api: Api) -> None:
    async with api.http.get(f"{api.base}/nope") as response:
        body = await response.json()
    assert response.status == 404 and body["error"]["code"] == "not_found"


async def test_presigned_put_stores_the_file(api: Api) -> None:
    data = b"RIFF" + bytes(5000)
    presigned = await uploads.presign(api.platform, api.user_id, filename="a.wav", size_bytes=len(data))
    async with api.http.put(presigned.upload_url, data=data) as response:
        body = await response.json()
    assert response.status == 200, body
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    stored = await api.platform.store.stat(presigned.object_key)
    assert stored is not None and stored.size == len(data)


async def test_same_content_is_deduplicated_by_sha256(api: Api) -> None:
    data = b"some audio bytes" * 100
    digest = hashlib.sha256(data).hexdigest()
    first = await uploads.presign(api.platform, api.user_id, filename="a.mp3", content_sha256=digest)
    assert not first.already_uploaded
    async with api.http.put(first.upload_url, data=data) as response:
        assert response.status == 200
    second = await uploads.presign(api.platform, api.user_id, filename="b.mp3", content_sha256=digest)
    assert second.already_uploaded and second.object_key == first.object_key


def _tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | changes
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


async def test_tampered_or_expired_urls_are_403_and_store_nothing(api: Api) -> None:
    presigned = await uploads.presign(api.platform, api.user_id, filename="a.wav", size_bytes=10)
    query = dict(parse_qsl(urlsplit(presigned.upload_url).query))
    limit_name = next(name for name, value in query.items() if value == "10")
    expiry_name = next(name for name, value in query.items() if value.isdigit() and int(value) > 10**9)
    for url in (
        _tamper(presigned.upload_url, **{limit_name: "999999"}),
        _tamper(presigned.upload_url, **{expiry_name: str(int(time.time()) + 10**6)}),
        presigned.upload_url.replace(presigned.object_key, presigned.object_key[:-4] + ".mp3"),
    ):
        async with api.http.put(url, data=b"x" * 10) as response:
            assert response.status == 403, url
            assert (await response.json())["error"]["code"] == "forbidden"
    expired = api.platform.signer.url(api.base, "PUT", presigned.object_key, expires_at=int(time.time()) - 1)
    async with api.http.put(expired, data=b"x") as response:
        assert response.status == 403
    assert await api.platform.store.stat(presigned.object_key) is None


async def test_bodies_over_the_limit_are_413(api: Api) -> None:
    presigned = await uploads.presign(api.platform, api.user_id, filename="a.wav", size_bytes=10)
    async with api.http.put(presigned.upload_url, data=b"x" * 11) as response:
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "payload_too_large"
    assert await api.platform.store.stat(presigned.object_key) is None


async def test_presign_refuses_files_over_the_upload_limit(api: Api) -> None:
    from core.errors import PayloadTooLarge

    with pytest.raises(PayloadTooLarge):
        await uploads.presign(api.platform, api.user_id, filename="big.wav", size_bytes=2 * 1024 * 1024)


@pytest.mark.parametrize(
    "path",
    [
        "/objects/uploads/%2e%2e/%2e%2e/x",
        "/objects/uploads/..%2F..%2Fx",
        "/objects/a//b",
        "/objects/%2Fetc%2Fpasswd",
    ],
)
async def test_keys_escaping_the_store_are_400(api: Api, path: str) -> None:
    async with api.http.put(URL(f"{api.base}{path}?signature=x", encoded=True), data=b"x") as response:
        body = await response.json()
    assert response.status == 400, body
    assert body["error"]["code"] == "invalid_object_key"
