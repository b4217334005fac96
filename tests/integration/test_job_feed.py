"""``core.services.job_feed.follow``: the one feed of a transcription job that the SSE route, the
OpenAI-compatible routes and the bot's status message all read, with a real PocketSphinx job on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import NotFound
from core.services.job_feed import End, FeedItem, Progress, Snapshot, Tokens, follow
from core.services.transcriptions import cancel_job
from tests.api_harness import ApiEnv, api_settings, consuming, live_api

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s


@pytest.fixture
async def api(tmp_path: Path, database_url: str) -> AsyncIterator[ApiEnv]:
    """The app with its actors declared but no worker running: jobs wait until ``consuming``."""
    async with live_api(api_settings(tmp_path, database_url), workers=False) as env:
        yield env


async def test_a_job_is_followed_from_its_snapshot_through_its_tokens_to_its_end(
    api: ApiEnv, shared_audio: Path
) -> None:
    job = await api.transcribe(shared_audio / CLIP)
    items: list[FeedItem] = []
    async with contextlib.aclosing(follow(api.platform, api.user_id, job["id"], quiet_seconds=2)) as feed:
        items.append(await anext(feed))  # subscribed and read before any work starts
        async with consuming(api), asyncio.timeout(60):
            items += [item async for item in feed]

    first, last = items[0], items[-1]
    assert isinstance(first, Snapshot) and first.job.status == "queued" and first.queue_position == 0
    assert isinstance(last, End) and last.job.status == "completed" and last.job.transcript_text
    assert [isinstance(item, End) for item in items].count(True) == 1
    kinds = [type(item) for item in items]
    processing = [
        i for i, item in enumerate(items) if isinstance(item, Snapshot) and item.job.status == "processing"
    ]
    tokens = [item for item in items if isinstance(item, Tokens)]
    assert processing and tokens and processing[0] < kinds.index(Tokens)
    assert all(t.start is not None and t.end is not None and t.end >= t.start for t in tokens)
    said = set(re.findall(r"[a-z']+", " ".join(t.text for t in tokens).lower()))
    written = set(re.findall(r"[a-z']+", last.job.transcript_text.lower()))
    assert said and len(said & written) >= 0.8 * len(said)
    progress = [item.progress for item in items if isinstance(item, Progress)]
    assert progress and progress == sorted(progress) and all(0 <= p <= 1 for p in progress)


async def test_a_finished_job_yields_its_end_at_once(api: ApiEnv, shared_audio: Path) -> None:
    job = await api.transcribe(shared_audio / CLIP)
    status, _ = await api.call("POST", f"/v1/transcriptions/{job['id']}/cancel")
    assert status == 200
    feed = follow(api.platform, api.user_id, job["id"], quiet_seconds=60)
    async with contextlib.aclosing(feed), asyncio.timeout(5):  # no waiting for a quiet re-read
        items = [item async for item in feed]
    assert [type(item) for item in items] == [Snapshot, End]
    assert all(item.job.status == "cancelled" for item in items if isinstance(item, Snapshot | End))


async def test_an_end_whose_event_is_lost_is_found_by_a_quiet_re_read(
    api: ApiEnv, shared_audio: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = await api.transcribe(shared_audio / CLIP)
    feed = follow(api.platform, api.user_id, job["id"], quiet_seconds=0.2)
    async with contextlib.aclosing(feed), asyncio.timeout(10):
        first = await anext(feed)
        monkeypatch.setattr(api.platform.events, "publish", _lost)
        await cancel_job(api.platform, api.user_id, job["id"])
        rest = [item async for item in feed]
    assert isinstance(first, Snapshot) and first.job.status == "queued"
    assert all(isinstance(item, Snapshot) and item.quiet for item in rest[:-1])
    assert isinstance(rest[-1], End) and rest[-1].job.status == "cancelled"


async def test_a_queued_snapshot_says_how_many_jobs_start_before_it(api: ApiEnv, shared_audio: Path) -> None:
    await api.transcribe(shared_audio / CLIP)
    second = await api.transcribe(shared_audio / CLIP)
    async with contextlib.aclosing(follow(api.platform, api.user_id, second["id"])) as feed:
        snapshot = await anext(feed)
    assert isinstance(snapshot, Snapshot) and snapshot.queue_position == 1 and not snapshot.quiet


async def test_another_users_job_is_not_found(api: ApiEnv, shared_audio: Path) -> None:
    job = await api.transcribe(shared_audio / CLIP)
    other_id, _ = await api.new_user()
    async with contextlib.aclosing(follow(api.platform, other_id, job["id"])) as feed:
        with pytest.raises(NotFound):
            await anext(feed)


async def _lost(channel: str, event: dict[str, Any]) -> None:
    """A publish that never arrives (live events are best effort)."""
