"""The object-store contract, run against both stores: the local disk (pytest's tmp_path) and S3
(moto's server on loopback, a bucket per test). Tests of the local store's own machinery (temp
files, sidecars, symlinks, folders) take ``local_store``; S3's own are in ``test_store_s3.py``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import threading
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from urllib.parse import unquote

import pytest

import core.storage.local as local_module
from core.errors import Conflict, InvalidInput, InvalidObjectKey, NotFound, PayloadTooLarge
from core.storage import ChecksumMismatch, LocalObjectStore, ObjectStore, StoredObject, read_bytes
from core.storage.s3 import S3Config, S3ObjectStore
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, fresh_bucket, s3_server

KEY = "uploads/u1/clip.ogg"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
def local_store(root: Path) -> LocalObjectStore:
    return LocalObjectStore(root)


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, root: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(root)
        return
    s3 = new_s3_store()
    yield s3
    await s3.aclose()


def new_s3_store(bucket: str | None = None) -> S3ObjectStore:
    """A store on a fresh bucket of the session's moto server."""
    server = s3_server()
    config = S3Config(
        endpoint=server.endpoint,
        bucket=bucket or fresh_bucket(server),
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        path_style=True,
    )
    return S3ObjectStore(config, seal_key=b"test-seal-key")


def leftovers(store: ObjectStore, root: Path) -> list[str]:
    """Everything the store holds: files (temp and metadata ones included) on disk; objects and
    unfinished multipart uploads in the bucket."""
    if isinstance(store, S3ObjectStore):
        client = s3_server().client()
        bucket = store.config.bucket
        objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return [o["Key"] for o in objects] + [f"multipart:{u['Key']}" for u in uploads]
    return [str(p) for p in files_under(root)]


async def stream(parts: Iterable[bytes], *, pause: bool = False) -> AsyncIterator[bytes]:
    for part in parts:
        if pause:
            await asyncio.sleep(0)  # let concurrent uploads interleave chunk by chunk
        yield part


def random_chunks(seed: int, count: int, max_size: int = 70_000) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randint(0, max_size)) for _ in range(count)]


def files_under(root: Path) -> list[Path]:
    """Every non-directory entry, dot-files (temp and metadata) included."""
    return sorted(p for p in root.rglob("*") if not p.is_dir()) if root.exists() else []


async def read_all(store: ObjectStore, key: str, **kwargs: int) -> bytes:
    async with await store.open_read(key, **kwargs) as reader:
        return b"".join([chunk async for chunk in reader])


async def test_put_stat_read_round_trip_with_many_chunks(store: ObjectStore) -> None:
    chunks = random_chunks(seed=1, count=300)
    data = b"".join(chunks)

    stored = await store.put(KEY, stream(chunks), max_bytes=len(data), content_type="audio/ogg")

    expected = StoredObject(KEY, len(data), hashlib.sha256(data).hexdigest(), "audio/ogg")
    assert stored == expected
    assert await store.stat(KEY) == expected
    assert await read_all(store, KEY, chunk_size=12_345) == data
    if isinstance(store, LocalObjectStore):
        assert store.local_path(KEY).read_bytes() == data


async def test_reader_describes_the_object_and_streams_in_chunks(store: ObjectStore) -> None:
    data = bytes(range(256)) * 1000
    await store.put_bytes(KEY, data, content_type="audio/ogg")

    async with await store.open_read(KEY, chunk_size=10_000) as reader:
        assert reader.info.size == len(data)
        assert reader.info.sha256 == hashlib.sha256(data).hexdigest()
        sizes = [len(chunk) async for chunk in reader]
    assert max(sizes) == 10_000
    assert sum(sizes) == len(data)


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [(0, None, slice(0, None)), (10, 5, slice(10, 15)), (95, 50, slice(95, 100)), (100, None, slice(0, 0))],
)
async def test_byte_ranges(store: ObjectStore, offset: int, length: int | None, expected: slice) -> None:
    data = bytes(range(100))
    await store.put_bytes(KEY, data)
    kwargs = {"offset": offset} if length is None else {"offset": offset, "length": length}

    assert await read_all(store, KEY, **kwargs) == data[expected]


