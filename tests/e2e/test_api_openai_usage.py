"""What metering gateways read, through the official ``openai`` package against a live ``nagovori
serve``: ``usage`` is the seconds the request was billed (json, verbose_json, the stream's
``transcript.text.done``, translations), and ``diarized_json`` of a two-channel call built here from
two different clips: one speaker per channel, sorted by time, billed once."""

from __future__ import annotations

import math
import re
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
import requests

from core.audio.decode import SAMPLE_RATE, read_pcm
from core.audio.probe import probe
from tests.api_harness import ServerProcess, server_processes

pytestmark = pytest.mark.slow

CLIP = "en/LJ001-0002.wav"  # "in being comparatively modern." — 1.9 s: billed 2
LEFT = ("en/LJ001-0002.wav", {"being", "comparatively"})
RIGHT = ("en/pisets-test_sound_en.wav", {"neural", "networks", "good"})  # "neural networks are good"
TRANSLATE = "ru/pisets-test_sound_ru.wav"  # "нейронные сети это хорошо", 3.2 s


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, bundled_models_dir: Path) -> Iterator[ServerProcess]:
    """PocketSphinx by default; Whisper base on disk for the one translation."""
    tmp = tmp_path_factory.mktemp("openai-usage")
    database = f"sqlite+aiosqlite:///{tmp / 'nagovori.db'}"
    with server_processes(tmp, database, minutes=30, models_dir=str(bundled_models_dir)) as server:
        yield server


class Native:
    """The native API beside the SDK: the ledger and the job the SDK's request made."""

    def __init__(self, server: ServerProcess) -> None:
        self.base = server.base
        self.headers = {"Authorization": f"Bearer {server.key}"}

    def remaining(self) -> int:
        body = requests.get(f"{self.base}/v1/profile/usage", headers=self.headers, timeout=10).json()
        return int(body["remaining"]["seconds"])

    def latest_job(self) -> dict[str, Any]:
        body = requests.get(f"{self.base}/v1/transcriptions?limit=1", headers=self.headers, timeout=10).json()
        job: dict[str, Any] = body["items"][0]
        assert job["status"] == "completed", job
        return job


@pytest.fixture(scope="module")
def native(server: ServerProcess) -> Native:
    return Native(server)


@pytest.fixture(scope="module")
def stereo_call(tmp_path_factory: pytest.TempPathFactory, shared_audio: Path) -> Path:
    """Two parties, one per channel: the right speaks first, the left answers after a pause."""
    left, right = (read_pcm(shared_audio / name) for name, _ in (LEFT, RIGHT))
    answer_at = len(right) + SAMPLE_RATE  # a second of silence between the turns
    length = answer_at + len(left) + SAMPLE_RATE // 2
    channels = np.zeros((2, length), dtype=np.float32)
    channels[0, answer_at : answer_at + len(left)] = left
    channels[1, : len(right)] = right
    path = tmp_path_factory.mktemp("stereo") / "call.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(channels, -1, 1) * 32767).astype("<i2").T.tobytes())
    return path


