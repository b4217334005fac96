"""Transcription is billed for the audio decoded, not for what the header claims (issue 11 §1).

Real uploads through the live API, real decoding and PocketSphinx, on SQLite and PostgreSQL: a FLAC
or MP3 whose header claims 2 s but holds 40 s is billed 40 s; a user whose balance covers only part
of it gets a transcript of that part, billed exactly the balance, marked ``truncated``; an hour of
silence that claims 2 s stops decoding where the money ends. No hold is left open, no balance goes
below zero.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.audio.decode import read_pcm
from core.audio.encode import encode
from tests.api_harness import ApiEnv, usage
from tests.integration.bad_files import flac_claiming

CLIPS = [f"en/LJ001-000{i}.wav" for i in range(1, 6)]  # 34.5 s of read speech


def long_speech(shared_audio: Path) -> np.ndarray:
    return np.concatenate([read_pcm(shared_audio / clip) for clip in CLIPS])


def mp3_claiming(pcm: np.ndarray, frames: int) -> bytes:
    """An MP3 of ``pcm`` whose Info (Xing) header says it has only ``frames`` frames."""
    data = bytearray(encode(pcm, 16000, "mp3"))
    at = max(data.find(b"Info"), data.find(b"Xing"))
    assert at > 0 and int.from_bytes(data[at + 4 : at + 8], "big") & 1, "no frame count in the tag"
    data[at + 8 : at + 12] = frames.to_bytes(4, "big")
    return bytes(data)


async def run(api: ApiEnv, tmp_path: Path, name: str, data: bytes, key: str) -> tuple[dict[str, Any], Any]:
    path = tmp_path / name
    path.write_bytes(data)
    object_key = await api.upload(path, key=key)
    status, created = await api.call("POST", "/v1/transcriptions", key=key, json={"object_key": object_key})
    assert status == 201, created
    return created, await api.wait(created["id"], within=180, key=key)


@pytest.mark.parametrize("forge", ["flac", "mp3"])
async def test_a_header_claiming_two_seconds_is_billed_for_all_it_holds(
    api: ApiEnv, tmp_path: Path, shared_audio: Path, forge: str
) -> None:
    speech = long_speech(shared_audio)
    seconds = speech.size / 16000
    data = flac_claiming(speech, 2) if forge == "flac" else mp3_claiming(speech, 58)  # 58 × 576 = 2.0 s
    _, key = await api.new_user(minutes=5)
    created, job = await run(api, tmp_path, f"forged.{forge}", data, key)
    assert created["duration_seconds"] <= 2.1  # the header's claim, which the hold was estimated from
    assert job["status"] == "completed", job
    assert job["truncated"] is False and job["notice"] is None
    assert abs(job["duration_seconds"] - seconds) < 0.1, job
    assert job["billed_seconds"] == math.ceil(job["duration_seconds"] - 1e-9)
    assert len(job["transcript_text"].split()) > 40  # the whole recording was transcribed
    assert await usage(api, key) == (300 - job["billed_seconds"], 0)


async def test_a_balance_that_runs_out_ends_the_transcript_there(
    api: ApiEnv, tmp_path: Path, shared_audio: Path
) -> None:
    speech = long_speech(shared_audio)
    _, key = await api.new_user(minutes=12 / 60)  # 12 s for 34 s of audio claiming 2 s
    _, job = await run(api, tmp_path, "forged.flac", flac_claiming(speech, 2), key)
    assert job["status"] == "completed", job
    assert job["truncated"] is True and "12 s" in job["notice"]
    assert job["billed_seconds"] == 12 and job["duration_seconds"] == 12
    assert job["segments"] and max(s["end"] for s in job["segments"]) <= 12.0 + 0.05
    # The same 12 s, recognized on their own, give the same words: nothing past the paid audio.
    _, whole = await api.new_user(minutes=5)
    _, reference = await run(
        api, tmp_path, "first12.flac", encode(speech[: 12 * 16000], 16000, "flac"), whole
    )
    assert job["transcript_text"] == reference["transcript_text"]
    assert await usage(api, key) == (0, 0)


async def test_an_hour_of_silence_claiming_two_seconds_stops_where_the_money_ends(
    api: ApiEnv, tmp_path: Path
) -> None:
    hour = np.zeros(3600 * 16000, dtype=np.float32)
    hour[::997] = 0.5  # a faint click train: not "silent", so only the balance can stop it
    _, key = await api.new_user(minutes=0.5)
    _, job = await run(api, tmp_path, "hour.flac", flac_claiming(hour, 2), key)
    assert job["status"] == "completed" and job["truncated"] is True, job
    assert job["billed_seconds"] == 30 and job["duration_seconds"] == 30
    assert await usage(api, key) == (0, 0)
