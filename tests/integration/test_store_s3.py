"""What only the S3 store has: multipart uploads, sealed metadata, conditional writes, presigned
URLs, adopting a direct upload, an unreachable server. Against moto's server on loopback; the
contract both stores share is in ``test_storage_local.py``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession

from core.errors import NotFound, PayloadTooLarge, ServiceUnavailable
from core.settings import Settings
from core.storage import ChecksumMismatch, LocalObjectStore
from core.storage.base import ObjectExists
from core.storage.factory import build_store
from core.storage.s3 import S3Config, S3ObjectStore
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server, fresh_bucket, s3_server, s3_settings

MIB = 1024 * 1024
KEY = "uploads/u1/meeting.ogg"


@pytest.fixture
def server() -> S3Server:
    return s3_server()


@pytest.fixture
async def store(server: S3Server) -> AsyncIterator[S3ObjectStore]:
    s3 = make_store(server, fresh_bucket(server))
    yield s3
    await s3.aclose()


def make_store(
    server: S3Server, bucket: str, *, seal_key: bytes = b"seal", prefix: str = ""
) -> S3ObjectStore:
    config = S3Config(
        endpoint=server.endpoint,
        bucket=bucket,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        path_style=True,
        prefix=prefix,
        part_size=5 * MIB,
    )
    return S3ObjectStore(config, seal_key=seal_key)


async def stream(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


def big_payload(seed: int, size: int) -> list[bytes]:
    """``size`` random bytes in uneven chunks (so parts never line up with chunks)."""
    data = random.Random(seed).randbytes(size)
    cuts = sorted(random.Random(seed + 1).sample(range(1, size), 40))
    return [data[a:b] for a, b in zip([0, *cuts], [*cuts, size], strict=True)]


async def http(method: str, url: str, **kwargs: Any) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) of one plain request, as a browser or curl would send it."""
    async with ClientSession() as session, session.request(method, url, **kwargs) as response:
        return response.status, await response.read(), dict(response.headers)


def bucket_state(server: S3Server, store: S3ObjectStore) -> tuple[list[str], list[str]]:
    client = server.client()
    objects = client.list_objects_v2(Bucket=store.config.bucket).get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=store.config.bucket).get("Uploads", [])
    return [o["Key"] for o in objects], [u["Key"] for u in uploads]


async def test_a_large_object_goes_up_in_parts_and_reads_back_whole_and_in_ranges(
    server: S3Server, store: S3ObjectStore
) -> None:
    chunks = big_payload(seed=1, size=12 * MIB + 12345)  # three parts
    data = b"".join(chunks)

    stored = await store.put(KEY, stream(chunks), max_bytes=len(data), content_type="audio/ogg")

    digest = hashlib.sha256(data).hexdigest()
    assert (stored.size, stored.sha256, stored.content_type) == (len(data), digest, "audio/ogg")
    assert await store.stat(KEY) == stored
    head = server.client().head_object(Bucket=store.config.bucket, Key=KEY)
    assert head["Metadata"]["nagovori-sha256"] == digest  # stamped after the parts: stat needs no hashing
    assert head["ContentType"] == "audio/ogg"
    async with await store.open_read(KEY, offset=5 * MIB - 10, length=20) as reader:
        assert reader.info == stored
        assert b"".join([c async for c in reader]) == data[5 * MIB - 10 : 5 * MIB + 10]
    assert bucket_state(server, store) == ([KEY], [])


async def test_a_large_upload_over_the_limit_or_with_another_checksum_leaves_no_parts(
    server: S3Server, store: S3ObjectStore
) -> None:
    chunks = big_payload(seed=2, size=11 * MIB)

    with pytest.raises(PayloadTooLarge):
        await store.put(KEY, stream(chunks), max_bytes=10 * MIB)
    with pytest.raises(ChecksumMismatch):
        await store.put(KEY, stream(chunks), max_bytes=20 * MIB, expected_sha256="0" * 64)

    assert await store.stat(KEY) is None
    assert bucket_state(server, store) == ([], [])  # the multipart uploads were aborted


async def test_create_only_writes_never_replace_small_or_multipart(
    server: S3Server, store: S3ObjectStore
) -> None:
    # S3 decides ``If-None-Match: *`` atomically (of racing writers exactly one wins); moto checks
    # and then writes, so only the outcome of one write after another is tested against it here.
    for key, size in (("uploads/u1/small", 1000), ("uploads/u1/large", 6 * MIB)):
        first = await store.put(key, stream([b"a" * size]), max_bytes=size, overwrite=False)
        with pytest.raises(ObjectExists):
            await store.put(key, stream([b"b" * size]), max_bytes=size, overwrite=False)
        assert await store.stat(key) == first
        async with await store.open_read(key, length=3) as reader:
            assert b"".join([c async for c in reader]) == b"aaa"
    assert sorted(bucket_state(server, store)[0]) == ["uploads/u1/large", "uploads/u1/small"]
    assert bucket_state(server, store)[1] == []  # the refused multipart upload was aborted


async def test_metadata_written_by_anyone_else_is_not_trusted(server: S3Server, store: S3ObjectStore) -> None:
    # Given an object a client wrote itself, claiming another digest (and a made-up seal)
    lie = hashlib.sha256(b"what the client claims").hexdigest()
    server.client().put_object(
        Bucket=store.config.bucket,
        Key=KEY,
        Body=b"what the client sent",
        Metadata={"nagovori-sha256": lie, "nagovori-type": "", "nagovori-seal": "f" * 64},
    )
    # And a genuine seal of another key copied onto a second object
    genuine = await store.put_bytes("uploads/u1/genuine", b"what the client claims")
    sealed = server.client().head_object(Bucket=store.config.bucket, Key="uploads/u1/genuine")["Metadata"]
    server.client().put_object(
        Bucket=store.config.bucket, Key="uploads/u1/copied", Body=b"what the client sent", Metadata=sealed
    )

    truth = hashlib.sha256(b"what the client sent").hexdigest()
    for key in (KEY, "uploads/u1/copied"):
        stat = await store.stat(key)
        assert stat is not None and (stat.size, stat.sha256) == (20, truth)
        async with await store.open_read(key) as reader:
            assert reader.info.sha256 == truth
    assert genuine.sha256 == lie  # the genuine one is trusted as sealed