async def test_empty_object(store: ObjectStore) -> None:
    stored = await store.put(KEY, stream([]), max_bytes=0)

    assert stored.size == 0
    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert await read_all(store, KEY) == b""


async def test_upload_exactly_at_the_limit_is_stored(store: ObjectStore) -> None:
    chunks = random_chunks(seed=2, count=20)
    size = sum(map(len, chunks))

    stored = await store.put(KEY, stream(chunks), max_bytes=size)

    assert stored.size == size


async def test_one_byte_over_the_limit_stores_nothing(store: ObjectStore, root: Path) -> None:
    chunks = random_chunks(seed=3, count=20)
    size = sum(map(len, chunks))

    with pytest.raises(PayloadTooLarge) as caught:
        await store.put(KEY, stream(chunks), max_bytes=size - 1)

    assert caught.value.details["max_bytes"] == size - 1
    assert await store.stat(KEY) is None
    assert leftovers(store, root) == []  # no object, no sidecar, no temp file, no part


async def test_over_the_limit_stops_reading_the_body(store: ObjectStore, root: Path) -> None:
    pulled = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * 1000

    with pytest.raises(PayloadTooLarge):
        await store.put(KEY, endless(), max_bytes=10_500)

    assert pulled == 11
    assert leftovers(store, root) == []


async def test_failed_replacement_keeps_the_previous_object(store: ObjectStore) -> None:
    await store.put_bytes(KEY, b"original")

    with pytest.raises(PayloadTooLarge):
        await store.put(KEY, stream([b"much longer content"]), max_bytes=10)
    with pytest.raises(ChecksumMismatch):
        await store.put(KEY, stream([b"other"]), max_bytes=10, expected_sha256="0" * 64)

    assert await read_all(store, KEY) == b"original"
    stat = await store.stat(KEY)
    assert stat is not None and stat.sha256 == hashlib.sha256(b"original").hexdigest()


async def test_checksum_mismatch_stores_nothing(store: ObjectStore, root: Path) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()

    with pytest.raises(InvalidInput) as caught:
        await store.put(KEY, stream([b"audio ", b"bytes"]), max_bytes=100, expected_sha256=wrong)

    assert caught.value.code == "checksum_mismatch"
    assert caught.value.details["actual_sha256"] == hashlib.sha256(b"audio bytes").hexdigest()
    assert leftovers(store, root) == []


async def test_matching_checksum_in_any_case_is_accepted(store: ObjectStore) -> None:
    digest = hashlib.sha256(b"audio bytes").hexdigest()

    stored = await store.put(
        KEY, stream([b"audio ", b"bytes"]), max_bytes=100, expected_sha256=digest.upper()
    )

    assert stored.sha256 == digest


async def test_concurrent_puts_of_one_key_leave_one_complete_object(store: ObjectStore, root: Path) -> None:
    versions = [random_chunks(seed=10 + n, count=12, max_size=40_000) for n in range(8)]
    contents = {b"".join(chunks) for chunks in versions}

    results = await asyncio.gather(
        *(store.put(KEY, stream(chunks, pause=True), max_bytes=10**7) for chunks in versions)
    )

    final = await read_all(store, KEY)
    assert final in contents
    stat = await store.stat(KEY)
    assert stat is not None
    assert (stat.size, stat.sha256) == (len(final), hashlib.sha256(final).hexdigest())
    assert {r.sha256 for r in results} == {hashlib.sha256(c).hexdigest() for c in contents}
    assert [p.name for p in files_under(root) if p.name.endswith(".part")] == []


async def test_cancelled_upload_leaves_no_temp_file(store: ObjectStore, root: Path) -> None:
    started = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield b"a" * 300_000  # more than one write block, so a write happens in a thread
        started.set()
        await asyncio.Event().wait()
        yield b""

    task = asyncio.create_task(store.put(KEY, stalls(), max_bytes=10**6))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert leftovers(store, root) == []


