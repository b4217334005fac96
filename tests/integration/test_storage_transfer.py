"""Moving real files into and out of a store: uploads from disk, downloads for engines."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.errors import NotFound
from core.storage import LocalObjectStore, fetch_to_file, file_chunks, upload_key


@pytest.fixture
def clip(shared_audio: Path) -> Path:
    clips = sorted(p for p in shared_audio.rglob("*") if p.is_file() and p.suffix in {".ogg", ".mp3", ".wav"})
    assert clips, "no audio clips in the shared folder"
    return clips[0]


async def test_clip_uploaded_from_disk_and_fetched_back_is_identical(clip: Path, tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    key = upload_key("u1", clip.name)
    original = clip.read_bytes()

    stored = await store.put(key, file_chunks(clip, chunk_size=4096), max_bytes=len(original))
    fetched = await fetch_to_file(store, key, tmp_path / "input")

    assert stored.sha256 == hashlib.sha256(original).hexdigest()
    assert fetched == stored
    assert (tmp_path / "input").read_bytes() == original
    assert key.endswith(clip.suffix.lower())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input", "objects"]  # no temp file left


async def test_fetch_replaces_an_existing_file_atomically(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    await store.put_bytes("results/u1/j1.txt", b"transcript")
    target = tmp_path / "out.txt"
    target.write_bytes(b"stale")

    await fetch_to_file(store, "results/u1/j1.txt", target)

    assert target.read_bytes() == b"transcript"


async def test_fetching_a_missing_object_leaves_nothing_behind(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")

    with pytest.raises(NotFound):
        await fetch_to_file(store, "results/u1/none.txt", tmp_path / "out.txt")

    assert list(tmp_path.iterdir()) == []