async def test_a_presigned_put_signs_size_checksum_and_type(server: S3Server, store: S3ObjectStore) -> None:
    data = b"RIFF" + bytes(2000)
    digest = hashlib.sha256(data).hexdigest()

    direct = store.presign_put(KEY, size=len(data), expires_in=600, sha256=digest, content_type="audio/wav")

    signed = parse_qs(urlsplit(direct.url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", "content-type", "x-amz-checksum-sha256"} <= set(signed)
    assert direct.headers == {
        "Content-Length": str(len(data)),
        "Content-Type": "audio/wav",
        "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(digest)).decode(),
    }
    assert (await http("PUT", direct.url, data=data, headers=direct.headers))[0] == 200
    assert server.client().get_object(Bucket=store.config.bucket, Key=KEY)["Body"].read() == data
    # Only what a plain client sends is signed: no checksum or type announced, no header to add
    plain = store.presign_put("uploads/u1/plain", size=5, expires_in=600)
    assert parse_qs(urlsplit(plain.url).query)["X-Amz-SignedHeaders"][0].split(";") == [
        "content-length",
        "host",
    ]


async def test_adopting_a_direct_upload_hashes_it_once_and_seals_it(
    server: S3Server, store: S3ObjectStore, tmp_path: Path
) -> None:
    data = b"RIFF" + random.Random(3).randbytes(50_000)
    direct = store.presign_put(KEY, size=len(data), expires_in=600, content_type="audio/wav")
    assert (await http("PUT", direct.url, data=data, headers=direct.headers))[0] == 200

    with pytest.raises(PayloadTooLarge):
        await store.adopt_upload(KEY, tmp_path / "too-small", max_bytes=len(data) - 1)
    assert not (tmp_path / "too-small").exists()
    adopted = await store.adopt_upload(KEY, tmp_path / "clip.wav", max_bytes=len(data))

    assert (tmp_path / "clip.wav").read_bytes() == data
    assert (adopted.size, adopted.sha256, adopted.content_type) == (
        len(data),
        hashlib.sha256(data).hexdigest(),
        "audio/wav",
    )
    head = server.client().head_object(Bucket=store.config.bucket, Key=KEY)
    assert head["Metadata"]["nagovori-sha256"] == adopted.sha256  # sealed now
    assert await store.stat(KEY) == adopted
    with pytest.raises(NotFound):
        await store.adopt_upload("uploads/u1/never", tmp_path / "never", max_bytes=10)


async def test_a_presigned_get_downloads_the_object(store: S3ObjectStore) -> None:
    await store.put_bytes("results/u1/job.mp3", b"ID3 speech", content_type="audio/mpeg")

    url = store.presign_get("results/u1/job.mp3", expires_in=60)

    status, body, headers = await http("GET", url)
    assert (status, body) == (200, b"ID3 speech")
    assert headers["Content-Type"] == "audio/mpeg"


async def test_objects_are_found_again_by_another_process_and_under_the_prefix(server: S3Server) -> None:
    bucket = fresh_bucket(server)
    writer = make_store(server, bucket, prefix="tenant-a/")
    stored = await writer.put_bytes(KEY, b"shared bytes", content_type="audio/ogg")
    # Another process (same secret) trusts the seal; one with another secret hashes instead
    reader, stranger = (
        make_store(server, bucket, prefix="tenant-a/"),
        make_store(server, bucket, seal_key=b"x"),
    )
    try:
        assert await reader.stat(KEY) == stored
        assert server.client().list_objects_v2(Bucket=bucket)["Contents"][0]["Key"] == f"tenant-a/{KEY}"
        assert await stranger.stat(KEY) is None  # no prefix: another key
        other = make_store(server, bucket, prefix="tenant-a/", seal_key=b"x")
        got = await other.stat(KEY)
        assert got is not None and got.sha256 == stored.sha256
        await other.aclose()
    finally:
        for s3 in (writer, reader, stranger):
            await s3.aclose()


async def test_an_unreachable_server_is_a_service_error(tmp_path: Path) -> None:
    dead = S3ObjectStore(
        S3Config(
            endpoint="http://127.0.0.1:9",
            bucket="nowhere",
            access_key_id="a",
            secret_access_key="b",
            path_style=True,
        ),
        seal_key=b"seal",
    )
    try:
        with pytest.raises(ServiceUnavailable):
            await dead.stat(KEY)
    finally:
        await dead.aclose()


def test_the_settings_choose_the_store(tmp_path: Path, server: S3Server) -> None:
    local = build_store(Settings(data_dir=tmp_path, secret_key="s"))
    s3 = build_store(Settings(data_dir=tmp_path, secret_key="s", **s3_settings(server, "nagovori-x")))

    assert isinstance(local, LocalObjectStore) and local.root == tmp_path / "objects"
    assert isinstance(s3, S3ObjectStore) and s3.config.bucket == "nagovori-x" and s3.config.path_style
    with pytest.raises(ValueError, match="BUCKET"):
        build_store(Settings(data_dir=tmp_path, secret_key="s", s3_endpoint=server.endpoint))