async def test_upload_cancelled_during_a_thread_write_is_cleaned_up_after_it(
    local_store: LocalObjectStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release = threading.Event(), threading.Event()
    real_write_all = local_module.write_all

    def slow_write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
        entered.set()
        release.wait(timeout=30)
        real_write_all(fd, data)

    monkeypatch.setattr(local_module, "write_all", slow_write_all)
    task = asyncio.create_task(local_store.put(KEY, stream([b"a" * 300_000]), max_bytes=10**6))
    await asyncio.to_thread(entered.wait, 30)

    # When the upload is cancelled while its write is still running in a thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    part_files = [p for p in files_under(root) if p.name.endswith(".part")]
    assert len(part_files) == 1  # the temp file is not pulled from under the running write
    release.set()

    # Then the temp file disappears once the write has finished
    for _ in range(3000):
        if not files_under(root):
            break
        await asyncio.sleep(0.01)
    assert files_under(root) == []


ESCAPES = [
    "../x",
    "/etc/passwd",
    "uploads/../../x",
    "a//b",
    "a\\b",
    unquote("%2e%2e/x"),
    "uploads/u1/.x.meta",
    "",
]


@pytest.mark.parametrize("key", ESCAPES)
async def test_escaping_keys_are_rejected_by_every_operation(
    store: ObjectStore, root: Path, key: str
) -> None:
    with pytest.raises(InvalidObjectKey):
        await store.put(key, stream([b"x"]), max_bytes=10)
    with pytest.raises(InvalidObjectKey):
        await store.put_bytes(key, b"x")
    with pytest.raises(InvalidObjectKey):
        await store.stat(key)
    with pytest.raises(InvalidObjectKey):
        await store.open_read(key)
    with pytest.raises(InvalidObjectKey):
        store.local_path(key)
    with pytest.raises(InvalidObjectKey):
        await store.delete(key)
    assert files_under(root.parent) == [] and leftovers(store, root) == []


async def test_symlinked_folder_inside_the_root_is_not_followed(
    local_store: LocalObjectStore, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    (root / "uploads").mkdir(parents=True)
    (root / "uploads" / "evil").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidObjectKey):
        await local_store.put("uploads/evil/x", stream([b"payload"]), max_bytes=100)
    with pytest.raises(InvalidObjectKey):
        await local_store.put("uploads/evil/deeper/x", stream([b"payload"]), max_bytes=100)
    with pytest.raises(InvalidObjectKey):
        await local_store.open_read("uploads/evil/secret")
    with pytest.raises(InvalidObjectKey):
        await local_store.stat("uploads/evil/secret")
    with pytest.raises(InvalidObjectKey):
        local_store.local_path("uploads/evil/secret")

    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


async def test_symlinked_object_is_not_read_and_is_replaced_not_followed_on_write(
    local_store: LocalObjectStore, root: Path, tmp_path: Path
) -> None:
    target = tmp_path / "passwd"
    target.write_bytes(b"root:x:0:0")
    (root / "uploads" / "u1").mkdir(parents=True)
    link = root / "uploads" / "u1" / "link"
    link.symlink_to(target)

    with pytest.raises(InvalidObjectKey):
        await local_store.open_read("uploads/u1/link")
    await local_store.put_bytes("uploads/u1/link", b"new")

    assert target.read_bytes() == b"root:x:0:0"
    assert not link.is_symlink()
    assert await read_all(local_store, "uploads/u1/link") == b"new"


async def test_missing_objects(store: ObjectStore) -> None:
    assert await store.stat(KEY) is None
    with pytest.raises(NotFound):
        await store.open_read(KEY)
    if isinstance(store, LocalObjectStore):
        with pytest.raises(NotFound):
            store.local_path(KEY)
    else:
        assert store.local_path(KEY) is None  # remote: engines download (transfer.fetch_to_file)
    await store.delete(KEY)  # deleting nothing is fine

    await store.put_bytes("uploads/u1/other", b"x")
    assert await store.stat(KEY) is None
    with pytest.raises(NotFound):
        await store.open_read(KEY)
    with pytest.raises(NotFound):
        await store.open_read("uploads/u1")  # a folder is not an object


async def test_delete_removes_object_and_metadata(store: ObjectStore, root: Path) -> None:
    await store.put_bytes(KEY, b"bytes")

    await store.delete(KEY)

    assert await store.stat(KEY) is None
    assert leftovers(store, root) == []


async def test_key_that_needs_an_object_as_folder_conflicts(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes("uploads/u1/a", b"x")
    await local_store.put_bytes("uploads/u1/b/c", b"y")

    with pytest.raises(Conflict):
        await local_store.put_bytes("uploads/u1/a/b", b"z")
    with pytest.raises(Conflict):
        await local_store.put_bytes("uploads/u1/b", b"z")
    assert await read_all(local_store, "uploads/u1/a") == b"x"


async def test_stat_does_not_trust_metadata_of_another_file(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes(KEY, b"first", content_type="audio/ogg")
    path = local_store.local_path(KEY)
    original = path.stat()
    # Given the file replaced behind the local_store's back (a restore, a crash between two renames) by one
    # of the same size and modification time: only the inode tells them apart
    replacement = path.with_name("restored")
    replacement.write_bytes(b"fifth")
    os.utime(replacement, ns=(original.st_atime_ns, original.st_mtime_ns))
    os.replace(replacement, path)

    stat = await local_store.stat(KEY)

    assert stat is not None
    assert (stat.size, stat.sha256) == (5, hashlib.sha256(b"fifth").hexdigest())
    async with await local_store.open_read(KEY) as reader:
        assert reader.info == stat


async def test_stat_notices_a_file_edited_in_place(local_store: LocalObjectStore) -> None:
    await local_store.put_bytes(KEY, b"first")
    path = local_store.local_path(KEY)
    original = path.stat()
    with path.open("r+b") as fh:  # same inode, same size, newer mtime
        fh.write(b"F")
    os.utime(path, ns=(original.st_atime_ns, original.st_mtime_ns + 1_000_000))

    stat = await local_store.stat(KEY)

    assert stat is not None and stat.sha256 == hashlib.sha256(b"First").hexdigest()


async def test_missing_or_corrupt_metadata_is_rebuilt(local_store: LocalObjectStore, root: Path) -> None:
    await local_store.put_bytes(KEY, b"payload")
    (sidecar,) = [p for p in files_under(root) if p.name.endswith(".meta")]

    for damage in (b"{not json", b"", None):
        if damage is None:
            sidecar.unlink()
        else:
            sidecar.write_bytes(damage)
        stat = await local_store.stat(KEY)
        assert stat is not None and stat.sha256 == hashlib.sha256(b"payload").hexdigest()
        assert sidecar.exists()


async def test_invalid_content_type_is_refused(store: ObjectStore, root: Path) -> None:
    with pytest.raises(InvalidInput):
        await store.put_bytes(KEY, b"x", content_type="audio/ogg\r\nX-Injected: 1")
    assert leftovers(store, root) == []


async def test_read_bytes_respects_its_limit(store: ObjectStore) -> None:
    await store.put_bytes(KEY, b"0123456789")

    assert await read_bytes(store, KEY, max_bytes=10) == b"0123456789"
    with pytest.raises(PayloadTooLarge):
        await read_bytes(store, KEY, max_bytes=9)


async def test_objects_persist_across_store_instances(local_store: LocalObjectStore, root: Path) -> None:
    stored = await local_store.put_bytes(KEY, b"durable", content_type="text/plain")

    assert await LocalObjectStore(root).stat(KEY) == stored


@pytest.mark.parametrize("kwargs", [{"offset": -1}, {"length": -1}, {"chunk_size": 0}])
async def test_impossible_ranges_are_refused(store: ObjectStore, kwargs: dict[str, int]) -> None:
    await store.put_bytes(KEY, b"x")
    with pytest.raises(ValueError):
        await store.open_read(KEY, **kwargs)