def test_usage_is_the_billed_seconds_in_json_verbose_json_and_the_stream(
    client: openai.OpenAI, native: Native, shared_audio: Path
) -> None:
    clip = shared_audio / CLIP
    before = native.remaining()
    with clip.open("rb") as fh:
        as_json = client.audio.transcriptions.create(model="whisper-1", file=fh)
    job = native.latest_job()
    assert as_json.usage is not None and as_json.usage.type == "duration"
    assert as_json.usage.seconds == job["billed_seconds"] == math.ceil(probe(clip).duration_seconds) == 2
    assert native.remaining() == before - 2  # what usage says is what the ledger took

    with clip.open("rb") as fh:
        verbose = client.audio.transcriptions.create(
            model="whisper-1", file=fh, response_format="verbose_json"
        )
    assert verbose.usage is not None and verbose.usage.seconds == native.latest_job()["billed_seconds"]
    assert verbose.duration == pytest.approx(1.9, abs=0.05)  # the audio's length; usage is the bill

    with clip.open("rb") as fh:
        events = list(client.audio.transcriptions.create(model="whisper-1", file=fh, stream=True))
    done = events[-1]
    assert done.type == "transcript.text.done"
    # The SDK types this event's usage as tokens (OpenAI's newer models); it keeps our fields as they came.
    assert done.usage is not None
    assert done.usage.model_dump(exclude_none=True) == {
        "type": "duration",
        "seconds": native.latest_job()["billed_seconds"],
    }


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK's mark on translations
def test_a_translation_reports_its_billed_seconds(
    client: openai.OpenAI, native: Native, shared_audio: Path
) -> None:
    with (shared_audio / TRANSLATE).open("rb") as fh:
        verbose = client.audio.translations.create(
            model="whisper-base", file=fh, response_format="verbose_json"
        )
    job = native.latest_job()
    assert job["task"] == "translate"
    assert verbose.model_dump()["usage"] == {"type": "duration", "seconds": job["billed_seconds"]}
    assert job["billed_seconds"] == math.ceil(probe(shared_audio / TRANSLATE).duration_seconds)


def test_diarized_json_gives_each_channel_its_speaker_billed_once(
    client: openai.OpenAI, native: Native, stereo_call: Path
) -> None:
    before = native.remaining()
    with stereo_call.open("rb") as fh:
        result = client.audio.transcriptions.create(
            model="whisper-1", file=fh, response_format="diarized_json"
        )
    assert isinstance(result, openai.types.audio.TranscriptionDiarized)
    assert result.task == "transcribe" and result.duration == pytest.approx(
        probe(stereo_call).duration_seconds, abs=0.01
    )
    segments = result.segments
    assert {s.speaker for s in segments} == {"A", "B"}
    assert all(s.type == "transcript.text.segment" and s.start < s.end for s in segments)
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert segments[0].speaker == "B"  # the right channel spoke first, though it is transcribed second
    spoken = {speaker: words(" ".join(s.text for s in segments if s.speaker == speaker)) for speaker in "AB"}
    assert len(spoken["A"] & LEFT[1]) >= 1 and not spoken["A"] & RIGHT[1], spoken
    assert len(spoken["B"] & RIGHT[1]) >= 2 and not spoken["B"] & LEFT[1], spoken
    assert words(result.text) == spoken["A"] | spoken["B"]
    # Two channels, one recording: billed for its length once (as OpenAI bills the input audio).
    billed = math.ceil(probe(stereo_call).duration_seconds)
    assert result.usage is not None and result.usage.type == "duration"
    assert result.usage.seconds == billed == native.latest_job()["billed_seconds"]
    assert native.remaining() == before - billed


def test_diarized_stream_names_the_speakers_and_mono_is_refused(
    client: openai.OpenAI, stereo_call: Path, shared_audio: Path
) -> None:
    with stereo_call.open("rb") as fh:
        events = list(
            client.audio.transcriptions.create(
                model="whisper-1",
                file=fh,
                response_format="diarized_json",
                known_speaker_names=["Agent", "Customer"],
                stream=True,
            )
        )
    segments = [e for e in events if e.type == "transcript.text.segment"]
    assert {e.speaker for e in segments} == {"Agent", "Customer"}
    assert words(" ".join(e.text for e in segments if e.speaker == "Customer")) & RIGHT[1]
    assert (
        events[-1].type == "transcript.text.done"
        and events[-1].model_dump(exclude_none=True)["usage"]["seconds"] > 0
    )
    with (shared_audio / CLIP).open("rb") as fh, pytest.raises(openai.BadRequestError) as mono:
        client.audio.transcriptions.create(model="whisper-1", file=fh, response_format="diarized_json")
    assert mono.value.code == "mono_audio" and mono.value.body["param"] == "response_format"  # type: ignore[index]
