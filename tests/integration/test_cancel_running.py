"""Cancelling a running job answers at once (issue 11 §7): the job is ``cancelled`` and its whole
hold is back the moment the answer arrives, while the worker is still busy with it; a ``DELETE``
of a running job is a 409 at once. The worker notices at its next heartbeat and its late result
changes nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np

from core.audio.decode import read_pcm
from core.audio.encode import encode
from tests.api_harness import ApiEnv, usage

CLIPS = [f"en/LJ001-000{i}.wav" for i in range(1, 6)]  # 34.5 s of read speech


async def test_cancelling_a_running_transcription_answers_at_once(
    api: ApiEnv, tmp_path: Path, shared_audio: Path
) -> None:
    # Given seven minutes of speech, which takes PocketSphinx far longer than this test waits
    speech = np.concatenate([read_pcm(shared_audio / clip) for clip in CLIPS] * 12)
    path = tmp_path / "long.flac"
    path.write_bytes(encode(speech, 16000, "flac"))
    _, key = await api.new_user(minutes=10)
    object_key = await api.upload(path, key=key)
    status, job = await api.call("POST", "/v1/transcriptions", key=key, json={"object_key": object_key})
    assert status == 201, job
    deadline = time.monotonic() + 60
    while job["status"] != "processing":
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)
        job = (await api.call("GET", f"/v1/transcriptions/{job['id']}", key=key))[1]
    # When it is deleted while running, that is a 409 at once
    status, answer = await api.call("DELETE", f"/v1/transcriptions/{job['id']}", key=key)
    assert status == 409 and answer["error"]["status"] == "processing", answer
    # and when it is cancelled, the answer says cancelled
    status, cancelled = await api.call("POST", f"/v1/transcriptions/{job['id']}/cancel", key=key)
    assert status == 200 and cancelled["status"] == "cancelled", cancelled
    # Then right after, the job is cancelled with nothing charged and the whole balance back,
    # although the worker had most of the audio still to go
    _, now = await api.call("GET", f"/v1/transcriptions/{job['id']}", key=key)
    assert now["status"] == "cancelled" and now["progress"] < 0.9, now
    assert now["billed_seconds"] == 0
    assert await usage(api, key) == (600, 0)
    # and the worker, once it notices, changes nothing
    await asyncio.sleep(3)
    _, later = await api.call("GET", f"/v1/transcriptions/{job['id']}", key=key)
    assert later["status"] == "cancelled" and later["billed_seconds"] == 0
    assert await usage(api, key) == (600, 0)
    # A finished job cannot be cancelled: 409
    status, answer = await api.call("POST", f"/v1/transcriptions/{job['id']}/cancel", key=key)
    assert status == 409 and answer["error"]["status"] == "cancelled", answer
