"""GET /v1/stt/realtime with Whisper: local-agreement streaming on the real tiny.en model (the
session's one, shared with the registry), real speech sent 4x faster than real time."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from asr.base import TranscriptionOptions
from tests.api_harness import ApiEnv, api_settings, live_api, sqlite_copy, usage
from tests.integration.ledger_invariant import assert_ledger_consistent
from tests.integration.test_realtime_stt import CLIP, collect, connect, pcm, send_paced
from tests.wer import wer

CONFIG = {"audio_format": "pcm_s16le", "sample_rate": 16000, "language": "en", "model": "whisper-tiny.en"}


@pytest.fixture
async def rt_whisper(
    tmp_path: Path, sqlite_template: Path, bundled_models_dir: Path, whisper_tiny_en: Any
) -> AsyncIterator[ApiEnv]:
    settings = api_settings(
        tmp_path,
        sqlite_copy(sqlite_template, tmp_path),
        asr_engine="whisper",
        whisper_model="tiny.en",
        models_dir=bundled_models_dir,
    )
    async with live_api(settings, minutes=10, workers=False) as env:
        # The registry shares loaded models by id: hand it the session's engine instead of a
        # second load of the same files.
        env.engines.asr._loaded[whisper_tiny_en.model_id] = whisper_tiny_en
        yield env


def file_text(engine: Any, audio: bytes) -> str:
    samples = np.frombuffer(audio, "<i2").astype(np.float32) / 32767.0
    _, segments = engine.transcribe(
        [samples], duration=samples.size / 16000, options=TranscriptionOptions("en")
    )
    return " ".join(s.text for s in segments)


async def test_whisper_streams_partials_and_finals_that_match_the_file(
    rt_whisper: ApiEnv, shared_audio: Path, whisper_tiny_en: Any
) -> None:
    audio = pcm(shared_audio / CLIP)
    before, _ = await usage(rt_whisper)
    ws = await connect(rt_whisper)
    await ws.send_json(CONFIG)
    reader = asyncio.create_task(collect(ws))
    last_frame_at = await send_paced(ws, audio, speed=4)
    await ws.send_bytes(b"")
    messages = await asyncio.wait_for(reader, 60)
    assert ws.close_code == 1000
    bodies = [body for _, body in messages]
    assert not any("error" in b for b in bodies), bodies
    partials = [(at, b) for at, b in messages if b.get("is_final") is False]
    finals = [b for b in bodies if b.get("is_final") is True]
    assert partials and partials[0][0] < last_frame_at  # text while the audio is still coming
    # Partials grow as words are confirmed: a later partial starts with an earlier one's first word.
    assert partials[-1][1]["text"].split()[0] == partials[0][1]["text"].split()[0]
    assert finals and all(f["end"] >= f["start"] >= 0 and f["words"] for f in finals)
    assert all(f["end"] <= len(audio) / 32000 + 0.01 for f in finals)
    live = " ".join(f["text"] for f in finals)
    expected = file_text(whisper_tiny_en, audio)
    assert wer([(expected, live)]) <= 0.05, (expected, live)
    assert bodies[-1]["finished"] is True and bodies[-1]["billed_seconds"] == math.ceil(len(audio) / 32000)
    after, held = await usage(rt_whisper)
    assert before - after == math.ceil(len(audio) / 32000) and held == 0
    assert rt_whisper.engines.asr.loaded() == ["whisper-tiny.en"]  # no second copy was loaded
    await assert_ledger_consistent(rt_whisper.platform.db)


def test_a_long_monologue_is_finalized_in_bounded_pieces(
    shared_audio: Path, whisper_tiny_en: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Speech with no pause long enough to end an utterance: the buffer is cut at confirmed words
    once it passes the limit, so no pass decodes more than about that much audio."""
    from asr.engines import live_whisper

    limit = 5  # seconds: the production limit scaled down to keep the test short
    clips = [shared_audio / CLIP, shared_audio / "en/LJ001-0004.wav"]
    audio = b"".join(pcm(c) for c in clips)
    monkeypatch.setattr(live_whisper, "MAX_LIVE_UTTERANCE_SECONDS", limit)
    recognizer = whisper_tiny_en.open_stream("en")
    longest = 0
    finals = []
    monkeypatch.setattr(live_whisper, "PAUSE_SAMPLES", 10**9)  # every cut comes from the length limit
    try:
        for offset in range(0, len(audio), 64000):  # 2 s pieces: a pass each
            finals += [r for r in recognizer.accept(audio[offset : offset + 64000]) if r.is_final]
            longest = max(longest, recognizer._buffer.size)
        finals += [r for r in recognizer.finish() if r.is_final]
    finally:
        recognizer.close()
    assert len(audio) / 32000 > 2 * limit
    assert longest <= (limit + 1.5) * 16000
    assert len(finals) >= 2 and all(a.end <= b.start + 0.05 for a, b in itertools.pairwise(finals))
    expected = " ".join(file_text(whisper_tiny_en, pcm(c)) for c in clips)
    live = " ".join(f.text for f in finals)
    assert wer([(expected, live)]) <= 0.15, (expected, [f.text for f in finals])


def test_terms_become_the_live_decoders_hotwords(whisper_tiny_en: Any) -> None:
    """As file jobs pass terms to faster-whisper (hotwords), so does every live pass."""
    recognizer = whisper_tiny_en.open_stream("en", terms=("Nagovori", "PocketSphinx"))
    try:
        assert recognizer._hotwords == "Nagovori PocketSphinx"
    finally:
        recognizer.close()
    plain = whisper_tiny_en.open_stream("en")
    assert plain._hotwords is None
    plain.close()
